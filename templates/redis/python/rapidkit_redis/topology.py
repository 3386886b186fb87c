"""Redis Cluster and Sentinel: the clients come from redis-py itself (RedisCluster, Sentinel.master_for, sync and
asyncio); this module only builds them with the module's settings and probes the topology for the health payload.
No home-made sharding or failover: slots, MOVED/ASK and master discovery are redis-py's.
"""
from __future__ import annotations

import asyncio
import inspect
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from time import perf_counter
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple, cast

import redis
from redis import exceptions as rexc

from .config import ConfigError, RedisSettings

SLOTS_TOTAL = 16384
NODE_TIMEOUT = 0.18  # per node and per step (two steps): the health answer stays within its 0.4 s bound


def address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _major() -> int:
    """redis-py's major version."""
    match = re.match(r"([0-9]+)", str(getattr(redis, "__version__", "0")))
    return int(match.group(1)) if match else 0


def _tls_kwargs(settings: RedisSettings) -> Dict[str, Any]:
    return dict(
        ssl_cert_reqs="required",
        ssl_ca_certs=settings.tls_ca_file,
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
    )


def _sync_cluster_checks_hostname() -> bool:
    """redis-py's sync cluster before 6 (4.3, 5.0) drops ssl_check_hostname from the arguments it hands its nodes:
    they would verify the CA only, never the name."""
    from redis import cluster as sync_cluster

    return "ssl_check_hostname" in getattr(sync_cluster, "REDIS_ALLOWED_KEYS", ("ssl_check_hostname",))


def _checked_hostname_by_url(settings: RedisSettings, kwargs: Dict[str, Any]) -> None:
    """For those versions: the nodes built from a URL get their connection class from the arguments (not from
    ssl=True), so an SSL connection class that always checks the hostname is given that way."""
    from redis.connection import SSLConnection as SyncSSLConnection

    class HostnameCheckingSSLConnection(SyncSSLConnection):
        def __init__(self, **connection_kwargs: Any) -> None:
            connection_kwargs["ssl_check_hostname"] = True
            super().__init__(**connection_kwargs)

    host, port = settings.cluster_nodes[0]
    kwargs.pop("ssl", None)
    kwargs.pop("ssl_check_hostname", None)
    kwargs["url"] = f"redis://{address(host, port)}"  # one more seed (the first); scheme redis: no class of its own
    kwargs["connection_class"] = HostnameCheckingSSLConnection


