"""The whole deployment stopped (every cluster node / the master and its replica): calls fail open within the
deadline, health answers 503 with a clear detail within its bound, nothing raises."""
from __future__ import annotations

import asyncio
import time

from conftest import MODE


def test_everything_down_fails_open_and_health_says_why(runtime, settings):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        started = time.monotonic()
        assert await c.get("k", default="fallback") == "fallback"
        assert await c.set("k", 1) is False
        assert await c.get_many(["a", "b"]) == {} and await c.set_many({"a": 1, "b": 2}) is False
        assert await c.delete("a", "b") == 0 and await c.delete_pattern("*") == 0
        assert (await c.rate_limit("x", 1, 1)).allowed is True
        assert await c.get_or_set("k", lambda: 5) == 5
        assert time.monotonic() - started < settings.deadline * 2
        await asyncio.sleep(settings.breaker_reset_timeout + 0.1)  # past the breaker: a real probe
        started = time.monotonic()
        h = await c.health_check()
        assert time.monotonic() - started < 0.6
        assert h["status"] == "fail" and h["mode"] == MODE, h
        if MODE == "cluster":
            assert h["detail"].startswith("no cluster node answered"), h["detail"]
            assert h["cluster"]["masters_reachable"] == 0
        else:
            assert h["detail"].startswith("master 127.0.0.1:") and "refused" in h["detail"], h["detail"]
            assert h["sentinel"]["sentinels_reachable"] == 3
        assert c.stats()["errors"] >= 1
        await c.close()

    asyncio.run(body())
    s = runtime.SyncRedisClient(settings)
    assert s.get("k", default=1) == 1 and s.get_many(["a"]) == {} and s.delete_pattern("*") == 0
    time.sleep(settings.breaker_reset_timeout + 0.1)
    h = s.health_check()
    assert h["status"] == "fail" and h["detail"], h
    s.close()
