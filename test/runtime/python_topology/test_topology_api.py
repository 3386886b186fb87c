"""Every cache call of the async and sync clients against a real Redis Cluster or Sentinel set-up: the same API, the
same stored format (test/vectors/cache-contract.json) and the same answers as against a single server."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from conftest import MODE, PASSWORD, SENTINEL_PASSWORD, USER

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "vectors" / "cache-contract.json").read_text(encoding="utf-8"))


def run(coro):
    return asyncio.run(coro)


def slots_of(admin, keys):
    return {admin.keyslot(k) for k in keys} if MODE == "cluster" else set()


def test_the_mode_is_read_from_the_environment(settings):
    assert settings.mode == MODE
    assert (settings.username, settings.password) == (USER, PASSWORD)
    if MODE == "cluster":
        assert len(settings.cluster_nodes) == 6 and settings.db == 0
    else:
        assert len(settings.sentinels) == 3 and settings.sentinel_master
        assert settings.sentinel_password == SENTINEL_PASSWORD


def test_get_set_delete_exists_incr_ttl_async(runtime, settings, admin, prefix):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        assert await c.get("missing") is None and await c.get("missing", default="d") == "d"
        assert await c.set("user:1", {"name": "Ada", "tags": ["a"]}) is True
        assert await c.get("user:1") == {"name": "Ada", "tags": ["a"]}
        assert await c.exists("user:1") is True
        assert await c.incr("counter") == 1 and await c.incr("counter", 41) == 42
        keys = ["user:1", "counter", "nope"] + [f"spread:{i}" for i in range(20)]
        for k in keys[3:]:
            await c.set(k, k)
        if MODE == "cluster":
            assert len(slots_of(admin, [prefix + k for k in keys])) > 10  # DEL across slots: grouped by redis-py
        assert await c.delete(*keys) == 22
        assert await c.delete() == 0 and await c.exists("user:1") is False
        await c.set("default", 1)
        assert 295 <= await c.ttl("default") <= 300
        await c.set("forever", 1, ttl=0)
        assert await c.ttl("forever") == -1
        await c.set("td", 1, ttl=timedelta(minutes=2))
        assert 115 <= await c.ttl("td") <= 120
        await c.set("frac", 1, ttl=1.5)
        assert 1000 < await c.client.pttl(prefix + "frac") <= 1500
        assert await c.expire("forever", 30) is True and 25 <= await c.ttl("forever") <= 30
        assert await c.expire("forever", 0) is True and await c.ttl("forever") == -1
        assert await c.ttl("never-set") == -2
        stats = c.stats()
        assert stats["mode"] == MODE and stats["errors"] == 0 and stats["hits"] >= 1 and stats["misses"] >= 2
        await c.close()

    run(body())


def test_shared_vectors_round_trip_and_stored_bytes(runtime, settings, admin, prefix):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        for v in VECTORS["vectors"]:
            assert await c.set(v["key"], v["value"]) is True
            assert admin.get(prefix + v["key"]) == v["stored"], v["name"]  # the key and value format do not change
            assert await c.get(v["key"]) == v["value"], v["name"]
        for v in VECTORS["raw"]:
            admin.set(prefix + v["key"], v["stored"])
            assert await c.get(v["key"]) == v["value"], v["name"]
        await c.close()

    run(body())


def test_caller_errors_still_raise(runtime, settings, admin, prefix):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        with pytest.raises(TypeError):
            await c.set("obj", object())
        admin.lpush(prefix + "list", "x")
        with pytest.raises(redis.exceptions.ResponseError):
            await c.incr("list")  # WRONGTYPE: the caller's mistake, not an outage
        assert c.breaker.state == "closed" and c.stats()["errors"] == 0
        await c.close()

    run(body())


def test_get_many_set_many_across_slots_keep_the_callers_order(runtime, settings, admin, prefix):
    names = [f"k{i}" for i in range(200)]

    async def body():
        c = runtime.AsyncRedisClient(settings)
        assert await c.set_many({n: {"i": i} for i, n in enumerate(names)}, ttl=60) is True
        asked = list(reversed(names)) + ["absent", "k7"]
        got = await c.get_many(asked)
        assert list(got) == [n for n in asked if n != "absent"][:200]  # the caller's order, hits only
        assert got["k7"] == {"i": 7} and "absent" not in got and len(got) == 200
        assert await c.get_many([]) == {}
        assert 55 <= await c.ttl("k199") <= 60
        tagged = {f"{{user:1}}:{i}": i for i in range(10)}  # one hash tag: one slot, one MGET
        assert await c.set_many(tagged) is True and await c.get_many(list(tagged)) == tagged
        await c.close()

    run(body())
    if MODE == "cluster":
        assert len(slots_of(admin, [prefix + n for n in names])) > 100
        masters = {admin.get_node_from_key(prefix + n).name for n in names}
        assert len(masters) == 3  # spread over every master
    s = runtime.SyncRedisClient(settings)
    got = s.get_many(list(reversed(names)))
    assert list(got) == list(reversed(names)) and got["k3"] == {"i": 3}
    assert s.set_many({n: i for i, n in enumerate(names)}) is True and s.get("k9") == 9
    s.close()


def test_get_many_a_key_of_another_type_is_a_miss_as_in_one_mget(runtime, settings, admin, prefix):
    """The cache contract (and Node's getMany): get_many answers as one MGET would, where a list is nil, a miss; the
    cluster path sends a GET for a key alone in its slot, which Redis answers WRONGTYPE, so it must not raise."""
    names = [f"t{i}" for i in range(40)]
    admin.lpush(prefix + "a-list", "x")

    async def body():
        c = runtime.AsyncRedisClient(settings)
        assert await c.set_many({n: i for i, n in enumerate(names)}) is True
        before = c.stats()
        got = await c.get_many(["a-list", *names, "absent"])
        assert got == {n: i for i, n in enumerate(names)}
        after = c.stats()
        assert after["hits"] - before["hits"] == 40 and after["misses"] - before["misses"] == 2
        assert c.breaker.state == "closed" and after["errors"] == 0
        await c.close()

    run(body())
    s = runtime.SyncRedisClient(settings)
    assert s.get_many(["a-list", "t3"]) == {"t3": 3}
    assert s.stats()["errors"] == 0
    s.close()


def test_delete_pattern_10k_keys_on_every_master_leaves_foreign_keys(runtime, settings, admin, prefix):
    foreign = "gentopo:foreign-" + prefix.split(":")[1] + ":"
    for i in range(300):
        admin.set(f"{foreign}session:{i}", "x")

    async def body():
        c = runtime.AsyncRedisClient(settings)
        assert await c.set_many({f"session:{i}": i for i in range(10_000)}) is True
        await c.set("user:1", "keep")
        assert await c.delete_pattern("session:*") == 10_000  # summed over the masters
        assert await c.get("user:1") == "keep"
        assert await c.set_many({f"session:{i}": i for i in range(2_000)}) is True
        await c.close()

    run(body())
    s = runtime.SyncRedisClient(settings)
    assert s.delete_pattern("session:*") == 2_000
    s.close()
    assert len(list(admin.scan_iter(match=f"{foreign}session:*", count=1000))) == 300
    assert list(admin.scan_iter(match=f"{prefix}session:*", count=1000)) == []
    for i in range(300):
        admin.delete(f"{foreign}session:{i}")


def test_single_flight_cached_and_rate_limit(runtime, settings):
    calls = {"n": 0}

    async def loader():
        calls["n"] += 1
        await asyncio.sleep(0.1)
        return {"report": 1}

    async def body():
        c = runtime.AsyncRedisClient(settings)
        results = await asyncio.gather(*[c.get_or_set("cold", loader, ttl=60) for _ in range(200)])
        assert calls["n"] == 1 and all(r == {"report": 1} for r in results)
        assert await c.get_or_set("cold", loader) == {"report": 1} and calls["n"] == 1

        @c.cached(ttl=60)
        async def price(product_id: int) -> dict:
            calls["n"] += 1
            return {"id": product_id}

        assert await price(1) == await price(1) == {"id": 1} and calls["n"] == 2
        assert await price.invalidate(1) == 1
        results = await asyncio.gather(*[c.rate_limit("login:ada", 10, 30) for _ in range(100)])
        assert sum(r.allowed for r in results) == 10
        assert sorted(r.count for r in results) == list(range(1, 101))
        await c.close()

    run(body())
    s = runtime.SyncRedisClient(settings)
    out = []
    threads = [threading.Thread(target=lambda: out.append(s.rate_limit("api:key", 5, 30).allowed)) for _ in range(40)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert out.count(True) == 5
    n = {"calls": 0}

    def slow():
        n["calls"] += 1
        time.sleep(0.1)
        return 7

    got = []
    threads = [threading.Thread(target=lambda: got.append(s.get_or_set("t", slow))) for _ in range(30)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert n["calls"] == 1 and got == [7] * 30
    s.close()


def test_sync_client_api(runtime, settings):
    c = runtime.SyncRedisClient(settings)
    assert c.set("a", [1, 2], ttl=timedelta(seconds=30)) is True and c.get("a") == [1, 2]
    assert c.get_many(["a", "b"]) == {"a": [1, 2]}
    assert c.set_many({"b": "x", "c": None}) is True and c.get("c") is None and c.exists("c") is True
    assert c.incr("n", 3) == 3 and 25 <= c.ttl("a") <= 30
    assert c.expire("a", 0) is True and c.ttl("a") == -1
    assert c.delete("a", "b") == 2
    assert c.delete_pattern("*") == 2
    assert c.stats()["errors"] == 0
    c.close()


def test_sessions(runtime, settings):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        store = runtime.SessionStore(c, ttl=60)
        sid = await store.create({"user": 1})
        assert await store.get(sid) == {"user": 1}
        assert await store.destroy(sid) is True and await store.get(sid) is None
        await c.close()

    run(body())


def test_health_and_metrics(runtime, settings):
    async def body():
        c = runtime.AsyncRedisClient(settings)
        started = time.monotonic()
        h = await c.health_check()
        assert time.monotonic() - started < 0.5
        assert h["status"] == "ok", h
        assert h["mode"] == MODE and h["module"] == "redis" and h["version"] == runtime.VERSION
        conn = h["connection"]
        if MODE == "cluster":
            assert conn == {"mode": "cluster", "nodes": [f"{a}:{p}" for a, p in settings.cluster_nodes], "use_tls": False}
            cl = h["cluster"]
            assert cl["state"] == "ok" and cl["slots_covered"] == cl["slots_total"] == 16384
            assert cl["masters_total"] == cl["masters_reachable"] >= 3
            assert all(m["ok"] and m["latency_ms"] >= 0 and ":" in m["address"] for m in cl["masters"])
        else:
            assert conn == {
                "mode": "sentinel",
                "sentinels": [f"{a}:{p}" for a, p in settings.sentinels],
                "master_name": settings.sentinel_master,
                "db": 0,
                "use_tls": False,
            }
            st = h["sentinel"]
            assert st["master_name"] == settings.sentinel_master and st["master"].startswith("127.0.0.1:")
            assert st["sentinels_reachable"] == st["sentinels_total"] == 3
        text = json.dumps(h) + json.dumps(c.metadata()) + c.render_prometheus() + repr(settings)
        for secret in (PASSWORD, SENTINEL_PASSWORD):
            if secret:
                assert secret not in text
        prom = c.render_prometheus()
        assert f'rapidkit_redis_mode{{mode="{MODE}"}} 1' in prom
        if MODE == "cluster":
            assert "rapidkit_redis_cluster_masters_reachable " in prom and "rapidkit_redis_cluster_slots_covered 16384" in prom
            assert "rapidkit_redis_sentinels_reachable" not in prom
        else:
            assert "rapidkit_redis_sentinels_reachable 3" in prom and "cluster_masters" not in prom
        assert c.metadata()["mode"] == MODE and c.metadata()["connection"] == conn
        await c.close()

    run(body())
    s = runtime.SyncRedisClient(settings)
    h = s.health_check()
    assert h["status"] == "ok" and h["mode"] == MODE and MODE in h, h
    s.close()