def cluster_client(
    settings: RedisSettings, max_connections: int, decode_responses: bool, asyncio_api: bool, retry_cls: type, backoff: Any
) -> Any:
    """redis-py's RedisCluster (sync or asyncio) on the configured seed nodes. A refused node, CLUSTERDOWN or
    TRYAGAIN make redis-py refresh its slot map and try again a bounded number of times (REDIS_RETRIES)."""
    if asyncio_api:
        try:
            from redis.asyncio.cluster import ClusterNode, RedisCluster
        except ImportError:  # pragma: no cover - redis-py < 4.3 (the supported floor, 4.3.4, has it)
            raise ConfigError("REDIS_CLUSTER_NODES: the asyncio cluster client needs redis-py >= 4.3; upgrade redis") from None
        from redis.asyncio.connection import SSLConnection

        cls: Any = RedisCluster
        node_cls: Any = ClusterNode
        seeds: List[Any] = [ClusterNode(h, p) for h, p in settings.cluster_nodes]
    else:
        from redis.cluster import ClusterNode as SyncClusterNode
        from redis.cluster import RedisCluster as SyncRedisCluster

        cls = SyncRedisCluster
        node_cls = SyncClusterNode
        seeds = [SyncClusterNode(h, p) for h, p in settings.cluster_nodes]  # type: ignore[no-untyped-call,unused-ignore]
        SSLConnection = None  # type: ignore[assignment,misc]
    params = inspect.signature(cls.__init__).parameters
    kwargs: Dict[str, Any] = dict(
        startup_nodes=seeds,
        require_full_coverage=False,  # a slot without a master fails open alone; the other slots keep serving
        username=settings.username,
        password=settings.password,
        client_name=settings.client_name,
        decode_responses=decode_responses,
        encoding="utf-8",
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.connect_timeout,
        socket_keepalive=True,
        max_connections=max_connections,
    )
    if _major() >= 6 and "retry" in params:  # 6+: the Retry object sets the cluster-level attempts (1 + retries)
        kwargs["retry"] = retry_cls(backoff, settings.retries)
    else:  # 4.x/5.x: the number of attempts in all
        kwargs["cluster_error_retry_attempts"] = settings.retries + 1
    # redis-py 4.3's asyncio cluster takes no TLS argument at all: it drops ssl*/connection_class from its keyword
    # arguments and would speak plaintext. Its nodes get the TLS connection class and settings below instead.
    tls_by_node = settings.use_tls and asyncio_api and "ssl" not in params
    if settings.use_tls and not tls_by_node:
        kwargs.update(_tls_kwargs(settings))
        kwargs["ssl"] = True
        if "ssl_check_hostname" in params or not asyncio_api:
            kwargs["ssl_check_hostname"] = settings.tls_check_hostname
        if not asyncio_api and settings.tls_check_hostname and not _sync_cluster_checks_hostname():
            _checked_hostname_by_url(settings, kwargs)
    client = cls(**kwargs)
    manager = client.nodes_manager
    if tls_by_node:
        if "connection_class" not in inspect.signature(node_cls.__init__).parameters:  # pragma: no cover - never plaintext
            raise ConfigError("REDIS_TLS: this redis-py's asyncio cluster client cannot speak TLS; upgrade redis")
        # every node the manager creates (slot map, MOVED) is built from these keyword arguments
        tls = dict(_tls_kwargs(settings), connection_class=SSLConnection, ssl_check_hostname=settings.tls_check_hostname)
        manager.connection_kwargs.update(tls)
    if asyncio_api:
        # every node the manager creates from the slot map reads pipelined replies in one window (batch_reads)
        from redis.asyncio.connection import Connection as AsyncConnection

        base = manager.connection_kwargs.get("connection_class") or AsyncConnection
        manager.connection_kwargs["connection_class"] = _batch_reading(base)
    if asyncio_api and (_major() < 5 or tls_by_node):
        # redis-py 4.3/4.4's asyncio cluster asks the startup nodes for the slot map without the client's connection
        # settings (no username/password/TLS: NOAUTH); 5.0 rebuilds them the same way, with the client's settings.
        node_kwargs = manager.connection_kwargs if tls_by_node else client.connection_kwargs
        manager.startup_nodes = {n.name: node_cls(n.host, n.port, **node_kwargs) for n in manager.startup_nodes.values()}
    return client


# --- one read window per pipelined batch (asyncio cluster) ------------------------------------------------------


class _Batch:
    """The replies of one pipelined batch, read under one `socket_timeout` window (`batch_reads`)."""

    __slots__ = ("expired", "inside", "cancelled", "timer")

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self.inside: Set["asyncio.Task[Any]"] = set()  # tasks inside a read (or the send) of this batch right now
        self.cancelled: Set["asyncio.Task[Any]"] = set()  # ... that the end of the window cancelled
        self.timer = asyncio.get_running_loop().call_later(seconds, self._expire)

    def _expire(self) -> None:
        self.expired = True
        for task in self.inside:
            self.cancelled.add(task)
            task.cancel()

    def enter(self, conn: "_BatchReads") -> "Optional[Tuple[asyncio.Task[Any], Optional[float]]]":
        task = cast("asyncio.Task[Any]", asyncio.current_task())
        if task in self.inside:
            return None  # a windowed method called by another: the outer call holds the window
        saved, conn.socket_timeout = conn.socket_timeout, None  # redis-py arms no timer for this step
        self.inside.add(task)
        return task, saved

    def leave(self, conn: "_BatchReads", task: "asyncio.Task[Any]", saved: Optional[float]) -> None:
        self.inside.discard(task)
        conn.socket_timeout = saved  # before the connection can go back to its pool

    def ended(self, task: "asyncio.Task[Any]") -> bool:
        """Whether this task's cancellation is the window's end (then taken back), not the caller's own."""
        if task not in self.cancelled:
            return False
        self.cancelled.discard(task)
        task.uncancel()
        return True


