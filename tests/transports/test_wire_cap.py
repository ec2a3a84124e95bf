"""The connection cap: calls past it wait for a connection instead of exhausting descriptors."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from seawall._errors import UpstreamTimeout
from seawall.engine import Request
from seawall.transports import WireUpstream
from tests.transports._wire_support import app_server, run, target, wire_upstream

LOOPS = ["asyncio", "uvloop"]


def _slow(concurrent: list[int], peak: list[int]) -> object:
    async def handler(request: web.Request) -> web.Response:
        concurrent[0] += 1
        peak[0] = max(peak[0], concurrent[0])
        try:
            await asyncio.sleep(0.2)
        finally:
            concurrent[0] -= 1
        return web.Response(text="ok")

    return handler


@pytest.mark.parametrize("loop", LOOPS)
def test_calls_past_the_cap_wait_for_a_free_connection_and_all_succeed(loop: str) -> None:
    async def main() -> None:
        concurrent, peak = [0], [0]
        async with (
            app_server(_slow(concurrent, peak)) as server,  # type: ignore[arg-type]
            wire_upstream(max_connections=2) as upstream,
        ):
            answers = await asyncio.gather(
                *(
                    upstream.send(target(server.url), Request("GET", "/"), timeout=5)
                    for _ in range(6)
                )
            )
            assert [a.status for a in answers] == [200] * 6
            assert peak[0] == 2, "never more than the cap at once"
            assert server.connections == 2, "the waiting calls reused the two connections"
            assert upstream.open_connections <= 2

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_a_call_that_finds_no_room_in_time_is_a_clear_timeout(loop: str) -> None:
    async def main() -> None:
        concurrent, peak = [0], [0]
        async with (
            app_server(_slow(concurrent, peak)) as server,  # type: ignore[arg-type]
            wire_upstream(max_connections=1) as upstream,
        ):
            first = asyncio.create_task(
                upstream.send(target(server.url), Request("GET", "/"), timeout=5)
            )
            await asyncio.sleep(0.05)
            with pytest.raises(UpstreamTimeout, match=r"no connection to .* came free"):
                await upstream.send(target(server.url), Request("GET", "/"), timeout=0.05)
            assert (await first).status == 200

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_an_idle_connection_to_another_origin_makes_room(loop: str) -> None:
    async def main() -> None:
        async def ok(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        async with (
            app_server(ok) as one,
            app_server(ok) as two,
            wire_upstream(max_connections=1) as upstream,
        ):
            assert (
                await upstream.send(target(one.url), Request("GET", "/"), timeout=5)
            ).status == 200
            assert upstream.open_connections == 1  # kept alive, idle
            answer = await upstream.send(target(two.url), Request("GET", "/"), timeout=5)
            assert answer.status == 200
            assert upstream.open_connections == 1

    run(loop, main())


def test_the_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WireUpstream(max_connections=0)


def test_the_default_cap_leaves_half_the_descriptors_to_the_callers() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    upstream = WireUpstream()
    assert upstream._max_connections == max(64, soft // 2 - 128)
