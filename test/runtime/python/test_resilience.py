"""Failure behaviour of both clients against a real redis-server that is down, stalled (SIGSTOP) or restarted."""
from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import time

import pytest

from conftest import RedisServer, free_port

CACHE_API = [
    "get", "set", "delete", "exists", "expire", "ttl", "incr", "get_many", "set_many", "delete_pattern",
    "get_or_set", "cached", "rate_limit", "health_check", "connect", "close", "stats", "render_prometheus", "metadata",
]
ASYNC_ONLY_SYNC = {"cached", "stats", "render_prometheus", "metadata"}  # plain methods in both clients


def test_sync_and_async_clients_have_the_same_api(runtime):
    for name in CACHE_API:
        a, s = getattr(runtime.AsyncRedisClient, name), getattr(runtime.SyncRedisClient, name)
        assert list(inspect.signature(a).parameters) == list(inspect.signature(s).parameters), name
        assert inspect.iscoroutinefunction(a) is (name not in ASYNC_ONLY_SYNC), name
        assert not inspect.iscoroutinefunction(s), name


def dead_env(prefix: str, **extra: str) -> dict:
    return {
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "REDIS_KEY_PREFIX": prefix,
        "REDIS_CONNECT_TIMEOUT": "0.3",
        "REDIS_SOCKET_TIMEOUT": "0.3",
        "REDIS_BREAKER_THRESHOLD": "3",
        "REDIS_BREAKER_RESET_TIMEOUT": "0.3",
        **extra,
    }


def test_every_async_call_fails_open_while_caller_errors_still_raise(runtime, prefix):
    s = runtime.RedisSettings.from_env(dead_env(prefix))

    async def body():
        c = runtime.AsyncRedisClient(s)
        started = time.monotonic()
        assert await c.get("k") is None
        assert await c.get("k", default={"d": 1}) == {"d": 1}
        assert await c.set("k", 1) is False
        assert await c.delete("k") == 0
        assert await c.exists("k") is False
        assert await c.expire("k", 10) is False
        assert await c.ttl("k") is None
        assert await c.incr("k") is None
        assert await c.get_many(["a", "b"]) == {}
        assert await c.set_many({"a": 1}) is False
        assert await c.delete_pattern("*") == 0
        assert await c.get_or_set("k", lambda: "loaded") == "loaded"
        r = await c.rate_limit("login", 1, 10)
        assert (r.allowed, r.remaining, r.count) == (True, 1, 0)
        assert await c.connect() is False
        assert time.monotonic() - started < 3.0
        # caller mistakes are not outages
        with pytest.raises(TypeError):
            await c.set("k", {1, 2})
        with pytest.raises(ValueError):
            await c.set("k", 1, ttl=-5)
        with pytest.raises(TypeError):
            await c.get("")
        stats = c.stats()
        assert stats["errors"] >= 3 and stats["fallbacks"] >= 14 and stats["hits"] == 0
        assert c.breaker.state == "open"
        h = await c.health_check()
        assert h["status"] == "fail" and h["detail"].startswith(("ConnectionError", "TimeoutError"))
        await c.close()

    asyncio.run(body())


def test_every_sync_call_fails_open(runtime, prefix):
    c = runtime.SyncRedisClient(runtime.RedisSettings.from_env(dead_env(prefix)))
    assert c.get("k", default=0) == 0
    assert c.set("k", 1) is False
    assert c.delete("k", "j") == 0
    assert c.exists("k") is False and c.expire("k", 1) is False and c.ttl("k") is None and c.incr("k") is None
    assert c.get_many(["a"]) == {} and c.set_many({"a": 1}) is False and c.delete_pattern("*") == 0
    assert c.get_or_set("k", lambda: 5) == 5
    assert c.rate_limit("x", 3, 1).allowed is True
    assert c.health_check()["status"] == "fail"
    with pytest.raises(TypeError):
        c.set("k", object())
    assert c.breaker.state == "open"
    c.close()


def test_open_breaker_answers_without_touching_the_network(runtime, prefix):
    s = runtime.RedisSettings.from_env(dead_env(prefix, REDIS_BREAKER_RESET_TIMEOUT="30"))

    async def body():
        c = runtime.AsyncRedisClient(s)
        while c.breaker.state != "open":
            await c.get("k")
        errors = c.stats()["errors"]
        samples = []
        for _ in range(2000):
            t0 = time.perf_counter()
            await c.get("k")
            samples.append(time.perf_counter() - t0)
        samples.sort()
        assert samples[int(len(samples) * 0.99)] < 0.001  # p99 under a millisecond: no connect attempt
        assert c.stats()["errors"] == errors  # no new network errors while open
        text = c.render_prometheus()
        assert "rapidkit_redis_breaker_state 1" in text
        await c.close()

    asyncio.run(body())


def test_half_open_probe_closes_on_success_and_reopens_on_failure(runtime, prefix):
    srv = RedisServer().start()
    srv.stop()
    s = runtime.RedisSettings.from_env({**dead_env(prefix), "REDIS_URL": srv.url})
    try:

        async def body():
            c = runtime.AsyncRedisClient(s)
            while c.breaker.state != "open":
                assert await c.set("k", 1) is False
            await asyncio.sleep(0.35)
            assert await c.get("k") is None  # the probe: Redis still down
            assert c.breaker.state == "open"
            srv.start()
            assert await c.get("k") is None  # still inside the reset timeout: answered at once
            await asyncio.sleep(0.35)
            assert await c.set("k", "back") is True  # the probe succeeds and closes the breaker
            assert c.breaker.snapshot() == {"state": "closed", "failures": 0}
            assert await c.get("k") == "back"
            await c.close()

        asyncio.run(body())
    finally:
        srv.cleanup()