_BATCH: "ContextVar[Optional[_Batch]]" = ContextVar("rapidkit_redis_batch", default=None)


@contextmanager
def batch_reads(seconds: float) -> Iterator[None]:
    """Within this block, the asyncio cluster connections send a pipeline and read its replies under one timer of
    `seconds` for the whole batch instead of redis-py's timer per reply (armed and cancelled 100 times for a 100-key
    get_many: ~40 % of its time). When the window ends, a read still waiting raises redis-py's TimeoutError exactly
    as a timed-out read does: the pipeline records it, redis-py drops the connection (no reply is left unread on
    it), its retry rules apply, and any later read times out one by one as usual. No call waits longer than before;
    a connection goes back to its pool with its own timeout. The caller's own cancellation is left as it is."""
    batch = _Batch(seconds)
    token = _BATCH.set(batch)
    try:
        yield
    finally:
        _BATCH.reset(token)
        batch.timer.cancel()


def _windowed(name: str, what: str) -> Callable[..., Any]:
    """redis-py's connection method `name`, run inside a `batch_reads` window when there is one (see there). One
    frame per call: a 100-key batch runs it 100 times."""

    async def method(self: "_BatchReads", *args: Any, **kwargs: Any) -> Any:
        op = getattr(super(_BatchReads, self), name)
        batch = _BATCH.get()
        if batch is None or batch.expired:
            return await op(*args, **kwargs)
        entered = batch.enter(self)
        if entered is None:
            return await op(*args, **kwargs)
        task, saved = entered
        try:
            return await op(*args, **kwargs)
        except asyncio.CancelledError:
            if not batch.ended(task):
                raise
            raise rexc.TimeoutError(f"Timeout {what} {address(self.host, self.port)}") from None
        finally:
            batch.leave(self, task, saved)

    method.__name__ = method.__qualname__ = name
    return method


class _BatchReads:
    """Mixed into the asyncio cluster's connection class: sending a pipeline and reading its replies (redis-py 4.3
    reads them through read_response_without_lock) in the batch's window."""

    host: str
    port: int
    socket_timeout: Optional[float]

    read_response = _windowed("read_response", "reading from")
    read_response_without_lock = _windowed("read_response_without_lock", "reading from")
    send_packed_command = _windowed("send_packed_command", "writing to")


_BATCH_CLASSES: Dict[type, type] = {}


def _batch_reading(base: type) -> type:
    """`base` (redis.asyncio Connection or SSLConnection) with `_BatchReads` mixed in, one class per base."""
    cls = _BATCH_CLASSES.get(base)
    if cls is None:
        cls = _BATCH_CLASSES[base] = type(f"BatchReading{base.__name__}", (_BatchReads, base), {})
    return cls


def sentinel_client(
    settings: RedisSettings, decode_responses: bool, asyncio_api: bool, connection_kwargs: Dict[str, Any], max_connections: int
) -> Any:
    """redis-py's Sentinel(...).master_for(name): each new connection asks the sentinels where the master is now, and
    a connection to a demoted master is dropped, so the client follows a failover without a restart."""
    if asyncio_api:
        from redis.asyncio.sentinel import Sentinel as AsyncSentinel

        sentinel_cls: Any = AsyncSentinel
    else:
        from redis.sentinel import Sentinel as SyncSentinel

        sentinel_cls = SyncSentinel
    sentinel_kwargs: Dict[str, Any] = dict(socket_timeout=settings.connect_timeout, socket_connect_timeout=settings.connect_timeout)
    if settings.sentinel_username:
        sentinel_kwargs["username"] = settings.sentinel_username
    if settings.sentinel_password:
        sentinel_kwargs["password"] = settings.sentinel_password
    manager = sentinel_cls(list(settings.sentinels), sentinel_kwargs=sentinel_kwargs)
    kwargs = {k: v for k, v in connection_kwargs.items() if k not in ("host", "port", "path")}
    if kwargs.pop("connection_class", None) is not None and settings.use_tls:
        kwargs["ssl"] = True  # redis-py picks its Sentinel-managed SSL connection (the data nodes' TLS settings)
    return manager.master_for(settings.sentinel_master, max_connections=max_connections, **kwargs)


