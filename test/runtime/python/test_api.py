"""Every cache call of the async and sync clients against a real redis-server."""
from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import redis

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "vectors" / "cache-contract.json").read_text(encoding="utf-8"))


def run(coro):
    return asyncio.run(coro)


def test_get_set_delete_exists_incr_async(runtime, settings, server, prefix):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        assert await c.get("missing") is None
        assert await c.get("missing", default="d") == "d"
        assert await c.set("user:1", {"name": "Ada", "tags": ["a"]}) is True
        assert await c.get("user:1") == {"name": "Ada", "tags": ["a"]}
        assert await c.exists("user:1") is True
        assert await c.incr("counter") == 1
        assert await c.incr("counter", 41) == 42
        assert await c.get("counter") == 42
        assert await c.delete("user:1", "counter", "nope") == 2
        assert await c.delete() == 0
        assert await c.exists("user:1") is False
        stats = c.stats()
        assert stats["hits"] >= 2 and stats["misses"] >= 2 and stats["errors"] == 0
        await c.close()

    run(body())
    assert list(server.admin().scan_iter(match=prefix + "*")) == []


def test_ttl_semantics(runtime, settings, server, prefix):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        await c.set("default", 1)
        assert 295 <= await c.ttl("default") <= 300  # None => CACHE_TTL
        await c.set("forever", 1, ttl=0)
        assert await c.ttl("forever") == -1  # 0 => no expiry
        await c.set("td", 1, ttl=timedelta(minutes=2))
        assert 115 <= await c.ttl("td") <= 120
        await c.set("frac", 1, ttl=1.5)
        pttl = await c.client.pttl(prefix + "frac")
        assert 1000 < pttl <= 1500  # fractions go through PX
        await c.set("short", 1, ttl=timedelta(milliseconds=150))
        await asyncio.sleep(0.3)
        assert await c.get("short") is None
        assert await c.ttl("never-set") == -2
        with pytest.raises(ValueError):
            await c.set("neg", 1, ttl=-1)
        with pytest.raises(TypeError):
            await c.set("bad", 1, ttl="10")
        assert await c.expire("forever", 30) is True
        assert 25 <= await c.ttl("forever") <= 30
        assert await c.expire("forever", 0) is True  # 0 => persist again
        assert await c.ttl("forever") == -1
        await c.close()

    run(body())
    zero = runtime.RedisSettings.from_env({**{"REDIS_URL": settings_url(settings)}, "REDIS_KEY_PREFIX": prefix, "CACHE_TTL": "0"})
    s = runtime.SyncRedisClient(zero)
    s.set("zero-default", "x")
    assert s.ttl("zero-default") == -1  # a default TTL of 0 also means no expiry
    s.close()


def settings_url(settings):
    auth = f"{settings.username}:{settings.password}@" if settings.password else ""
    return f"redis://{auth}{settings.host}:{settings.port}/{settings.db}"


def test_shared_vectors_round_trip_and_stored_bytes(runtime, settings, server, prefix):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        for v in VECTORS["vectors"]:
            assert await c.set(v["key"], v["value"]) is True
            assert await c.client.get(prefix + v["key"]) == v["stored"], v["name"]
            assert await c.get(v["key"]) == v["value"], v["name"]
        for v in VECTORS["raw"]:
            await c.client.set(prefix + v["key"], v["stored"])
            assert await c.get(v["key"]) == v["value"], v["name"]
        await c.close()

    run(body())


def test_caller_errors_raise(runtime, settings, prefix):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        with pytest.raises(TypeError):
            await c.set("obj", object())
        await c.client.lpush(prefix + "list", "x")
        with pytest.raises(redis.exceptions.ResponseError):
            await c.incr("list")  # WRONGTYPE: the caller's mistake, not an outage
        assert c.breaker.state == "closed"
        await c.close()

    run(body())


def test_get_many_set_many(runtime, settings):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        assert await c.set_many({f"k{i}": {"i": i} for i in range(100)}, ttl=60) is True
        got = await c.get_many([f"k{i}" for i in range(100)] + ["absent"])
        assert len(got) == 100 and got["k7"] == {"i": 7} and "absent" not in got
        assert await c.get_many([]) == {}
        assert 55 <= await c.ttl("k99") <= 60
        await c.close()

    run(body())


def test_delete_pattern_10k_keys_leaves_foreign_keys(runtime, settings, server, prefix):
    admin = server.admin()
    foreign_prefix = "gentest:foreign-" + prefix.split(":")[1] + ":"
    admin.mset({f"{foreign_prefix}session:{i}": "x" for i in range(500)})
    if not settings.password:  # keys outside the test prefix only when not running as the ACL user
        admin.mset({f"other-app:session:{i}": "x" for i in range(500)})

    async def body():
        c = runtime.AsyncRedisClient(settings)
        assert await c.set_many({f"session:{i}": i for i in range(10_000)}) is True
        await c.set("user:1", "keep")
        removed = await c.delete_pattern("session:*")
        assert removed == 10_000
        assert await c.get("user:1") == "keep"
        await c.close()

    run(body())
    assert admin.dbsize() >= 501
    assert len(list(admin.scan_iter(match=f"{foreign_prefix}session:*", count=1000))) == 500
    assert list(admin.scan_iter(match=f"{prefix}session:*", count=1000)) == []
    if not settings.password:
        assert len(list(admin.scan_iter(match="other-app:*", count=1000))) == 500
        admin.delete(*[f"other-app:session:{i}" for i in range(500)])
    admin.delete(*[f"{foreign_prefix}session:{i}" for i in range(500)])


