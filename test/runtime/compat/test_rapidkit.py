"""RapidKit (seed 000): its Python examples run unchanged on rapidkit.runtime.cache.redis of the generated project."""
from __future__ import annotations

import asyncio
import os

import pytest


@pytest.fixture(scope="module")
def seed(server):
    os.environ.pop("REDIS_KEY_PREFIX", None)
    os.environ.update(REDIS_URL=f"redis://:{'s3cret-pw'}@127.0.0.1:{server.port}/0", CACHE_TTL="900", REDIS_RETRIES="3")
    server.admin().config_set("requirepass", "s3cret-pw")
    import rapidkit_app

    return rapidkit_app


def test_quick_start_app(seed, server):
    from fastapi.testclient import TestClient

    admin = server.admin()
    admin.auth("s3cret-pw")
    with TestClient(seed.app) as client:
        assert client.post("/cache/greeting", params={"value": "hello"}).json() == {"status": "cached"}
        assert client.get("/cache/greeting").json() == {"key": "greeting", "value": "hello"}
        assert client.get("/cache/missing").json() == {"key": "missing", "value": None}
    assert 3590 < admin.ttl("greeting") <= 3600  # ex=3600
    assert admin.get("greeting") == '"hello"'  # the module's value format (docs/cache-contract.md)


def test_pool_and_metadata(seed, server, capsys):
    async def pool():
        p = await seed.connection_pooling(url=f"redis://:s3cret-pw@127.0.0.1:{server.port}/0")
        try:
            assert await p.ping() is True
            assert p.connection_pool.max_connections == 50
        finally:
            await p.close()

    asyncio.run(pool())
    meta = seed.metadata_inspection()
    out = capsys.readouterr().out
    assert f"Connected to: redis://:***@127.0.0.1:{server.port}/0" in out
    assert "Retry policy: 3 attempts" in out and "Default TTL: 900 seconds" in out
    assert "s3cret-pw" not in repr(meta) and "s3cret-pw" not in out
