"""``seawall outbox`` as an operator runs it against a store: output, exit codes, no secrets."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seawall.store import OutboxState, Store

pytestmark = [pytest.mark.slow]

SECRET = "sk_live_never_print_0123456789"


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", "outbox", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def _config(tmp_path: Path, store: str) -> Path:
    path = tmp_path / "seawall.yaml"
    path.write_text(
        "version: 1\n"
        f'store: "{store}"\n'
        "integrations:\n"
        "  mail:\n"
        "    providers: [{name: relay, base_url: 'https://relay.example.com'}]\n"
    )
    return path


async def _fill(url: str) -> tuple[str, str]:
    """One pending and one dead message, both carrying a secret header and body."""
    async with await Store.open(url) as store:
        ids = []
        for _ in range(2):
            ids.append(
                await store.outbox.enqueue(
                    "mail",
                    method="POST",
                    target="/v3/send",
                    headers=[("Authorization", f"Bearer {SECRET}")],
                    body=SECRET.encode(),
                    now=time.time(),
                    not_before=time.time() + 3600,
                )
            )
        await store.outbox.mark_dead(ids[1], reason="vendor refused", now=time.time())
        return ids[0], ids[1]


async def _state(url: str, message: str) -> OutboxState | None:
    async with await Store.open(url) as store:
        found = await store.outbox.get(message)
        return None if found is None else found.state


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, str, str, str]:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    pending, dead = asyncio.run(_fill(url))
    return _config(tmp_path, url), url, pending, dead


def test_list_shows_messages_without_secrets(filled: tuple[Path, str, str, str]) -> None:
    """list prints a table and JSON of the messages, filtered by state, with no header values or bodies."""
    config, _url, pending, dead = filled
    table = _run(config.parent, "list", "-c", str(config))
    assert table.returncode == 0, table.stderr
    assert pending in table.stdout
    assert dead in table.stdout
    assert "vendor refused" in table.stdout
    assert SECRET not in table.stdout + table.stderr
    only_dead = _run(
        config.parent, "list", "-c", str(config), "--state", "dead", "--format", "json"
    )
    assert only_dead.returncode == 0, only_dead.stderr
    messages = json.loads(only_dead.stdout)["messages"]
    assert [m["id"] for m in messages] == [dead]
    assert messages[0]["header_names"] == ["Authorization"]
    assert SECRET not in only_dead.stdout


def test_show_one_message_and_unknown_or_bad_ids(filled: tuple[Path, str, str, str]) -> None:
    """show prints one message; an unknown id exits 1 and a malformed one exits 2, without tracebacks."""
    config, _url, pending, _dead = filled
    shown = _run(config.parent, "show", pending, "-c", str(config), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["body_bytes"] == len(SECRET)
    assert SECRET not in shown.stdout
    table = _run(config.parent, "show", pending, "-c", str(config))
    assert table.returncode == 0
    assert "Authorization" in table.stdout
    assert SECRET not in table.stdout
    unknown = _run(config.parent, "show", "01900000-0000-7000-8000-000000000000", "-c", str(config))
    assert unknown.returncode == 1
    assert "no outbox message" in unknown.stderr
    bad = _run(config.parent, "show", "42", "-c", str(config))
    assert bad.returncode == 2
    assert "not a message id" in bad.stderr
    assert "Traceback" not in unknown.stderr + bad.stderr


def test_retry_dead_message_only(filled: tuple[Path, str, str, str]) -> None:
    """retry sends a dead message back to pending; retrying a pending one exits 1 and says why."""
    config, url, pending, dead = filled
    retried = _run(config.parent, "retry", dead, "-c", str(config))
    assert retried.returncode == 0, retried.stderr
    assert asyncio.run(_state(url, dead)) is OutboxState.PENDING
    refused = _run(config.parent, "retry", pending, "-c", str(config))
    assert refused.returncode == 1
    assert "only dead messages can be retried" in refused.stderr


def test_drop_removes_a_message(filled: tuple[Path, str, str, str]) -> None:
    """drop deletes a message; dropping it again exits 1."""
    config, url, pending, _dead = filled
    dropped = _run(config.parent, "drop", pending, "-c", str(config), "--format", "json")
    assert dropped.returncode == 0, dropped.stderr
    assert json.loads(dropped.stdout) == {"dropped": pending}
    assert asyncio.run(_state(url, pending)) is None
    again = _run(config.parent, "drop", pending, "-c", str(config))
    assert again.returncode == 1
    assert "no outbox message" in again.stderr


def test_store_failures_exit_1_and_bad_input_exits_2(tmp_path: Path) -> None:
    """A missing or broken store exits 1 with a message; a bad config or option exits 2; no tracebacks."""
    missing = _config(tmp_path, f"sqlite:///{tmp_path / 'absent.db'}")
    result = _run(tmp_path, "list", "-c", str(missing))
    assert result.returncode == 1
    assert "no store at" in result.stderr
    assert not (tmp_path / "absent.db").exists()

    broken_db = tmp_path / "broken.db"
    broken_db.write_bytes(b"this is not a database" * 100)
    broken = _config(tmp_path, f"sqlite:///{broken_db}")
    result = _run(tmp_path, "list", "-c", str(broken))
    assert result.returncode == 1
    assert result.stderr.startswith("seawall: store ")

    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("version: 1\nbogus: 1\n")
    result = _run(tmp_path, "list", "-c", str(invalid))
    assert result.returncode == 2
    assert "bogus" in result.stderr

    result = _run(tmp_path, "list", "-c", str(broken), "--state", "lost")
    assert result.returncode == 2
    for output in (result.stdout, result.stderr):
        assert "Traceback" not in output
