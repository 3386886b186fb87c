"""Forge (seed 002): its example code runs unchanged on `redis_manager` from the generated app/core/redis.py."""
from __future__ import annotations

import asyncio
import json
import os

import pytest
from conftest import until


@pytest.fixture(scope="module")
def seed(server):
    # Forge's own variable names only: the compat mode maps them (REDIS_URL etc. unset)
    for name in ("REDIS_URL", "CACHE_TTL", "REDIS_MAX_CONNECTIONS", "REDIS_KEY_PREFIX"):
        os.environ.pop(name, None)
    os.environ.update(
        REDIS_CONNECTION_URL=f"redis://127.0.0.1:{server.port}",
        REDIS_POOL_SIZE="5",
        REDIS_SOCKET_TIMEOUT="10",
        REDIS_DEFAULT_TTL="1234",
        REDIS_CONNECT_TIMEOUT="0.3",
        REDIS_BREAKER_RESET_TIMEOUT="0.5",
        REDIS_RETRIES="0",
    )
    import forge_app

    return forge_app


def test_forge_variables_are_honoured(seed):
    s = seed.redis_manager.settings
    assert (s.port, s.max_connections, s.socket_timeout, s.cache_ttl, s.key_prefix) == (int(os.environ["REDIS_CONNECTION_URL"].rsplit(":", 1)[1]), 5, 10.0, 1234, "")


def test_seed_routes_lifespan_and_celery_task(seed, server):
    from fastapi.testclient import TestClient

    admin = server.admin()
    with TestClient(seed.app) as client:  # the seed's lifespan: initialize_async() ... close()
        first = client.get("/cached-data", params={"key": "report"}).json()
        second = client.get("/cached-data", params={"key": "report"}).json()
        assert first == {"data": "computed-value", "source": "computed"}
        assert second == {"data": "computed-value", "source": "cache"}
        assert seed.CALLS["expensive"] == 1
        assert admin.get("report") == "computed-value"  # raw string, unprefixed: as Forge stored it
        assert 3590 < admin.ttl("report") <= 3600
        assert client.get("/health/redis").json() == {"status": "healthy"}
        # the module's health route (register_redis) is mountable on the same app and reports the same client
        from app.redis_cache import register_redis

        register_redis(seed.app)
        assert client.get("/api/health/module/redis").json()["status"] == "ok"

    assert seed.process_data("job:1") == "processed-value"
    assert seed.process_data("job:1") == "processed-value"
    assert seed.CALLS["heavy"] == 1
    assert admin.get("job:1") == "processed-value"
    seed.redis_manager.set_sync("default-ttl", "x")  # ex=None: REDIS_DEFAULT_TTL
    assert 1200 < admin.ttl("default-ttl") <= 1234
    assert seed.redis_manager.sync_test_connection() is True


def test_seed_use_cases(seed, server):
    admin = server.admin()

    async def scenario():
        profile = await seed.get_user_profile(1, seed.AsyncSession())
        assert profile.dict() == {"id": 1, "name": "Ada"}
        assert json.loads(admin.get("user:profile:1")) == {"id": 1, "name": "Ada"}
        assert await seed.get_user_profile(1, seed.AsyncSession()) == {"id": 1, "name": "Ada"}  # from cache
        await seed.update_user_profile(1, {"name": "Grace"}, seed.AsyncSession())
        assert admin.exists("user:profile:1") == 0
        admin.set("user:7:a", "1")
        admin.set("user:7:b", "2")
        admin.set("user:70:c", "3")
        await seed.clear_user_caches(7)
        assert (admin.exists("user:7:a"), admin.exists("user:7:b"), admin.exists("user:70:c")) == (0, 0, 1)
        for _ in range(3):
            await seed.check_rate_limit(42, limit=3, window=60)
        from fastapi import HTTPException

        with pytest.raises(HTTPException) as limited:
            await seed.check_rate_limit(42, limit=3, window=60)
        assert limited.value.status_code == 429
        sid = await seed.create_session(5, {"role": "admin"})
        assert await seed.get_session(sid) == {"user_id": 5, "role": "admin"}
        assert 86390 < admin.ttl(f"session:{sid}") <= 86400
        assert await seed.get_session("nope") is None
        assert await seed.direct_client_access() == {"name": "John", "email": "john@example.com"}
        # a value the old Forge code wrote reads back unchanged
        admin.set("legacy", '{"written": "by forge"}')
        assert await seed.redis_manager.get_async("legacy") == '{"written": "by forge"}'
        assert await seed.redis_manager.delete_async("legacy", "missing") == 1

    asyncio.run(scenario())


def test_outage_fails_open_and_recovers(seed, server):
    from fastapi.testclient import TestClient

    manager = seed.redis_manager
    server.stop()
    try:
        with TestClient(seed.app) as client:  # start-up with Redis down: initialize_async logs, never raises
            assert client.get("/cached-data", params={"key": "k-down"}).json() == {"data": "computed-value", "source": "computed"}
            health = client.get("/health/redis").json()
            assert health["status"] == "unhealthy" and "Connection" in health["error"]
        assert seed.process_data("job:down") == "processed-value"
        assert manager.get_sync("x") is None and manager.set_sync("x", "1") is False and manager.delete_sync("x") == 0
        assert asyncio.run(manager.delete_pattern_async("user:*")) == 0
        assert manager.stats()["async"]["errors"] >= 1
    finally:
        server.start()
    assert until(lambda: manager.set_sync("back", "yes"))
    assert server.admin().get("back") == "yes"
