"""Alerting survives a failing store, a restart, a removed rule and an old acknowledge link."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from seawall._errors import StoreError
from seawall.alerts import Transition
from seawall.service import Service
from tests.gateway.conftest import write_config
from tests.oncall.test_oncall_reload import RULE, _config, _delivered, _failures, receiver

pytestmark = [pytest.mark.realserver]


async def test_a_store_failure_delays_the_record_never_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with receiver() as (port, got):
        path = write_config(tmp_path, _config(tmp_path, port, rules=RULE))
        service = Service(path, alert_interval=3600)
        await service.start()
        try:
            assert service.store is not None
            alerts = service.store.alerts
            real_open = alerts.open
            calls = 0

            async def failing_once(t: Transition) -> int:
                nonlocal calls
                calls += 1
                if calls == 1:
                    msg = "database is locked"
                    raise StoreError(msg)
                return await real_open(t)

            monkeypatch.setattr(alerts, "open", failing_once)
            _failures(service, 20)
            with pytest.raises(StoreError):
                await service.oncall.tick()
            await _delivered(got, 1)
            assert [p["title"] for p in got] == ["[FIRING:1] pay (critical)"]
            assert await alerts.open_episodes() == []
            await service.oncall.tick()  # the store is back: the record is written late
            (episode,) = await alerts.open_episodes()
            assert episode.rule == "pay-errors"
        finally:
            await service.stop()


async def test_a_restart_carries_on_the_group_and_tells_its_resolution(tmp_path: Path) -> None:
    async with receiver() as (port, got):
        path = write_config(tmp_path, _config(tmp_path, port, rules=RULE))
        first = Service(path, alert_interval=3600)
        await first.start()
        try:
            _failures(first, 20)
            await first.oncall.tick()
            await _delivered(got, 1)
        finally:
            await first.stop()
        assert len(got) == 1

        second = Service(path, alert_interval=3600)
        await second.start()
        try:
            (status,) = second.oncall.statuses()
            assert status.state == "firing", "a firing alert comes back firing"
            (group,) = second.oncall.notifications().groups
            assert group.alerts[0].fingerprint == status.fingerprint
            write_config(tmp_path, _config(tmp_path, port, rules=""))
            assert await second.reload() == []
            await second.oncall.tick()
            await _delivered(got, 3)
        finally:
            await second.stop()
    titles = [p["title"] for p in got]
    assert titles[0] == "[FIRING:1] pay (critical)"
    assert titles[-1].startswith("[RESOLVED]"), titles


async def test_an_alert_whose_rule_went_away_while_down_is_resolved_at_start(
    tmp_path: Path,
) -> None:
    async with receiver() as (port, got):
        path = write_config(tmp_path, _config(tmp_path, port, rules=RULE))
        first = Service(path, alert_interval=3600)
        await first.start()
        try:
            _failures(first, 20)
            await first.oncall.tick()
            await _delivered(got, 1)
        finally:
            await first.stop()
        write_config(tmp_path, _config(tmp_path, port, rules=""))
        second = Service(path, alert_interval=3600)
        await second.start()
        try:
            assert second.store is not None
            assert await second.store.alerts.open_episodes() == []
        finally:
            await second.stop()


async def test_an_acknowledge_link_from_an_earlier_outage_does_not_ack_a_new_one(
    tmp_path: Path,
) -> None:
    async with receiver() as (port, _got):
        path = write_config(tmp_path, _config(tmp_path, port, rules=RULE))
        service = Service(path, alert_interval=3600)
        await service.start()
        try:
            oncall = service.oncall
            group_key = "route0/integration=pay"
            old_link = oncall.ack_link(group_key)
            token = old_link.rsplit("/", 1)[1]
            await asyncio.sleep(2.5)  # the outage starts after the link was made (whole seconds)
            _failures(service, 20)
            await oncall.tick()
            (group,) = oncall.notifications().groups
            assert group.key == group_key
            assert oncall.verify_ack_token(token) is None
            fresh = oncall.ack_link(group_key).rsplit("/", 1)[1]
            assert oncall.verify_ack_token(fresh) == group_key
        finally:
            await service.stop()
