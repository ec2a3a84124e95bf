"""The composition root: reads the configuration and wires the running parts.

Nothing else constructs the world. The service owns the engine (swapped whole
on reload), the gateway and admin servers, the metrics and the recent-calls
view; ``start()`` and ``stop()`` bring them up and down in order, so tests run
the whole service in-process and ``seawall run`` runs it until a signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from pathlib import Path

from aiohttp import web

import seawall
from seawall._errors import ConfigError
from seawall._events import EventSink, FanOutSink
from seawall.config import Config, Finding, check_config, load_config
from seawall.delivery import OutboxWorker, StoreOutbox
from seawall.engine import Engine
from seawall.gateway import GatewayServer
from seawall.oncall import OnCall, admin_base_url
from seawall.probes import ProbeScheduler
from seawall.security import EgressPolicy
from seawall.store import Store
from seawall.telemetry import Metrics, Recorder
from seawall.transports import WireUpstream
from seawall.web import AdminContext, RecentCalls, TokenBook, build_admin_app

__all__ = ["Service"]

log = logging.getLogger("seawall.service")


class Service:
    """A running seawall: gateway, admin API and metrics over one engine."""

    def __init__(
        self,
        config_path: str | Path,
        *,
        config: Config | None = None,
        extra_sinks: tuple[EventSink, ...] = (),
        alert_interval: float = 10.0,
        incident_settle: float = 120.0,
    ) -> None:
        self._path = Path(config_path)
        self._config = config if config is not None else load_config(self._path)
        self.metrics = Metrics()
        self.recent = RecentCalls()
        # Rollups and the timeline; it gathers from the first event and gets
        # its store in start(), once the store is open.
        self.recorder = Recorder()
        # Alerts, notifications and incidents: live counts and breaker changes from
        # the first event; evaluation starts with the store.
        # an incident resolves once its alerts have and its breakers stayed closed this long
        self.oncall = OnCall(
            self._config,
            engine=lambda: self._engine,
            interval=alert_interval,
            settle_for=incident_settle,
        )
        self._sink: EventSink = FanOutSink(
            [self.metrics, self.recent, self.recorder, self.oncall.live, self.oncall, *extra_sinks]
        )
        self.store: Store | None = None
        self._outbox: StoreOutbox | None = None
        self.worker: OutboxWorker | None = None
        self.probes = ProbeScheduler(lambda: self._engine, self._sink)
        self._engine = self._build_engine(self._config)
        self._tokens = TokenBook(self._config.admin.tokens)
        self._gateway = GatewayServer(
            lambda: self._engine,
            max_body=self._config.gateway.max_body,
            drain_timeout=self._config.gateway.drain_timeout,
        )
        self._admin_runner: web.AppRunner | None = None
        self._retired: set[asyncio.Task[None]] = set()
        self._stopped = asyncio.Event()
        self.gateway_port = 0
        self.admin_port = 0

    @property
    def config(self) -> Config:
        return self._config

    @property
    def engine(self) -> Engine:
        return self._engine

    def _build_engine(self, config: Config) -> Engine:
        policy = EgressPolicy.from_config(config.gateway.egress)
        upstream = WireUpstream(egress=policy)
        self.metrics.declare(config)
        return Engine(config, upstream=upstream, sink=self._sink, outbox=self._outbox)

    async def start(self) -> None:
        self.store = await Store.open(self._config.store)
        self.recorder.attach(self.store)
        self.recorder.start()
        self._outbox = StoreOutbox(self.store.outbox)
        self._engine.outbox = self._outbox
        self.worker = OutboxWorker(lambda: self._engine, self.store.outbox, self._outbox)
        self.worker.start()
        self.probes.start()
        await self.oncall.start(self.store)
        gateway = self._config.gateway
        # the gateway's own HTTP/1.1 server (seawall.gateway.GatewayServer): no access
        # log line per call; metrics and rollups record every call
        self.gateway_port = await self._gateway.start(*gateway.listen, backlog=1024)
        admin_app = build_admin_app(
            AdminContext(
                engine=lambda: self._engine,
                tokens=lambda: self._tokens,
                recent=self.recent,
                metrics=self.metrics.render,
                reload=self.reload,
                version=seawall.__version__,
                store=lambda: self.store,
                worker=lambda: self.worker,
                probes=lambda: self.probes.results,
                oncall=lambda: self.oncall,
            )
        )
        self._admin_runner = web.AppRunner(admin_app, handle_signals=False, access_log=None)
        await self._admin_runner.setup()
        await web.TCPSite(
            self._admin_runner, *self._config.admin.listen, reuse_address=True
        ).start()
        self.admin_port = _bound_port(self._admin_runner)
        self.oncall.admin_url = admin_base_url(self._config, self.admin_port)
        self.metrics.track_inflight(self._inflight)
        self.metrics.track_bulkhead_queued(self._queued)
        worker = self.worker
        self.metrics.register_gauge_callback(
            "seawall_outbox_depth",
            "Queued writes not yet delivered.",
            ["integration"],
            lambda: {(k,): float(v) for k, v in worker.depth.items()},
        )
        self.metrics.register_gauge_callback(
            "seawall_outbox_oldest_seconds",
            "Age of the oldest undelivered queued write.",
            ["integration"],
            lambda: {(k,): v for k, v in worker.oldest.items()},
        )
        log.info(
            "seawall gateway on %s:%d, admin on %s:%d",
            gateway.listen[0],
            self.gateway_port,
            self._config.admin.listen[0],
            self.admin_port,
        )

    def _inflight(self) -> dict[str, int]:
        return {name: rt.inflight for name, rt in self._engine.integrations.items()}

    def _queued(self) -> dict[str, int]:
        return {name: rt.bulkhead.queued for name, rt in self._engine.integrations.items()}

    async def reload(self) -> list[Finding]:
        """Load the file again; keep the running configuration if the new one is invalid."""
        config, findings = await asyncio.to_thread(check_config, self._path)
        if config is None or findings:
            self.metrics.record_reload(ok=False)
            self.recorder.record_reload(ok=False)
            log.warning("reload refused: %d problem(s) in %s", len(findings), self._path)
            return findings or []
        old = self._engine
        new = self._build_engine(config)
        new.adopt_state(old)
        self._engine = new
        self._config = config
        self._tokens = TokenBook(config.admin.tokens)
        self._gateway.max_body = config.gateway.max_body
        self._gateway.drain_timeout = config.gateway.drain_timeout
        await self.oncall.reconfigure(config)
        self.metrics.record_reload(ok=True)
        self.recorder.record_reload(ok=True)
        task = asyncio.create_task(self._retire(old, config.gateway.drain_timeout))
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)
        log.info("configuration reloaded from %s", self._path)
        return []

    async def _retire(self, engine: Engine, timeout: float) -> None:
        """Close a replaced engine once its in-flight calls have finished."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while any(rt.inflight for rt in engine.integrations.values()) and loop.time() < until:
            await asyncio.sleep(0.05)
        await engine.aclose()

    async def stop(self) -> None:
        """Stop listening, let in-flight calls finish (up to drain_timeout), close."""
        await self._gateway.stop()
        if self._admin_runner is not None:
            await self._admin_runner.cleanup()
        await self.probes.stop()
        await self.oncall.stop()
        if self.worker is not None:
            await self.worker.stop()
        for task in list(self._retired):
            await task
        await self._engine.aclose()
        await self.recorder.stop()  # the last rollups and events, before the store closes
        if self.store is not None:
            await self.store.close()
        self._stopped.set()

    async def serve_forever(self) -> None:
        """Run until SIGTERM/SIGINT (drain, then exit); SIGHUP reloads."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        await self.start()
        # Everything built at start-up lives as long as the process: move it out of
        # the collector's sight, so full collections stop rescanning it under load.
        gc.collect()
        gc.freeze()
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(sig)
            await self.stop()


def _bound_port(runner: web.BaseRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    msg = "the server is not listening"
    raise ConfigError(msg)