# --- health probes --------------------------------------------------------------------------------------------


def _text(reply: Any) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return reply if isinstance(reply, str) else ""


def parse_cluster_info(reply: Any) -> Dict[str, str]:
    if isinstance(reply, dict):
        return {_text(k) or str(k): _text(v) or str(v) for k, v in reply.items()}
    out: Dict[str, str] = {}
    for line in _text(reply).splitlines():
        key, sep, value = line.strip().partition(":")
        if sep:
            out[key] = value
    return out


def parse_cluster_nodes(reply: Any) -> List[Dict[str, Any]]:
    """Masters of a CLUSTER NODES reply: address, failing or not, and how many slots each owns."""
    out: List[Dict[str, Any]] = []
    for line in _text(reply).splitlines():
        f = line.split()
        if len(f) < 8 or "master" not in f[2].split(","):
            continue
        host, _, rest = f[1].rpartition(":")
        port = rest.split("@")[0]
        slots = 0
        for r in f[8:]:
            if r.startswith("["):
                continue
            lo, _, hi = r.partition("-")
            slots += int(hi or lo) - int(lo) + 1
        flags = f[2].split(",")
        out.append({"address": address(host.strip("[]"), int(port)), "slots": slots, "failing": "fail" in flags or "fail?" in flags})
    return out


def cluster_verdict(
    view: Optional[Tuple[Dict[str, str], List[Dict[str, Any]]]], pings: Dict[str, Tuple[bool, Optional[float], str]], errors: Sequence[str]
) -> Tuple[Optional[str], Dict[str, Any]]:
    """The cluster block of the health payload and the failure detail (None when the cache can serve)."""
    if view is None:
        empty: Dict[str, Any] = {"state": None, "slots_covered": 0, "slots_total": SLOTS_TOTAL}
        empty.update(masters_reachable=0, masters_total=0, masters=[])
        return "no cluster node answered: " + "; ".join(errors[:3]), empty
    info, masters = view
    state = info.get("cluster_state") or None
    covered = int(info.get("cluster_slots_ok") or 0)
    listed = []
    for m in masters:
        ok, latency, _ = pings.get(m["address"], (False, None, "not probed"))
        listed.append({"address": m["address"], "ok": ok, "latency_ms": latency})
    block: Dict[str, Any] = {
        "state": state,
        "slots_covered": covered,
        "slots_total": SLOTS_TOTAL,
        "masters_reachable": sum(1 for m in listed if m["ok"]),
        "masters_total": len(listed),
        "masters": listed,
    }
    detail = None
    if state != "ok":
        detail = f"cluster_state is {state}: the cluster refuses queries (CLUSTERDOWN) until every slot has a master again"
    elif covered != SLOTS_TOTAL:
        detail = f"{SLOTS_TOTAL - covered} of {SLOTS_TOTAL} slots have no working master"
    else:
        down = [m for m in masters if m["slots"] > 0 and not pings.get(m["address"], (False, None, ""))[0]]
        if down:
            m = down[0]
            why = pings.get(m["address"], (False, None, "?"))[2]
            detail = f"master {m['address']} owning {m['slots']} slots is unreachable ({why}); its replica has not taken over yet"
    return detail, block


def sentinel_block(settings: RedisSettings, master: Optional[str], reachable: int) -> Dict[str, Any]:
    total = len(settings.sentinels)
    return {"master_name": settings.sentinel_master, "master": master, "sentinels_reachable": reachable, "sentinels_total": total}


