"""``seawall export`` as a user runs it: stdout, -o files, exit 2 on a bad config, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REFERENCE_ENV


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in REFERENCE_ENV}
    return subprocess.run(
        [sys.executable, "-m", "seawall", "export", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
        check=False,
    )


def test_rules_print_to_stdout(reference_path: Path) -> None:
    """prometheus-rules prints the rule file on standard output and nothing else."""
    result = _run("prometheus-rules", "--no-import", "-c", str(reference_path), env=REFERENCE_ENV)
    assert result.returncode == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert document["groups"][0]["name"].startswith("seawall-sla-")
    assert result.stderr == ""


def test_dashboard_writes_the_output_file(reference_path: Path, tmp_path: Path) -> None:
    """grafana-dashboard -o writes the JSON there and leaves standard output empty."""
    out = tmp_path / "seawall.json"
    result = _run(
        "grafana-dashboard",
        "--no-import",
        "-c",
        str(reference_path),
        "-o",
        str(out),
        env=REFERENCE_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text())["title"] == "seawall"


def test_rules_write_the_output_file_and_dashboard_prints(
    reference_path: Path, tmp_path: Path
) -> None:
    """prometheus-rules -o writes YAML; grafana-dashboard without -o prints the JSON."""
    out = tmp_path / "rules.yaml"
    result = _run(
        "prometheus-rules",
        "--no-import",
        "-c",
        str(reference_path),
        "-o",
        str(out),
        env=REFERENCE_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert yaml.safe_load(out.read_text())["groups"]
    shown = _run("grafana-dashboard", "--no-import", "-c", str(reference_path), env=REFERENCE_ENV)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["schemaVersion"] == 39


def test_invalid_config_exits_2_with_findings(tmp_path: Path) -> None:
    """A broken configuration prints its findings and exits 2 for both exports, no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nslas:\n  s:\n    provider: nowhere\n    objectives: []\n")
    out = tmp_path / "never.yaml"
    for command in ("prometheus-rules", "grafana-dashboard"):
        result = _run(command, "-c", str(bad), "-o", str(out))
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"{bad}:" in result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
    assert not out.exists()


def test_unwritable_output_is_a_clear_error(reference_path: Path, tmp_path: Path) -> None:
    """An output path in a missing directory exits 1 with one line, not a traceback."""
    out = tmp_path / "missing" / "rules.yaml"
    result = _run(
        "prometheus-rules",
        "--no-import",
        "-c",
        str(reference_path),
        "-o",
        str(out),
        env=REFERENCE_ENV,
    )
    assert result.returncode == 1
    assert f"cannot write {out}" in result.stderr
    assert "Traceback" not in result.stderr
