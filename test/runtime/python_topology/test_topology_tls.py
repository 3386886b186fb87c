"""The data nodes on TLS only (test/topology.ts with TopologyCerts: a CA and a server certificate naming localhost and
127.0.0.1, made with openssl): REDIS_TLS + REDIS_TLS_CA_FILE reach every cluster node, and the master the (plaintext)
sentinels name, with the async and the sync client; a client trusting another CA is refused and fails open."""
from __future__ import annotations

import asyncio
import os
import time

from conftest import MODE, TLS_CA

OTHER_CA = os.environ.get("GEN_TOPO_TLS_OTHER_CA", "")


def test_the_set_up_is_tls(settings):
    assert TLS_CA and OTHER_CA, "GEN_TOPO_TLS_CA and GEN_TOPO_TLS_OTHER_CA must be set"
    assert settings.use_tls and settings.tls_ca_file == TLS_CA and settings.tls_check_hostname


def test_calls_across_slots_health_and_stored_values_over_tls(runtime, settings, admin, prefix):
    names = [f"k{i}" for i in range(60)]

    async def body():
        c = runtime.AsyncRedisClient(settings)
        assert await c.set("user:1", {"name": "Ada"}) is True and await c.get("user:1") == {"name": "Ada"}
        assert await c.set_many({n: {"i": i} for i, n in enumerate(names)}, ttl=60) is True
        got = await c.get_many(list(reversed(names)) + ["absent"])
        assert list(got) == list(reversed(names)) and got["k7"] == {"i": 7}
        assert await c.incr("n", 5) == 5 and await c.delete("user:1", "n", "absent") == 2
        h = await c.health_check()
        assert h["status"] == "ok" and h["mode"] == MODE, h
        assert h["connection"]["use_tls"] is True and h["connection"]["mode"] == MODE
        if MODE == "cluster":
            assert h["cluster"]["state"] == "ok" and h["cluster"]["masters_reachable"] == h["cluster"]["masters_total"] == 3
        else:
            assert h["sentinel"]["sentinels_reachable"] == 3 and h["sentinel"]["master"].startswith("127.0.0.1:")
        assert c.stats()["errors"] == 0
        await c.close()

    asyncio.run(body())
    if MODE == "cluster":
        assert len({admin.get_node_from_key(prefix + n).name for n in names}) == 3  # keys on every master
    assert admin.get(prefix + "k3") == '{"i":3}'  # the stored format, read back by a raw redis-py client over TLS
    s = runtime.SyncRedisClient(settings)
    got = s.get_many(names)
    assert list(got) == names and got["k59"] == {"i": 59}
    assert s.set_many({n: i for i, n in enumerate(names)}) is True and s.get("k9") == 9
    assert s.delete(*names) == 60
    h = s.health_check()
    assert h["status"] == "ok" and h["connection"]["use_tls"] is True and h["mode"] == MODE, h
    assert s.stats()["errors"] == 0
    s.close()


def test_a_client_trusting_another_ca_is_refused_and_fails_open(runtime, env):
    # cluster: 3 seeds ("a few are enough"): every refused seed costs the probe a TLS handshake and an SSL context
    # (redis-py builds one per connection), which on two shared cores can outlast the health bound with six
    seeds = {"REDIS_CLUSTER_NODES": ",".join(env["REDIS_CLUSTER_NODES"].split(",")[:3])} if MODE == "cluster" else {}
    wrong = runtime.RedisSettings.from_env({**env, **seeds, "REDIS_TLS_CA_FILE": OTHER_CA, "REDIS_RETRIES": "0"})

    def check(h):
        assert h["status"] == "fail" and h["mode"] == MODE, h
        if MODE == "cluster":
            assert h["detail"].startswith("no cluster node answered: 127.0.0.1:"), h["detail"]
        else:
            assert h["detail"].startswith("master 127.0.0.1:"), h["detail"]
        assert "TLS handshake with 127.0.0.1:" in h["detail"] and "certificate" in h["detail"], h["detail"]

    async def body():
        c = runtime.AsyncRedisClient(wrong)
        assert await c.get("k", default="fallback") == "fallback"  # nothing raised, nothing sent in clear
        assert await c.set("k", 1) is False and await c.get_many(["a", "b"]) == {}
        await asyncio.sleep(wrong.breaker_reset_timeout + 0.1)  # past the breaker: a real probe
        check(await c.health_check())
        assert c.stats()["errors"] >= 1
        await c.close()

    asyncio.run(body())
    s = runtime.SyncRedisClient(wrong)
    assert s.get("k", default=1) == 1 and s.set("k", 1) is False
    time.sleep(wrong.breaker_reset_timeout + 0.1)
    check(s.health_check())
    s.close()
