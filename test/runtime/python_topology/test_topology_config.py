"""Configuration errors of the topology variables: raised at start-up as ConfigError naming the variable and a remedy
(docs/modules/redis/topologies.md). No server needed."""
from __future__ import annotations

import pytest

NODES = "127.0.0.1:7000,127.0.0.1:7001"
SENTINELS = "127.0.0.1:26379,127.0.0.1:26380"


@pytest.mark.parametrize(
    "env,starts,mentions",
    [
        ({"REDIS_CLUSTER_NODES": NODES, "REDIS_SENTINELS": SENTINELS, "REDIS_SENTINEL_MASTER": "m"}, "REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set", "unset one"),
        ({"REDIS_SENTINELS": SENTINELS}, "REDIS_SENTINELS is set without REDIS_SENTINEL_MASTER", "master name"),
        ({"REDIS_SENTINEL_MASTER": "mymaster"}, "REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS", "host:port"),
        ({"REDIS_CLUSTER_NODES": "127.0.0.1:7000,cache-b"}, "REDIS_CLUSTER_NODES", "'cache-b'"),
        ({"REDIS_CLUSTER_NODES": "127.0.0.1:70000"}, "REDIS_CLUSTER_NODES", "'127.0.0.1:70000'"),
        ({"REDIS_CLUSTER_NODES": "127.0.0.1:7000,,127.0.0.1:7001"}, "REDIS_CLUSTER_NODES", "''"),
        ({"REDIS_SENTINELS": "s1:26379,s2", "REDIS_SENTINEL_MASTER": "m"}, "REDIS_SENTINELS", "'s2'"),
        ({"REDIS_CLUSTER_NODES": NODES, "REDIS_DB": "2"}, "REDIS_DB: Redis Cluster has only database 0", "got 2"),
        ({"REDIS_CLUSTER_NODES": NODES, "REDIS_SENTINEL_MASTER": "m"}, "REDIS_SENTINEL_MASTER is set in cluster mode", "unset it"),
    ],
)
def test_invalid_topology_configuration_names_the_variable(runtime, env, starts, mentions):
    with pytest.raises(runtime.ConfigError) as err:
        runtime.RedisSettings.from_env(env)
    assert str(err.value).startswith(starts), str(err.value)
    assert mentions in str(err.value)


def test_valid_topologies_and_what_is_ignored(runtime):
    c = runtime.RedisSettings.from_env({"REDIS_CLUSTER_NODES": " 10.0.0.1:7000 , [::1]:7001", "REDIS_URL": "redis://u:cluster-url-secret@ignored:1/0", "REDIS_DB": "0"})
    assert c.mode == "cluster" and c.cluster_nodes == (("10.0.0.1", 7000), ("::1", 7001)) and c.db == 0
    assert (c.username, c.password) == ("u", "cluster-url-secret")  # auth applies to the data nodes
    assert c.url == "redis+cluster://u:***@10.0.0.1:7000,[::1]:7001" and "cluster-url-secret" not in repr(c)
    s = runtime.RedisSettings.from_env(
        {"REDIS_SENTINELS": "s1:26379,s2:26380", "REDIS_SENTINEL_MASTER": "mymaster", "REDIS_URL": "redis://h:1/3", "REDIS_SENTINEL_PASSWORD": "sentinel-secret-value"}
    )
    assert s.mode == "sentinel" and s.sentinels == (("s1", 26379), ("s2", 26380)) and s.db == 3  # db still read in sentinel mode
    assert s.sentinel_master == "mymaster" and s.sentinel_password == "sentinel-secret-value" and "sentinel-secret-value" not in repr(s) + s.url
    assert runtime.get_redis_metadata(s)["connection"] == {"mode": "sentinel", "sentinels": ["s1:26379", "s2:26380"], "master_name": "mymaster", "db": 3, "use_tls": False}
    assert runtime.RedisSettings.from_env({}).mode == "standalone"
    assert runtime.RedisSettings.from_env({"REDIS_URL": "redis://h:1/2"}).db == 2
    # the URL's db is ignored in cluster mode (only REDIS_DB is refused)
    assert runtime.RedisSettings.from_env({"REDIS_CLUSTER_NODES": NODES, "REDIS_URL": "redis://h:1/4"}).db == 0


def test_standalone_health_and_metrics_name_their_mode(runtime):
    s = runtime.RedisSettings.from_env({"REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_CONNECT_TIMEOUT": "0.2"})
    c = runtime.SyncRedisClient(s)
    h = c.health_check()
    assert h["status"] == "fail" and h["mode"] == "standalone" and "cluster" not in h and "sentinel" not in h
    assert h["connection"] == {"host": "127.0.0.1", "port": 1, "db": 0, "use_tls": False}
    assert c.stats()["mode"] == "standalone" and 'rapidkit_redis_mode{mode="standalone"} 1' in c.render_prometheus()
    c.close()
