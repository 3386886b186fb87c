"""set() also takes redis-py's ex= (seconds) and px= (milliseconds), as RapidKit and Forge code calls it."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest


def test_ex_and_px_on_both_clients(runtime, settings, server, prefix):
    admin = server.admin()
    sync = runtime.SyncRedisClient(settings)
    assert sync.set("ex", "v", ex=120) is True and 110 < admin.ttl(prefix + "ex") <= 120
    assert sync.set("exd", "v", ex=timedelta(minutes=2)) is True and 110 < admin.ttl(prefix + "exd") <= 120
    assert sync.set("px", "v", px=1500) is True and 0 < admin.pttl(prefix + "px") <= 1500
    for bad in ({"ttl": 5, "ex": 5}, {"ex": 5, "px": 5000}, {"px": 1.5}, {"px": True}):
        with pytest.raises(TypeError):
            sync.set("bad", "v", **bad)
    sync.close()

    async def body():
        client = runtime.AsyncRedisClient(settings)
        assert await client.set("aex", "v", ex=60) is True and 50 < admin.ttl(prefix + "aex") <= 60
        assert await client.set("apx", "v", px=900) is True and 0 < admin.pttl(prefix + "apx") <= 900
        with pytest.raises(TypeError):
            await client.set("bad", "v", 5, ex=5)
        await client.close()

    asyncio.run(body())
