"""test/vectors/config-env.json: the Python runtime accepts and refuses exactly the values the Node runtime and
the NestJS Joi schema do (the Node side runs in test/runtime/compat-node.test.ts)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "vectors" / "config-env.json").read_text())
CASES = [(True, n, v) for n, vs in VECTORS["accept"].items() for v in vs] + [(False, n, v) for n, vs in VECTORS["reject"].items() for v in vs]


@pytest.mark.parametrize("accepted,name,value", CASES, ids=[f"{'ok' if a else 'bad'}-{n}={v!r}" for a, n, v in CASES])
def test_env_value(runtime, accepted, name, value):
    env = {name: value}
    if accepted:
        runtime.RedisSettings.from_env(env)
    else:
        with pytest.raises(runtime.ConfigError, match=name):
            runtime.RedisSettings.from_env(env)


def test_url_query_and_unix_socket_are_honoured(runtime):
    s = runtime.RedisSettings.from_env({"REDIS_URL": "redis://h:6380?db=4&socket_timeout=250ms&socket_connect_timeout=2&max_connections=7&client_name=api"})
    assert (s.host, s.port, s.db, s.socket_timeout, s.connect_timeout, s.max_connections, s.client_name) == ("h", 6380, 4, 0.25, 2.0, 7, "api")
    assert runtime.RedisSettings.from_env({"REDIS_URL": "redis://h?socket_timeout=2", "REDIS_SOCKET_TIMEOUT": "3"}).socket_timeout == 3.0
    u = runtime.RedisSettings.from_env({"REDIS_URL": "unix://:pw@/tmp/r.sock?db=2"})
    assert (u.unix_socket_path, u.db, u.password, u.url) == ("/tmp/r.sock", 2, "pw", "unix://:***@/tmp/r.sock?db=2")
    assert runtime.RedisSettings.from_env({"REDIS_TTL": "900"}).cache_ttl == 900


def test_unix_socket_url_connects(runtime, prefix):
    import asyncio
    import tempfile

    from conftest import RedisServer, free_port

    folder = tempfile.mkdtemp(prefix="gen-sock-")
    sock = f"{folder}/redis.sock"
    port = free_port()
    srv = RedisServer("--port", str(port), "--unixsocket", sock, "--unixsocketperm", "700", port=port).start()
    try:
        url = f"unix://{sock}?db=2" if not ACL_URL_AUTH() else f"unix://{ACL_AUTH()}@{sock}?db=2"
        settings = runtime.RedisSettings.from_env({"REDIS_URL": url, "REDIS_KEY_PREFIX": prefix})
        sync = runtime.SyncRedisClient(settings)
        assert sync.set("k", {"via": "unix"}) is True and sync.get("k") == {"via": "unix"}
        assert sync.health_check()["status"] == "ok"
        sync.close()

        async def run():
            client = runtime.AsyncRedisClient(settings)
            assert await client.get("k") == {"via": "unix"}
            await client.close()

        asyncio.run(run())
        import redis

        db2 = redis.Redis(unix_socket_path=sock, db=2)
        assert db2.exists(prefix + "k") == 1 and srv.admin().exists(prefix + "k") == 0  # ?db=2 honoured
        db2.close()
    finally:
        srv.cleanup()


def ACL_URL_AUTH() -> bool:
    from conftest import ACL

    return ACL


def ACL_AUTH() -> str:
    from conftest import ACL_PASSWORD, ACL_USER

    return f"{ACL_USER}:{ACL_PASSWORD}"
