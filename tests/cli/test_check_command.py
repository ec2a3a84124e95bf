"""``seawall check`` as a user runs it: exit codes, the table, JSON, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REFERENCE_ENV


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in REFERENCE_ENV}
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
        check=False,
    )


def test_reference_is_valid_with_variables(reference_path: Path) -> None:
    """The contract checks clean: exit 0 and a table of the integrations."""
    result = _run("check", "--no-import", "-c", str(reference_path), env=REFERENCE_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    for word in ("payments", "stripe (primary)", "adyen (backup)", "critical", "5m", "1m", "queue"):
        assert word in result.stdout


def test_reference_without_variables_names_each(reference_path: Path) -> None:
    """Unset variables exit 2 and each is named, with file and line, never a value."""
    result = _run("check", "--no-import", "-c", str(reference_path))
    assert result.returncode == 2
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(REFERENCE_ENV)
    for name in REFERENCE_ENV:
        assert any(name in line for line in lines)
    for line in lines:
        assert line.startswith(f"{reference_path}:")
    assert "Traceback" not in result.stderr


def test_json_format_lists_findings(tmp_path: Path) -> None:
    """--format json prints the same findings for tools."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ngateway:\n  listen: nowhere\n  max_bodyy: 1MB\n")
    result = _run("check", "-c", str(bad), "--format", "json")
    assert result.returncode == 2
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert [(f["line"], f["path"], f["code"]) for f in payload["findings"]] == [
        (3, "gateway.listen", "value"),
        (4, "gateway.max_bodyy", "unknown-key"),
    ]


def test_missing_file_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    """A file that does not exist is reported in the same format, exit 2."""
    result = _run("check", "-c", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "file not found" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_secret_never_printed(tmp_path: Path) -> None:
    """A secret read from the environment never appears in check's output."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\nadmin:\n  tokens:\n    - {name: ops, token: '${T}', role: root}\n")
    result = _run("check", "-c", str(cfg), env={"T": "very-secret-token-42"})
    assert result.returncode == 2
    assert "very-secret-token-42" not in result.stdout + result.stderr
    assert "admin.tokens[0].role" in result.stdout