def test_single_flight_200_callers_one_loader_run(runtime, settings):
    calls = {"n": 0}

    async def loader():
        calls["n"] += 1
        await asyncio.sleep(0.1)
        return {"report": 1}

    async def body():
        c = runtime.AsyncRedisClient(settings)
        results = await asyncio.gather(*[c.get_or_set("cold", loader, ttl=60) for _ in range(200)])
        assert calls["n"] == 1
        assert all(r == {"report": 1} for r in results)
        assert await c.get_or_set("cold", loader) == {"report": 1}
        assert calls["n"] == 1  # now a hit
        # a cached None is a hit, not a miss
        assert await c.get_or_set("nothing", lambda: None) is None
        assert await c.get_or_set("nothing", lambda: 1 / 0) is None
        await c.close()

    run(body())


def test_sync_single_flight_threads(runtime, settings):
    c = runtime.SyncRedisClient(settings)
    calls = {"n": 0}
    lock = threading.Lock()

    def loader():
        with lock:
            calls["n"] += 1
        import time

        time.sleep(0.1)
        return 7

    results = []
    threads = [threading.Thread(target=lambda: results.append(c.get_or_set("t", loader))) for _ in range(50)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert calls["n"] == 1 and results == [7] * 50
    c.close()


def test_cached_decorator(runtime, settings):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        calls = {"n": 0}

        @c.cached(ttl=60)
        async def price(product_id: int) -> dict:
            calls["n"] += 1
            return {"id": product_id, "cents": 100}

        assert await price(1) == {"id": 1, "cents": 100}
        assert await price(1) == {"id": 1, "cents": 100}
        assert await price(2) == {"id": 2, "cents": 100}
        assert calls["n"] == 2
        assert await price.invalidate(1) == 1
        await price(1)
        assert calls["n"] == 3
        await c.close()

    run(body())


def test_rate_limit_is_atomic_under_concurrency(runtime, settings):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        results = await asyncio.gather(*[c.rate_limit("login:ada", 10, 30) for _ in range(100)])
        assert sum(r.allowed for r in results) == 10
        assert sorted(r.count for r in results) == list(range(1, 101))
        assert all(0 < r.reset_after <= 30 for r in results)
        with pytest.raises(ValueError):
            await c.rate_limit("x", 0, 1)
        await c.close()

    run(body())
    # and across threads with the sync client
    s = runtime.SyncRedisClient(settings)
    out = []
    threads = [threading.Thread(target=lambda: out.append(s.rate_limit("api:key", 5, 30).allowed)) for _ in range(40)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert out.count(True) == 5
    s.close()


def test_sync_client_api(runtime, settings):
    c = runtime.SyncRedisClient(settings)
    assert c.set("a", [1, 2], ttl=timedelta(seconds=30)) is True
    assert c.get("a") == [1, 2]
    assert c.get_many(["a", "b"]) == {"a": [1, 2]}
    assert c.set_many({"b": "x", "c": None}) is True
    assert c.get("c") is None and c.exists("c") is True
    assert c.incr("n", 3) == 3
    assert 25 <= c.ttl("a") <= 30
    assert c.expire("a", 0) is True and c.ttl("a") == -1
    assert c.delete_pattern("*") == 4
    assert c.health_check()["status"] == "ok"
    assert "rapidkit_redis_hits_total" in c.render_prometheus()
    c.close()


def test_health_payload_ok(runtime, settings):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        h = await c.health_check()
        assert h["status"] == "ok" and h["module"] == "redis" and h["version"] == runtime.VERSION
        assert h["latency"]["ping_ms"] >= 0
        assert set(h["pool"]) == {"active", "idle", "max"} and h["pool"]["max"] == settings.max_connections
        assert h["connection"] == {"host": "127.0.0.1", "port": settings.port, "db": 0, "use_tls": False}
        assert h["breaker"]["state"] == "closed" and h["checked_at"].endswith("Z")
        if settings.password:
            assert settings.password not in json.dumps(h)
        await c.close()

    run(body())


def test_metadata_masks_the_password(runtime):
    meta = runtime.get_redis_metadata(runtime.RedisSettings.from_env({"REDIS_URL": "redis://user:secret@cache.internal:6380/2"}))
    assert meta["url"] == "redis://user:***@cache.internal:6380/2"
    assert meta["connection"] == {"host": "cache.internal", "port": 6380, "db": 2, "use_tls": False}
    assert meta["module"] == "redis" and meta["version"] == runtime.VERSION
    assert set(meta["retry"]) == {"preconnect", "attempts", "backoff_base"}
    assert "secret" not in json.dumps(meta)
    composed = runtime.RedisSettings.from_env({"REDIS_HOST": "h", "REDIS_PORT": "6390", "REDIS_DB": "3", "REDIS_PASSWORD": "pw", "REDIS_TLS": "yes"})
    assert composed.url == "rediss://:***@h:6390/3"
    assert runtime.RedisSettings.from_env({"REDIS_CACHE_TTL": "12"}).cache_ttl == 12


@pytest.mark.parametrize(
    "env,name",
    [
        ({"REDIS_PORT": "http"}, "REDIS_PORT"),
        ({"REDIS_TLS": "maybe"}, "REDIS_TLS"),
        ({"CACHE_TTL": "-1"}, "CACHE_TTL"),
        ({"REDIS_SOCKET_TIMEOUT": "fast"}, "REDIS_SOCKET_TIMEOUT"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"REDIS_MAX_CONNECTIONS": "0"}, "REDIS_MAX_CONNECTIONS"),
        ({"REDIS_TLS_CA_FILE": "/nonexistent/ca.pem"}, "REDIS_TLS_CA_FILE"),
    ],
)
def test_invalid_configuration_names_the_variable(runtime, env, name):
    with pytest.raises(runtime.ConfigError) as err:
        runtime.RedisSettings.from_env(env)
    assert str(err.value).startswith(name)


def test_wrapper_pins_its_version_and_names_the_restore_command(runtime, tmp_path):
    import shutil
    import subprocess
    import sys

    project = Path(runtime.__file__).resolve().parents[1]
    copy = tmp_path / "proj"
    (copy / "app").mkdir(parents=True)
    (copy / "app" / "__init__.py").write_text("")
    shutil.copy(project / "app" / "redis_cache.py", copy / "app" / "redis_cache.py")
    # another version vendored beside it must not be picked up: no silent fallback
    other = copy / ".rapidkit" / "vendor" / "redis" / "0.9.0" / "python"
    shutil.copytree(project / runtime.VENDOR_PACKAGE.relative_to(project).parent, other)
    r = subprocess.run([sys.executable, "-c", "import app.redis_cache"], cwd=copy, capture_output=True, text=True)
    assert r.returncode != 0
    assert f"runtime {runtime.VENDOR_VERSION} is not vendored" in r.stderr
    assert "npx gen add module redis --framework fastapi" in r.stderr
    assert not any("rapidkit/vendor" in p for p in sys.path)  # loaded by path, sys.path untouched


def test_create_redis_pool_factories_honour_an_explicit_url(runtime, server, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # an explicit url= wins over the environment

    async def body():
        client = await runtime.create_redis_pool(url=server.url, max_connections=5, decode_responses=True)
        assert await client.ping() is True
        assert client.connection_pool.max_connections == 5
        await client.set("gentest:factory", "v")
        assert await client.get("gentest:factory") == "v"
        await client.delete("gentest:factory")
        await client.connection_pool.disconnect()

    run(body())
    sync = runtime.create_sync_redis_pool(url=server.url, decode_responses=False)
    assert sync.ping() is True
    sync.close()


def test_cached_refuses_arguments_without_a_stable_key(runtime, settings):
    class Session:  # no __repr__: its text is a memory address, different in every process
        pass

    class Product:
        def __init__(self, sku):
            self.sku = sku

        def __repr__(self):
            return f"Product({self.sku!r})"

    async def body():
        c = runtime.AsyncRedisClient(settings)

        @c.cached(ttl=30)
        async def lookup(thing):
            return repr(thing)

        with pytest.raises(TypeError, match="key="):
            await lookup(Session())
        assert await lookup(Product("a-1")) == "Product('a-1')"

        @c.cached(ttl=30, key=lambda session, sku: f"by-sku:{sku}")
        async def with_key(session, sku):
            return sku.upper()

        assert await with_key(Session(), "x") == "X"
        assert await c.get("by-sku:x") == "X"
        await c.close()

    run(body())


def test_environment_first_then_baked_defaults(runtime):
    import importlib

    baked = importlib.import_module(runtime.runtime.__name__ + "._defaults")
    s = runtime.RedisSettings.from_env({})
    assert s.url == baked.DEFAULTS["url"] and s.key_prefix == baked.DEFAULTS["key_prefix"] == baked.PROJECT_SLUG + ":"
    assert (s.cache_ttl, s.max_connections, s.retries) == (baked.DEFAULTS["cache_ttl"], 50, baked.DEFAULTS["retries"])
    e = runtime.RedisSettings.from_env({"REDIS_BACKOFF": "250ms", "REDIS_SOCKET_TIMEOUT": "0.2s", "REDIS_KEY_PREFIX": "", "CACHE_TTL": "7", "REDIS_CACHE_TTL": "9"})
    assert (e.backoff, e.socket_timeout, e.key_prefix, e.cache_ttl) == (0.25, 0.2, "", 7)  # CACHE_TTL wins over its alias
    assert e.deadline < 10 and repr(runtime.RedisSettings.from_env({"REDIS_URL": "redis://:pw@h:1/0"})).count("pw") == 0
