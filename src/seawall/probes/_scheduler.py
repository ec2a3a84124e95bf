"""Synthetic health checks from each provider's ``health`` block.

Every ``interval`` a probe is sent straight to the provider (not through the
retry policies: a probe must see the vendor as it is), judged against
``expect`` (status, body text, a JSON field, a latency bound), and fed to the
engine's health board, which ejects a failing provider and lets it back only
after it has been healthy for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

from seawall._errors import SeawallError
from seawall._events import EventSink, ProbeFinished
from seawall.config import HealthCheck
from seawall.engine import Engine, Request, Response

__all__ = ["ProbeScheduler", "judge_probe"]

log = logging.getLogger("seawall.probes")


def judge_probe(check: HealthCheck, response: Response, duration: float) -> str | None:
    """None when the answer is healthy, else why not."""
    expected = check.expect.status
    statuses = expected if isinstance(expected, tuple) else (expected,)
    if response.status not in statuses:
        return f"status {response.status}, expected {', '.join(map(str, statuses))}"
    if check.max_latency is not None and duration > check.max_latency:
        return f"took {duration * 1000:.0f} ms, more than {check.max_latency * 1000:.0f} ms"
    if (
        check.expect.body_contains is not None
        and check.expect.body_contains.encode() not in response.body
    ):
        return f"body lacks {check.expect.body_contains!r}"
    if check.expect.json_path is not None:
        from jsonpath_ng.ext import parse  # type: ignore[attr-defined]

        try:
            found = [m.value for m in parse(check.expect.json_path).find(json.loads(response.body))]
        except ValueError:
            return "body is not JSON"
        if not found:
            return f"{check.expect.json_path} is missing"
        if check.expect.json_equals is not None and found[0] != check.expect.json_equals:
            return (
                f"{check.expect.json_path} is {found[0]!r}, expected {check.expect.json_equals!r}"
            )
    return None


class ProbeScheduler:
    """One task per probed provider; follows the engine across reloads."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        sink: EventSink,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._sink = sink
        self._now = monotonic
        self._task: asyncio.Task[None] | None = None
        self.results: dict[tuple[str, str], bool] = {}

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="seawall-probes")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        due: dict[tuple[str, str], float] = {}
        running: set[asyncio.Task[bool]] = set()
        try:
            while True:
                engine = self._engine()
                engine.observe()
                now = self._now()
                for name, rt in engine.integrations.items():
                    for provider in rt.spec.providers:
                        check = provider.health
                        key = (name, provider.name)
                        if check is None or due.get(key, 0.0) > now:
                            continue
                        due[key] = now + check.interval
                        task = asyncio.create_task(self.probe(engine, name, provider.name, check))
                        running.add(task)
                        task.add_done_callback(running.discard)
                await asyncio.sleep(0.2)
        finally:
            for task in running:
                task.cancel()

    async def probe(
        self, engine: Engine, integration: str, provider: str, check: HealthCheck
    ) -> bool:
        target = engine.integration(integration).by_name[provider].target
        started = self._now()
        problem: str | None
        try:
            async with asyncio.timeout(check.timeout):
                response = await engine.upstream.send(
                    target, Request(check.method, check.path), timeout=check.timeout
                )
            problem = judge_probe(check, response, self._now() - started)
        except TimeoutError:
            problem = f"no answer within {check.timeout:g}s"
        except SeawallError as exc:
            problem = exc.message
        duration = self._now() - started
        ok = problem is None
        self.results[(integration, provider)] = ok
        with contextlib.suppress(KeyError):
            engine.record_probe(integration, provider, ok=ok)
        self._sink.emit(
            ProbeFinished(
                at=started,
                integration=integration,
                provider=provider,
                ok=ok,
                duration=duration,
                detail=problem or "",
            )
        )
        if not ok:
            log.info("probe %s/%s failed: %s", integration, provider, problem)
        return ok
