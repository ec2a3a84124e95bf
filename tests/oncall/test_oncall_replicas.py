"""Two replicas on one PostgreSQL store: one pages, and the other takes over when it stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.service import Service
from tests.gateway.conftest import write_config
from tests.oncall.test_oncall_reload import RULE, _config, _delivered, _failures, receiver
from tests.store.conftest import postgresql_url  # noqa: F401 - the fixture

pytestmark = [pytest.mark.realserver]


async def test_only_the_leading_replica_pages_and_another_takes_over(
    tmp_path: Path,
    postgresql_url: str,  # noqa: F811 - the fixture
) -> None:
    async with receiver() as (port, got):
        text = _config(tmp_path, port, rules=RULE).replace(
            f'"sqlite:///{tmp_path / "state.db"}"', f'"{postgresql_url}"'
        )
        first = Service(write_config(tmp_path, text, "a.yaml"), alert_interval=3600)
        second = Service(write_config(tmp_path, text, "b.yaml"), alert_interval=3600)
        await first.start()
        await second.start()
        running = [first, second]
        try:
            assert first.oncall.leading is True
            assert second.oncall.leading is False
            for service in (first, second):
                _failures(service, 20)
                await service.oncall.tick()
            await _delivered(got, 2)
            assert [p["title"] for p in got] == ["[FIRING:1] pay (critical)"], "one page"
            assert second.store is not None
            assert len(await second.store.alerts.open_episodes()) == 1

            running.remove(first)
            await first.stop()  # the leader goes away
            await second.oncall.tick()
            assert second.oncall.leading is True
            (status,) = second.oncall.statuses()
            assert status.state == "firing", "the stored alert carries on under the new leader"
        finally:
            for service in running:
                await service.stop()
