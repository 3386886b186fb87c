"""SessionStore / SyncSessionStore against a real redis-server: atomic create/get/touch/update/destroy, TTLs on
the key, the keys and JSON format the Node SessionStore uses, foreign ids refused, fail-open when Redis is down."""
from __future__ import annotations

import asyncio
import json
import time

import pytest


def test_async_sessions(runtime, settings, server, prefix):
    admin = server.admin()

    async def body():
        client = runtime.AsyncRedisClient(settings)
        store = runtime.SessionStore(client, ttl=600)
        sid = await store.create({"user_id": 5, "role": "admin"})
        assert sid and len(sid) == 43
        key = f"{prefix}session:{sid}"
        assert json.loads(admin.get(key)) == {"user_id": 5, "role": "admin"}
        assert 590 < admin.ttl(key) <= 600
        assert await store.get(sid) == {"user_id": 5, "role": "admin"}
        admin.expire(key, 30)
        assert await store.get(sid) is not None and admin.ttl(key) <= 30  # plain get keeps the TTL
        assert await store.get(sid, touch=True) == {"user_id": 5, "role": "admin"} and admin.ttl(key) > 590  # sliding
        admin.expire(key, 30)
        assert await store.update(sid, {"user_id": 5, "role": "viewer"}) is True
        assert await store.get(sid) == {"user_id": 5, "role": "viewer"} and admin.ttl(key) <= 30  # KEEPTTL
        assert await store.touch(sid) is True and admin.ttl(key) > 590
        assert await store.touch(sid, ttl=1.5) is True and 0 < admin.pttl(key) <= 1500
        assert await store.destroy(sid) is True and await store.destroy(sid) is False
        assert await store.get(sid) is None and await store.update(sid, {}) is False and await store.touch(sid) is False
        for forged in ("", "short", "a" * 200, "../../etc", "sess*", None, 42):
            assert await store.get(forged) is None and await store.destroy(forged) is False  # type: ignore[arg-type]
        short = await store.create({"n": 1}, ttl=0.3)
        await asyncio.sleep(0.5)
        assert await store.get(short) is None
        with pytest.raises(ValueError):
            await store.create({}, ttl=0)
        await client.close()

    asyncio.run(body())


def test_sync_sessions_and_fail_open(runtime, settings, server, prefix):
    store = runtime.SyncSessionStore(runtime.SyncRedisClient(settings), ttl=60, namespace="sess:")
    sid = store.create(["a", 1])
    assert server.admin().get(f"{prefix}sess:{sid}") == '["a",1]'
    assert store.get(sid, touch=True) == ["a", 1] and store.update(sid, ["b"]) is True and store.get(sid) == ["b"]
    assert store.destroy(sid) is True
    down = runtime.SyncRedisClient(runtime.RedisSettings.from_env({"REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_CONNECT_TIMEOUT": "0.2", "REDIS_RETRIES": "0"}))
    offline = runtime.SyncSessionStore(down)
    started = time.perf_counter()
    assert offline.create({"x": 1}) is None and offline.get("a" * 43) is None and offline.touch("a" * 43) is False
    assert offline.update("a" * 43, {}) is False and offline.destroy("a" * 43) is False
    assert time.perf_counter() - started < 3