def node_settings(settings: RedisSettings, host: str, port: int, *, sentinel: bool = False) -> RedisSettings:
    """Standalone settings for one probe connection to one node (a data node, or a sentinel with its own auth)."""
    base = replace(
        settings,
        mode="standalone",
        host=host,
        port=port,
        unix_socket_path=None,
        socket_timeout=NODE_TIMEOUT,
        connect_timeout=NODE_TIMEOUT,
        retries=0,
        max_connections=2,
        cluster_nodes=(),
        sentinels=(),
    )
    if settings.mode == "cluster":
        base = replace(base, db=0)
    if sentinel:
        base = replace(base, db=0, username=settings.sentinel_username, password=settings.sentinel_password, use_tls=False)
    return base


class Prober:
    """Plain one-node redis-py clients for the probes, one per address (never the cache's own clients)."""

    def __init__(self, settings: RedisSettings, make: Callable[[RedisSettings], Any]) -> None:
        self.settings = settings
        self.make = make
        self.clients: Dict[Tuple[str, bool], Any] = {}
        self.known: List[Tuple[str, int]] = list(settings.cluster_nodes)  # seeds, then every master seen

    def client(self, host: str, port: int, sentinel: bool = False) -> Any:
        key = (address(host, port), sentinel)
        c = self.clients.get(key)
        if c is None:
            c = self.clients[key] = self.make(node_settings(self.settings, host, port, sentinel=sentinel))
        return c

    def learn(self, masters: List[Dict[str, Any]]) -> None:
        for m in masters:
            host, _, port = m["address"].rpartition(":")
            pair = (host.strip("[]"), int(port))
            if pair not in self.known:
                self.known.append(pair)

    def forget(self) -> List[Any]:
        out, self.clients = list(self.clients.values()), {}
        return out


def _split(addr: str) -> Tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


Describe = Callable[[BaseException, RedisSettings], str]
Verdict = Tuple[Optional[str], Dict[str, Any]]


def _errors(prober: Prober, seeds: List[Tuple[str, int]], replies: Sequence[Any], describe: Describe) -> List[str]:
    out = []
    for (h, p), r in zip(seeds, replies, strict=False):
        if isinstance(r, BaseException):
            out.append(f"{address(h, p)}: {describe(r, node_settings(prober.settings, h, p))}")
    return out


async def probe_cluster_async(prober: Prober, describe: Describe) -> Verdict:
    async def view_of(host: str, port: int) -> Tuple[Dict[str, str], List[Dict[str, Any]]]:
        c = prober.client(host, port)
        info = parse_cluster_info(await c.execute_command("CLUSTER", "INFO"))
        return info, parse_cluster_nodes(await c.execute_command("CLUSTER", "NODES"))

    seeds = list(prober.known)
    replies = await asyncio.gather(*[view_of(h, p) for h, p in seeds], return_exceptions=True)
    errors = _errors(prober, seeds, replies, describe)
    view = _best([r for r in replies if not isinstance(r, BaseException)])
    pings: Dict[str, Tuple[bool, Optional[float], str]] = {}
    if view is not None:
        prober.learn(view[1])

        async def ping(addr: str) -> Tuple[bool, Optional[float], str]:
            host, port = _split(addr)
            started = perf_counter()
            try:
                await prober.client(host, port).ping()
                return True, round((perf_counter() - started) * 1000, 3), ""
            except Exception as exc:
                return False, None, describe(exc, node_settings(prober.settings, host, port))

        addrs = [m["address"] for m in view[1]]
        pings = dict(zip(addrs, await asyncio.gather(*[ping(a) for a in addrs]), strict=False))
    return cluster_verdict(view, pings, errors)