def test_a_cancelled_probe_never_leaves_the_breaker_half_open(runtime, prefix):
    srv = RedisServer().start()
    s = runtime.RedisSettings.from_env({**dead_env(prefix), "REDIS_URL": srv.url, "REDIS_SOCKET_TIMEOUT": "2"})
    try:

        async def body():
            c = runtime.AsyncRedisClient(s)
            assert await c.set("k", 1) is True
            os.kill(srv.proc.pid, signal.SIGSTOP)  # Redis hangs: the probe below waits on its reply
            try:
                for _ in range(3):
                    c.breaker.failure()
                assert c.breaker.state == "open"
                await asyncio.sleep(0.35)
                probe = asyncio.ensure_future(c.get("k"))
                await asyncio.sleep(0.1)
                assert c.breaker.state == "half_open"
                probe.cancel()  # e.g. the client of the HTTP request went away
                with pytest.raises(asyncio.CancelledError):
                    await probe
                assert c.breaker.state == "open"  # handed on, not stuck half-open
            finally:
                os.kill(srv.proc.pid, signal.SIGCONT)
            assert await c.get("k") == 1  # the next caller probes at once and closes it
            assert c.breaker.state == "closed"
            await c.close()

        asyncio.run(body())
    finally:
        srv.cleanup()


def test_stalled_redis_costs_one_socket_timeout_and_leaves_no_reply_behind(runtime, prefix):
    """SIGSTOP: connections stay open but nothing answers. Calls end by the socket timeout (timeouts are not
    retried), the breaker opens, and after SIGCONT no pooled connection is one reply behind."""
    srv = RedisServer().start()
    env = {**dead_env(prefix), "REDIS_URL": srv.url, "REDIS_RETRIES": "2", "REDIS_BREAKER_THRESHOLD": "5"}
    s = runtime.RedisSettings.from_env(env)
    try:

        async def body():
            c = runtime.AsyncRedisClient(s)
            assert await c.set_many({f"v{i}": i for i in range(50)}) is True
            await asyncio.gather(*[c.get(f"v{i}") for i in range(50)])  # warm several pooled connections
            os.kill(srv.proc.pid, signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                results = await asyncio.gather(*[c.get(f"v{i}", default="fallback") for i in range(20)])
                took = time.monotonic() - t0
                assert results == ["fallback"] * 20
                # about one socket timeout (0.3 s); retrying timeouts would take 3 x 0.3 s or more
                assert took < 0.75 < s.deadline, took
                assert c.breaker.state == "open"
                t0 = time.monotonic()
                h = await c.health_check()
                assert h["status"] == "fail" and time.monotonic() - t0 < 2.5
            finally:
                os.kill(srv.proc.pid, signal.SIGCONT)
            await asyncio.sleep(0.35)
            assert await c.get("v0") == 0  # probe closes the breaker
            for _ in range(3):  # every pooled connection answers its own command
                got = await asyncio.gather(*[c.get(f"v{i}") for i in range(50)])
                assert got == list(range(50))
            await c.close()

        asyncio.run(body())
    finally:
        srv.cleanup()


def test_sync_client_reconnects_after_a_restart(runtime, prefix):
    srv = RedisServer().start()
    s = runtime.RedisSettings.from_env({**dead_env(prefix), "REDIS_URL": srv.url})
    c = runtime.SyncRedisClient(s)
    try:
        assert c.set("k", "before") is True
        srv.stop()
        assert c.get("k", default="down") == "down"
        srv.start()  # an empty Redis on the same port (no persistence)
        deadline = time.monotonic() + 5
        while c.set("k", "after") is not True:
            assert time.monotonic() < deadline, "the sync client reconnects by itself"
            time.sleep(0.1)
        assert c.get("k") == "after"
    finally:
        c.close()
        srv.cleanup()


def test_sync_client_is_safe_after_fork(runtime, settings):
    """Celery prefork: a client used in the parent keeps working in a forked child on its own connections."""
    c = runtime.SyncRedisClient(settings)
    assert c.set("fork:parent", 1) is True
    parent_conn = c.client.client_id()
    c._lock.acquire()  # a lock held at fork time (by another thread, say) must not deadlock the child
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            ok = c.set("fork:child", 2) is True and c.get("fork:parent") == 1 and c.get_or_set("fork:sf", lambda: 3) == 3
            os.write(write_end, json.dumps({"ok": ok, "conn": c.client.client_id()}).encode())
        except BaseException as exc:  # report instead of running pytest's machinery in the child
            os.write(write_end, json.dumps({"ok": False, "error": repr(exc)}).encode())
        finally:
            os._exit(0)
    c._lock.release()
    os.close(write_end)
    with os.fdopen(read_end) as f:
        report = json.loads(f.read() or "{}")
    os.waitpid(pid, 0)
    assert report.get("ok") is True, report
    assert report["conn"] != parent_conn  # the child opened its own connection
    assert c.get("fork:child") == 2 and c.client.client_id() == parent_conn
    c.close()


def test_single_flight_survives_a_cancelled_leader(runtime, settings):
    calls = {"n": 0}

    async def loader():
        calls["n"] += 1
        await asyncio.sleep(0.2)
        return "value"

    async def body():
        c = runtime.AsyncRedisClient(settings)
        leader = asyncio.ensure_future(c.get_or_set("slow", loader))
        await asyncio.sleep(0.05)
        waiters = [asyncio.ensure_future(c.get_or_set("slow", loader)) for _ in range(20)]
        await asyncio.sleep(0.05)
        leader.cancel()
        assert await asyncio.gather(*waiters) == ["value"] * 20  # not cancelled along with the leader
        assert calls["n"] == 2  # the cancelled run, then one run for all 20 waiters
        await c.close()

    asyncio.run(body())
