"""Waardhaven (seed 003): its usage examples run unchanged on get_redis_client() from app/core/redis_client.py."""
from __future__ import annotations

import os

import pytest
from conftest import until


@pytest.fixture(scope="module")
def seed(server):
    for name in ("CACHE_TTL", "REDIS_KEY_PREFIX"):
        os.environ.pop(name, None)
    os.environ.update(
        REDIS_URL=f"redis://127.0.0.1:{server.port}/0",
        CACHE_TTL_SECONDS="300",
        REDIS_SOCKET_TIMEOUT="0.3",
        REDIS_CONNECT_TIMEOUT="0.3",
        REDIS_BREAKER_RESET_TIMEOUT="0.5",
        REDIS_RETRIES="0",
    )
    import waardhaven_usage
    from app.core.redis_client import get_redis_client

    return waardhaven_usage, get_redis_client()


def test_seed_examples_against_real_redis(seed, server, capsys):
    usage, redis = seed
    admin = server.admin()
    assert usage.basic_operations() == {"name": "John"}
    assert "User cached" in capsys.readouterr().out
    assert admin.exists("user:123") == 0  # deleted by the example, unprefixed key
    admin.set("user:1", '"a"')
    admin.set("user:2", "plain text written by the old client")
    assert redis.get("user:2") == "plain text written by the old client"  # non-JSON text comes back unchanged
    assert usage.pattern_operations(redis) == 2
    usage.health_monitoring(redis)
    assert "Redis is healthy" in capsys.readouterr().out
    usage.custom_objects(redis)
    assert redis.get("config")["weights"] == [0.3, 0.3, 0.4]
    assert 290 < admin.ttl("config") <= 300  # no expire=: CACHE_TTL_SECONDS
    usage.ttl_management(redis)
    assert 590 < admin.ttl("key") <= 600
    assert redis.get("key") == "value"
    admin.set("index:1", "x")
    usage.bulk_operations(redis)
    assert admin.exists("index:1") == 0
    assert usage.graceful_fallback(redis)["weights"] == [0.3, 0.3, 0.4]
    used_memory, clients, ops = usage.key_metrics(redis)
    assert used_memory and clients >= 1 and ops is not None
    assert redis.is_connected is True


def test_outage_fails_open_and_recovers(seed, server, capsys):
    usage, redis = seed
    server.stop()
    try:
        assert redis.set("k", {"v": 1}, expire=60) is False
        assert redis.get("k") is None and redis.exists("k") is False and redis.delete("k") is False
        assert redis.flush_pattern("user:*") == 0
        usage.health_monitoring(redis)
        assert "Redis is down, running without cache" in capsys.readouterr().out
        assert redis.is_connected is False
        assert usage.graceful_fallback(redis) == {"source": "database"}
        assert usage.key_metrics(redis) == (None, None, None)
    finally:
        server.start()
    assert until(redis.health_check)
    # health probes never close the breaker (docs/cache-contract.md): calls resume once its reset timeout lets one through
    assert until(lambda: redis.set("k", 1) is True)
    assert redis.is_connected is True