def probe_cluster_sync(prober: Prober, describe: Describe) -> Verdict:
    def view_of(pair: Tuple[str, int]) -> Any:
        try:
            c = prober.client(*pair)
            info = parse_cluster_info(c.execute_command("CLUSTER", "INFO"))
            return info, parse_cluster_nodes(c.execute_command("CLUSTER", "NODES"))
        except Exception as exc:
            return exc

    def ping(addr: str) -> Tuple[bool, Optional[float], str]:
        host, port = _split(addr)
        started = perf_counter()
        try:
            prober.client(host, port).ping()
            return True, round((perf_counter() - started) * 1000, 3), ""
        except Exception as exc:
            return False, None, describe(exc, node_settings(prober.settings, host, port))

    seeds = list(prober.known)
    with ThreadPoolExecutor(max_workers=min(16, max(1, len(seeds)))) as pool:
        replies = list(pool.map(view_of, seeds))
        errors = _errors(prober, seeds, replies, describe)
        view = _best([r for r in replies if not isinstance(r, BaseException)])
        pings: Dict[str, Tuple[bool, Optional[float], str]] = {}
        if view is not None:
            prober.learn(view[1])
            addrs = [m["address"] for m in view[1]]
            pings = dict(zip(addrs, pool.map(ping, addrs), strict=False))
    return cluster_verdict(view, pings, errors)


def _best(views: List[Tuple[Dict[str, str], List[Dict[str, Any]]]]) -> Optional[Tuple[Dict[str, str], List[Dict[str, Any]]]]:
    """The most complete view among the nodes that answered (a node cut off from the others sees less)."""
    if not views:
        return None
    return max(views, key=lambda v: (v[0].get("cluster_state") == "ok", int(v[0].get("cluster_slots_ok") or 0)))


def _master_reply(reply: Any) -> Optional[Tuple[str, int]]:
    if isinstance(reply, (list, tuple)) and len(reply) == 2:
        return _text(reply[0]) or str(reply[0]), int(reply[1])
    return None


async def probe_sentinel_async(prober: Prober, describe: Describe, health_key: str) -> Verdict:
    s = prober.settings

    async def ask(pair: Tuple[str, int]) -> Any:
        reply = await prober.client(*pair, sentinel=True).execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.sentinel_master)
        return _master_reply(reply)

    replies = await asyncio.gather(*[ask(p) for p in s.sentinels], return_exceptions=True)
    detail, master = _sentinel_verdict(s, replies, describe)
    if master is not None and detail is None:
        try:
            c = prober.client(*master)
            await c.ping()
            await c.set(health_key, "1", px=10_000)  # a demoted master (READONLY) or OOM refuses writes only
        except Exception as exc:
            detail = f"master {address(*master)}: {describe(exc, node_settings(s, *master))}"
    reachable = sum(1 for r in replies if not isinstance(r, BaseException))
    return detail, sentinel_block(s, address(*master) if master else None, reachable)


def probe_sentinel_sync(prober: Prober, describe: Describe, health_key: str) -> Verdict:
    s = prober.settings

    def ask(pair: Tuple[str, int]) -> Any:
        try:
            reply = prober.client(*pair, sentinel=True).execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.sentinel_master)
            return _master_reply(reply)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(16, max(1, len(s.sentinels)))) as pool:
        replies = list(pool.map(ask, s.sentinels))
    detail, master = _sentinel_verdict(s, replies, describe)
    if master is not None and detail is None:
        try:
            c = prober.client(*master)
            c.ping()
            c.set(health_key, "1", px=10_000)
        except Exception as exc:
            detail = f"master {address(*master)}: {describe(exc, node_settings(s, *master))}"
    reachable = sum(1 for r in replies if not isinstance(r, BaseException))
    return detail, sentinel_block(s, address(*master) if master else None, reachable)


def _sentinel_verdict(s: RedisSettings, replies: List[Any], describe: Describe) -> Tuple[Optional[str], Optional[Tuple[str, int]]]:
    answers = [r for r in replies if r is not None and not isinstance(r, BaseException)]
    if not answers:
        errors = [
            f"{address(*p)}: {describe(r, node_settings(s, *p, sentinel=True))}"
            for p, r in zip(s.sentinels, replies, strict=False)
            if isinstance(r, BaseException)
        ]
        if errors:
            return "no sentinel answered: " + "; ".join(errors[:3]), None
        return f"no sentinel knows a master named {s.sentinel_master!r} (REDIS_SENTINEL_MASTER)", None
    counts: Dict[Tuple[str, int], int] = {}
    for a in answers:
        counts[a] = counts.get(a, 0) + 1
    return None, max(counts, key=lambda a: counts[a])  # the sentinels' majority view
