"""Async (FastAPI) and sync (Celery, scripts) Redis cache clients with one API and one failure behaviour.

Fail-open: connection errors, timeouts and "not serving" replies (LOADING, BUSY, READONLY, OOM, NOAUTH,
WRONGPASS, ...) make reads return the default and writes return False; they are counted, and a circuit breaker
keeps calls instant while Redis is away. Caller errors (an unencodable value, a negative TTL, WRONGTYPE, NOPERM)
still raise. The stored format and the failure table are docs/cache-contract.md (shared with Node).
"""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
import weakref
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from functools import wraps
from time import perf_counter
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Type, cast

import redis
import redis.asyncio as aioredis
from redis import backoff as _backoff
from redis import exceptions as rexc

from . import topology
from ._defaults import MODULE, VERSION
from .breaker import CircuitBreaker
from .config import RedisSettings, process_env
from .metrics import Metrics
from .serialization import TTL, dumps, escape_glob, loads, pick_ttl, ttl_arguments

logger = logging.getLogger("rapidkit.redis")

# Errors that mean "Redis is unreachable, slow or not serving": fail open.
INFRA_ERRORS: Tuple[Type[BaseException], ...] = tuple(
    e
    for e in (
        rexc.ConnectionError,
        rexc.TimeoutError,
        asyncio.TimeoutError,
        OSError,
        getattr(rexc, "ReadOnlyError", None),
        getattr(rexc, "OutOfMemoryError", None),  # redis-py 5+ (4.x: a ResponseError starting with OOM)
        getattr(rexc, "ClusterDownError", None),
        getattr(rexc, "TryAgainError", None),
        getattr(rexc, "MasterDownError", None),
        getattr(rexc, "MaxConnectionsError", None),
    )
    if e is not None
)

# Replies that mean "Redis is there but not serving this now" (fail open, like a connection error), as opposed to
# "this command is wrong" (WRONGTYPE, NOPERM, syntax: raised). redis-py maps some of them to ConnectionError
# subclasses and others (WRONGPASS before 5.x, BUSY, OOM, MISCONF) to a plain ResponseError, depending on version.
_NOT_SERVING = re.compile(r"^(NOAUTH|WRONGPASS|LOADING|BUSY|READONLY|OOM|MISCONF|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b")
HEALTH_KEY = "rapidkit:health"
HEALTH_TIMEOUT = 0.4  # the probe's own bound, so /health answers within 500 ms (Kubernetes' probe timeout is 1 s)


# redis-py's cluster client says "no node reachable" or "slot without a master" with its own exception types
_CLUSTER_UNREACHABLE = re.compile(r"cannot be connected|reachable node|not covered|TTL exhausted|Too many connections", re.IGNORECASE)


_REDIS_PACKAGE = os.path.dirname(os.path.abspath(redis.__file__)) + os.sep


def _cluster_internals(exc: BaseException) -> bool:
    """An error raised inside redis-py's cluster or Sentinel code while the topology changes under it: redis-py 4.3's
    asyncio cluster raises KeyError from get_node_from_slot while its slot map is empty (no node reachable), 8.x's
    AttributeError ('NoneType' ... 'writelines') when a node's connection is dropped by a concurrent slot-map
    refresh, a ValueError ("I/O operation on closed file") on a connection closed under a call. The cache API never
    lets a caller cause one there (keys and values are checked and encoded first): the deployment cannot serve now."""
    if isinstance(exc, ValueError) and "closed" not in str(exc):
        return False
    if not isinstance(exc, (KeyError, IndexError, AttributeError, ValueError)):
        return False
    tb = exc.__traceback__
    while tb is not None:
        where = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if where.startswith(_REDIS_PACKAGE) and os.path.basename(where) in ("cluster.py", "sentinel.py"):
            return True
        tb = tb.tb_next
    return False


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean Redis is unreachable, slow or not serving (fail open); False for caller errors."""
    if isinstance(exc, INFRA_ERRORS):
        return True
    if isinstance(exc, getattr(rexc, "SlotNotCoveredError", ())) or _cluster_internals(exc):
        return True
    cluster_errors = tuple(e for e in (getattr(rexc, "RedisClusterException", None), getattr(rexc, "ClusterError", None)) if e)
    if type(exc) in cluster_errors:  # their subclasses are specific (CROSSSLOT, ...); the plain ones only by text
        return bool(_CLUSTER_UNREACHABLE.search(str(exc)))
    return isinstance(exc, rexc.ResponseError) and bool(_NOT_SERVING.match(_reply(exc)))


def _reply(exc: BaseException) -> str:
    """The server's reply text; a pipeline error is annotated by redis-py ("Command # 1 (SET key value) of
    pipeline caused error: ..."): the command and its arguments (a cached value) are dropped."""
    text = " ".join(str(exc).split())
    marker = "of pipeline caused error: "
    if text.startswith("Command # ") and marker in text:
        text = text.split(marker, 1)[1].strip("()'\",")
    return text


def describe(exc: BaseException, settings: RedisSettings) -> str:
    """A clear one-line reason, secret-free: redis-py's text where it says something, the root cause where it
    does not ("Error 1 connecting", "Error -3 connecting", an empty TimeoutError)."""
    text = _reply(exc)
    where = settings.endpoint
    root: Optional[BaseException] = None
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, OSError):
            root = cause
        cause = cause.__cause__ or cause.__context__
    if isinstance(root, socket.gaierror):
        text = f"cannot resolve host {settings.host!r}: {root.strerror or root}"
    elif isinstance(root, ssl.SSLError):
        text = f"TLS handshake with {where} failed: {getattr(root, 'verify_message', None) or root.reason or root}"
    elif isinstance(root, ConnectionRefusedError):
        text = f"connection refused by {where}"
    elif text.startswith("No connection available") or isinstance(exc, getattr(rexc, "MaxConnectionsError", ())):
        text = f"connection pool exhausted: all {settings.max_connections} connections busy for {settings.connect_timeout:g} s"
    elif isinstance(exc, (rexc.TimeoutError, asyncio.TimeoutError, socket.timeout)) and (not text or text.lower().startswith("timeout")):
        if "connecting" in text.lower():
            text = f"no connection to {where} within {settings.connect_timeout:g} s ({text})"
        else:
            text = f"no reply from {where} within {settings.socket_timeout:g} s" + (f" ({text})" if text else "")
    elif root is not None and str(root) not in text:
        text = f"{text} ({type(root).__name__}: {root})" if text else f"{type(root).__name__}: {root}"
    if not text:
        text = "no detail given by the client library"
    if settings.password:
        text = text.replace(settings.password, "***")
    if settings.sentinel_password:
        text = text.replace(settings.sentinel_password, "***")
    return f"{type(exc).__name__}: {text}"[:300]

RATE_LIMIT_LUA = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); pttl = tonumber(ARGV[1]) end
return {current, pttl}
"""

# Full-jitter exponential backoff where redis-py has it (5.x+), equal jitter on older versions.
_Backoff = getattr(_backoff, "ExponentialWithJitterBackoff", None) or _backoff.EqualJitterBackoff

SCAN_COUNT = 1000
UNLINK_BATCH = 500
FEATURES = [
    "redis.async-client",
    "redis.sync-client",
    "cache.fail-open",
    "cache.circuit-breaker",
    "cache.single-flight",
    "cache.delete-pattern-scan",
    "cache.rate-limit-lua",
    "metrics.prometheus",
    "fastapi.dependency",
    "fastapi.health",
    "redis.cluster",
    "redis.sentinel",
]


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    remaining: int
    reset_after: float
    count: int

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _retry(settings: RedisSettings, retry_cls: type) -> Any:
    """Retries connection errors (a dropped or refused connection, e.g. after a Redis restart) with jittered
    exponential backoff. Timeouts are not retried: a slow or unreachable Redis would only multiply the wait.
    (The OS errors are listed because redis-py 4.x retries connect() on these, not on its own ConnectionError.)"""
    backoff = _Backoff(cap=max(settings.backoff * 8, 0.001), base=settings.backoff)
    return retry_cls(backoff, settings.retries, supported_errors=(rexc.ConnectionError, ConnectionRefusedError, ConnectionResetError))


def _connection_kwargs(
    settings: RedisSettings, decode_responses: bool, retry: Any, ssl_cls: type, unix_cls: Optional[type] = None
) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        db=settings.db,
        username=settings.username,
        password=settings.password,
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.connect_timeout,
        socket_keepalive=True,
        retry_on_error=[rexc.ConnectionError],
        retry=retry,
        # no health_check_interval: with a retry policy and a client name, redis-py 4.x recursed endlessly on a peer
        # that accepts and closes (PING -> connect -> CLIENT SETNAME -> PING ...). Keepalive and the retry on
        # ConnectionError already replace a connection that died while idle.
        client_name=settings.client_name,
        decode_responses=decode_responses,
        encoding="utf-8",
    )
    if settings.unix_socket_path:  # unix:// URL: a socket path instead of host/port (no TCP keepalive there)
        for tcp_only in ("host", "port", "socket_keepalive", "socket_connect_timeout"):
            kwargs.pop(tcp_only)
        kwargs.update(path=settings.unix_socket_path, connection_class=unix_cls)
    elif settings.use_tls:
        kwargs.update(
            connection_class=ssl_cls,
            ssl_cert_reqs="required",
            ssl_ca_certs=settings.tls_ca_file,
            ssl_certfile=settings.tls_cert_file,
            ssl_keyfile=settings.tls_key_file,
            ssl_check_hostname=settings.tls_check_hostname,
        )
    return kwargs


def _settings_for(url: Optional[str], settings: Optional[RedisSettings]) -> RedisSettings:
    if settings is not None:
        return settings
    return RedisSettings.from_env({**process_env(), "REDIS_URL": url}) if url else RedisSettings.from_env()


def _client(settings: RedisSettings, max_connections: Optional[int], decode_responses: bool, asyncio_api: bool) -> Any:
    """A redis-py client on a bounded, blocking pool (bursts wait up to the connect timeout) with the module's
    timeouts and retry policy. The Retry is also given to the client: newer redis-py versions retry there."""
    if asyncio_api:
        from redis.asyncio.connection import BlockingConnectionPool, SSLConnection, UnixDomainSocketConnection

        try:
            from redis.asyncio.retry import Retry
        except ImportError:  # pragma: no cover - redis-py versions with one Retry class for both APIs
            from redis.retry import Retry  # type: ignore[assignment]
        client_cls: Any = aioredis.Redis
    else:
        from redis.connection import BlockingConnectionPool, SSLConnection, UnixDomainSocketConnection  # type: ignore[assignment]
        from redis.retry import Retry  # type: ignore[assignment]

        client_cls = redis.Redis
    if settings.mode == "cluster":  # redis-py's own cluster client: slots, MOVED/ASK, failover
        backoff = _Backoff(cap=max(settings.backoff * 8, 0.001), base=settings.backoff)
        return topology.cluster_client(settings, max_connections or settings.max_connections, decode_responses, asyncio_api, Retry, backoff)
    retry = _retry(settings, Retry)
    if settings.mode == "sentinel":  # redis-py's Sentinel: every new connection goes to the master the sentinels name
        kwargs = _connection_kwargs(settings, decode_responses, retry, SSLConnection, UnixDomainSocketConnection)
        return topology.sentinel_client(settings, decode_responses, asyncio_api, kwargs, max_connections or settings.max_connections)
    pool = BlockingConnectionPool(
        max_connections=max_connections or settings.max_connections,
        timeout=settings.connect_timeout,  # pyright: ignore[reportArgumentType]  # seconds; a float is fine
        **_connection_kwargs(settings, decode_responses, retry, SSLConnection, UnixDomainSocketConnection),
    )
    return client_cls(connection_pool=pool, retry=retry)


async def create_redis_pool(
    url: Optional[str] = None,
    *,
    max_connections: Optional[int] = None,
    decode_responses: bool = True,
    settings: Optional[RedisSettings] = None,
) -> "aioredis.Redis":
    """A redis.asyncio client on a bounded, blocking pool with the module's timeouts and retry policy."""
    return cast("aioredis.Redis", _client(_settings_for(url, settings), max_connections, decode_responses, True))


def create_sync_redis_pool(
    url: Optional[str] = None,
    *,
    max_connections: Optional[int] = None,
    decode_responses: bool = True,
    settings: Optional[RedisSettings] = None,
) -> "redis.Redis":
    """The sync counterpart of create_redis_pool (safe after fork: redis-py resets the pool in the child)."""
    return cast("redis.Redis", _client(_settings_for(url, settings), max_connections, decode_responses, False))


def _counts_from_api(pool: Any) -> Optional[Tuple[int, int]]:
    """(active, idle) from the public get_connection_count() of newer redis-py, when its answer is readable:
    OpenTelemetry-style [(count, {..."state": "idle"|"used"})]. None otherwise (older versions, other shapes)."""
    counter = getattr(pool, "get_connection_count", None)
    if not callable(counter):
        return None
    try:
        answer: Any = counter()
        if inspect.isawaitable(answer):  # an async pool: not readable from sync code, and never awaited here
            getattr(answer, "close", lambda: None)()
            return None
        active = idle = None
        for count, attributes in answer:
            state = next((v for k, v in dict(attributes).items() if str(k).endswith("state")), None)
            if state == "idle":
                idle = (idle or 0) + int(count)
            elif state in ("used", "in_use", "active"):
                active = (active or 0) + int(count)
        return (active, idle) if active is not None and idle is not None else None
    except Exception:
        return None


def pool_stats(client: Any, max_connections: int) -> Dict[str, Any]:
    """Active/idle connections of a redis-py pool, across redis-py versions; None where it cannot tell."""
    pool: Any = getattr(client, "connection_pool", None)
    active = idle = None
    counts = _counts_from_api(pool)
    try:
        if counts is not None:
            active, idle = counts
        elif hasattr(pool, "_in_use_connections") and hasattr(pool, "_available_connections"):
            active, idle = len(pool._in_use_connections), len(pool._available_connections)
        elif hasattr(pool, "_connections") and hasattr(pool, "pool"):  # BlockingConnectionPool (queue based)
            queued = getattr(pool.pool, "_queue", None) or getattr(pool.pool, "queue", [])
            idle = sum(1 for c in list(queued) if c is not None)
            active = max(0, len(pool._connections) - idle)
    except Exception:  # pragma: no cover - private fields differ between versions
        active = idle = None
    return {"active": active, "idle": idle, "max": getattr(pool, "max_connections", max_connections)}


def get_redis_metadata(settings: Optional[RedisSettings] = None) -> Dict[str, Any]:
    """Resolved configuration for dashboards and diagnostics. The password is masked; no secret anywhere."""
    s = settings or RedisSettings.from_env()
    return {
        "module": MODULE,
        "version": VERSION,
        "url": s.url,
        "mode": s.mode,
        "connection": _connection_block(s),
        "retry": {"preconnect": s.preconnect, "attempts": s.retries, "backoff_base": s.backoff},
        "cache_ttl": s.cache_ttl,
        "key_prefix": s.key_prefix,
        "pool": {"max_connections": s.max_connections, "socket_timeout": s.socket_timeout, "connect_timeout": s.connect_timeout},
        "breaker": {"threshold": s.breaker_threshold, "reset_timeout": s.breaker_reset_timeout},
        "features": list(FEATURES),
    }


def _connection_block(s: RedisSettings) -> Dict[str, Any]:
    """Where the cache connects, per mode (docs/modules/redis/health.md). Never a secret."""
    if s.mode == "cluster":
        return {"mode": "cluster", "nodes": [topology.address(h, p) for h, p in s.cluster_nodes], "use_tls": s.use_tls}
    if s.mode == "sentinel":
        sentinels = [topology.address(h, p) for h, p in s.sentinels]
        return {"mode": "sentinel", "sentinels": sentinels, "master_name": s.sentinel_master, "db": s.db, "use_tls": s.use_tls}
    return {"host": s.host, "port": s.port, "db": s.db, "use_tls": s.use_tls}


def _key_text(value: Any) -> str:
    kind = type(value)
    if kind.__repr__ is object.__repr__ and kind.__str__ is object.__str__:  # type: ignore[comparison-overlap]
        raise TypeError(
            f"cached(): an argument of type {kind.__name__} has no stable text (its repr is a memory address), so it "
            "cannot be part of a cache key; pass key=lambda *args, **kwargs: ... to cached()"
        )
    return str(value)


def _args_key(name: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> str:
    blob = json.dumps([args, kwargs], sort_keys=True, default=_key_text, separators=(",", ":"))
    return f"cached:{name}:{hashlib.sha256(blob.encode()).hexdigest()[:24]}"


class _Base:
    """What both clients share: settings, prefix, breaker, metrics, failure accounting, introspection."""

    def __init__(self, settings: Optional[RedisSettings] = None) -> None:
        self.settings = settings or RedisSettings.from_env()
        self.prefix = self.settings.key_prefix
        self.breaker = CircuitBreaker(self.settings.breaker_threshold, self.settings.breaker_reset_timeout, self.settings.deadline)
        self.metrics = Metrics()
        self.metrics.mode = self.settings.mode
        self._topology: Optional[Dict[str, Any]] = None  # the cluster/sentinel block of the last health check
        self._prober: Optional[topology.Prober] = None
        self._last_warning = 0.0
        self._last_error = ""
        # the health probe's own client: one connection, no retries, short timeouts; never the cache's pool
        self._probe_settings = replace(
            self.settings, socket_timeout=HEALTH_TIMEOUT, connect_timeout=HEALTH_TIMEOUT, retries=0, max_connections=1
        )

    def _key(self, key: str) -> str:
        if not isinstance(key, str) or key == "":
            raise TypeError(f"cache keys are non-empty strings, got {key!r}")
        return self.prefix + key

    def _failed(self, exc: BaseException) -> None:
        self.metrics.errors += 1
        self.metrics.fallbacks += 1
        self.breaker.failure()
        self._last_error = describe(exc, self.settings)
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            logger.warning(
                "redis unavailable (%s) at %s; serving without cache (breaker %s)",
                self._last_error, self.settings.url, self.breaker.state,
            )

    def _breaker_detail(self) -> Optional[str]:
        """While the breaker is open (before its next probe is due) health answers from this state at once."""
        b = self.breaker
        if b.state != "open" or time.monotonic() - b.opened_at >= b.reset_timeout:
            return None
        return f"{self._last_error or 'Redis unavailable'} (circuit breaker open after {b.failures} consecutive failures)"

    def _probe_failed(self, exc: BaseException) -> str:
        return describe(exc, self._probe_settings)

    def _unknown_topology(self) -> Dict[str, Any]:
        """The cluster/sentinel block before any probe answered (e.g. health answered from the open breaker)."""
        if self.settings.mode == "cluster":
            return topology.cluster_verdict(None, {}, [])[1]
        return topology.sentinel_block(self.settings, None, 0)

    def _topology_seen(self, block: Dict[str, Any]) -> None:
        self._topology = block
        if self.settings.mode == "cluster":
            self.metrics.gauges = {
                "cluster_masters_reachable": block["masters_reachable"],
                "cluster_masters_total": block["masters_total"],
                "cluster_slots_covered": block["slots_covered"],
            }
        else:
            self.metrics.gauges = {"sentinels_reachable": block["sentinels_reachable"]}

    def _keys(self, names: List[str]) -> List[str]:
        """_key for many keys: every key checked before any is used, one pass each."""
        for key in names:
            if not isinstance(key, str) or key == "":
                self._key(key)  # raises the TypeError
        prefix = self.prefix
        return [prefix + key for key in names]

    def _hits(self, names: List[str], values: List[Any]) -> Dict[str, Any]:
        """The hits of a get_many, decoded, under the caller's names; counts hits and misses once for the batch."""
        out = {}
        found = 0
        for name, raw in zip(names, values, strict=False):
            if raw is not None:
                found += 1
                out[name] = loads(raw)
        metrics = self.metrics
        metrics.hits += found
        metrics.misses += min(len(names), len(values)) - found
        return out

    def _count(self, found: bool) -> None:
        if found:
            self.metrics.hits += 1
        else:
            self.metrics.misses += 1

    def stats(self) -> Dict[str, Any]:
        return {**self.metrics.snapshot(), "breaker": self.breaker.snapshot()}

    def render_prometheus(self) -> str:
        return self.metrics.render_prometheus(self.breaker.state)

    def metadata(self) -> Dict[str, Any]:
        return get_redis_metadata(self.settings)

    def _health(self, ok: bool, started: float, detail: Optional[str], raw: Any) -> Dict[str, Any]:
        """The health payload. Health probes are not cache calls: they never count as errors or fallbacks and
        never move the breaker."""
        payload: Dict[str, Any] = {
            "status": "ok" if ok else "fail",
            "module": MODULE,
            "version": VERSION,
            "mode": self.settings.mode,
        }
        if ok:
            payload["latency"] = {"ping_ms": round((perf_counter() - started) * 1000, 3)}
            payload["pool"] = pool_stats(raw, self.settings.max_connections)
        else:
            payload["detail"] = detail
        payload["connection"] = _connection_block(self.settings)
        if self.settings.mode != "standalone":
            payload[self.settings.mode] = self._topology or self._unknown_topology()
        payload["breaker"] = self.breaker.snapshot()
        payload["checked_at"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return payload


def _sentinel_clients(client: Any) -> List[Any]:
    """The connections a Sentinel master_for client keeps to the sentinels: redis-py does not close them with it."""
    manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
    return list(getattr(manager, "sentinels", None) or [])


def _pool_exhausted() -> BaseException:
    cls = getattr(rexc, "MaxConnectionsError", None) or rexc.ConnectionError
    return cast(BaseException, cls("No connection available: all connections busy"))


def _pipeline(c: Any) -> Any:
    """A non-transactional pipeline; redis-py's cluster pipeline (never MULTI) groups its commands per node."""
    return c.pipeline() if hasattr(c, "get_primaries") else c.pipeline(transaction=False)


def _slot_groups(c: Any, keys: List[str]) -> List[List[int]]:
    """Indexes of `keys` grouped by hash slot, in first-seen order (multi-key commands need one slot)."""
    groups: Dict[int, List[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(int(c.keyslot(key)), []).append(i)
    return list(groups.values())


def _cluster_reads(c: Any, full: List[str]) -> Tuple[Any, List[List[int]]]:
    """A cluster pipeline reading `full`, built as redis-py's mget_nonatomic builds its own (keyslot, then the slot
    map's node, passed as target_nodes) but with one GET for a slot that holds one key and one MGET for a slot that
    holds several: ~100 keys fall in ~100 slots, and a GET reply is cheaper to parse than a one-element MGET array.
    redis-py's pipeline groups the commands per node (one round trip each, nodes in parallel) and replays a command
    answered with MOVED/ASK/TRYAGAIN by its key. Returns the pipeline to execute and each command's key indexes."""
    slot_of, node_of = c.keyslot, c.nodes_manager.get_node_from_slot
    groups: Dict[int, List[int]] = {}
    for i, key in enumerate(full):
        groups.setdefault(slot_of(key), []).append(i)
    pipe = c.pipeline()
    add = pipe.execute_command
    for slot, idx in groups.items():
        if len(idx) == 1:
            add("GET", full[idx[0]], target_nodes=node_of(slot))
        else:
            add("MGET", *[full[i] for i in idx], target_nodes=node_of(slot))
    return pipe, list(groups.values())


def _wrong_type(exc: Exception) -> bool:
    """A GET of _cluster_reads met a key holding another type (a list, a hash): MGET answers nil for it, so the cache
    contract makes it a miss. get_many then reads the batch the MGET way (redis-py's mget_nonatomic): a rare slow
    path, taken only when such a key is asked."""
    return "WRONGTYPE" in str(exc)


def _in_order(size: int, groups: List[List[int]], replies: List[Any]) -> List[Any]:
    """The values of _cluster_reads' replies, in the caller's key order."""
    values: List[Any] = [None] * size
    for idx, reply in zip(groups, replies, strict=False):
        if len(idx) == 1:
            values[idx[0]] = reply
        else:
            for i, value in zip(idx, reply, strict=False):
                values[i] = value
    return values


def _scan_reply(res: Any) -> Tuple[int, List[str]]:
    cursor, found = res[0], res[1]
    return int(cursor), [k.decode() if isinstance(k, bytes) else k for k in found]


def _cancelling() -> bool:
    """Whether the current task itself is being cancelled (Python 3.11+; assume not on 3.10)."""
    task = asyncio.current_task()
    return bool(task is not None and getattr(task, "cancelling", lambda: 0)())


class AsyncRedisClient(_Base):
    """The FastAPI-side cache client (redis.asyncio). One per process; its pool follows the running loop."""

    def __init__(self, settings: Optional[RedisSettings] = None, *, client: Optional["aioredis.Redis"] = None) -> None:
        super().__init__(settings)
        self._client = client
        self._owned = client is None  # a client passed in is the caller's: used as is, never replaced or closed
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._inflight: Dict[str, "asyncio.Future[Any]"] = {}
        self._rate_script: Any = None
        self._probe_client: Any = None
        self._probe_loop: Optional[asyncio.AbstractEventLoop] = None
        self._probe_task: "Optional[asyncio.Future[Optional[str]]]" = None
        self._gate: Optional[asyncio.Semaphore] = None
        self._ready: Any = None  # the cluster client whose slot map is built

    @property
    def client(self) -> "aioredis.Redis":
        """The raw redis.asyncio client (for commands the cache API does not cover)."""
        loop = asyncio.get_running_loop()
        if self._client is None or (self._owned and self._loop is not loop):
            if self._client is not None:
                _abandon(self._client)  # its loop is gone or another one: free the server-side connections
            self._client, self._loop, self._rate_script = _client(self.settings, None, True, True), loop, None
            self._gate = None
        elif self._loop is None:
            self._loop = loop
        return self._client

    async def _call(self, fn: Callable[["aioredis.Redis"], Awaitable[Any]]) -> Tuple[bool, Any]:
        if not self.breaker.allow():
            self.metrics.fallbacks += 1
            return False, None
        started = perf_counter()
        try:
            # Bounded by redis-py's own socket/connect timeouts, pool wait and retry count (settings.deadline):
            # a slow call is abandoned by closing its connection, never by cancelling it mid-reply, which can
            # leave a pooled connection one reply behind on older redis-py versions.
            if self.settings.mode == "standalone":
                result = await fn(self.client)
            else:
                result = await self._gated(fn)
        except INFRA_ERRORS as exc:
            self._failed(exc)
            return False, None
        except Exception as exc:  # noqa: BLE001 (sorted below: outage, caller error, or raised as is)
            if is_unavailable(exc):  # LOADING, BUSY, READONLY, OOM, WRONGPASS, CLUSTERDOWN, ...: not serving now
                self._failed(exc)
                return False, None
            if not isinstance(exc, rexc.ResponseError):
                self.breaker.release()
                raise
            self.breaker.success()  # Redis answered: the caller's mistake (WRONGTYPE, NOPERM, ...), not an outage
            raise
        except BaseException:  # cancelled, or a caller error before Redis answered: no verdict on Redis
            self.breaker.release()
            raise
        finally:
            self.metrics.observe(perf_counter() - started)
        self.breaker.success()
        return True, result

    async def _gated(self, fn: Callable[["aioredis.Redis"], Awaitable[Any]]) -> Any:
        """Cluster and Sentinel modes: redis-py's pools there (per node, SentinelConnectionPool) fail at once when full;
        like the standalone blocking pool, a burst waits up to the connect timeout for one of REDIS_MAX_CONNECTIONS
        calls in flight to finish."""
        client = self.client
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.settings.max_connections)
        if self._ready is not client and self.settings.mode == "cluster":
            # redis-py's asyncio cluster builds its slot map on first use; concurrent first calls racing that build
            # broke connections under one another (8.x): every call waits for it (redis-py serializes it)
            await client.initialize()  # pyright: ignore[reportAttributeAccessIssue]
            self._ready = client
        gate = self._gate
        if not gate.locked():  # a free slot: acquired without suspending (no timer, no task)
            await gate.acquire()
        else:
            try:
                await asyncio.wait_for(gate.acquire(), self.settings.connect_timeout)
            except asyncio.TimeoutError:
                raise _pool_exhausted() from None
        try:
            return await fn(client)
        finally:
            gate.release()

    async def connect(self) -> bool:
        """PING now (the lifespan calls it when REDIS_PRECONNECT is on). Never raises."""
        ok, _ = await self._call(lambda c: c.ping())
        return ok

    async def get(self, key: str, default: Any = None) -> Any:
        full = self._key(key)
        ok, raw = await self._call(lambda c: c.get(full))
        if not ok:
            return default
        self._count(raw is not None)
        return default if raw is None else loads(raw)

    async def set(self, key: str, value: Any, ttl: TTL = None, *, ex: TTL = None, px: Optional[int] = None) -> bool:
        """ttl (or redis-py's ex= seconds / px= milliseconds): None = CACHE_TTL, 0 = no expiry. False when Redis is down."""
        ttl = pick_ttl(ttl, ex, px)
        full, data, args = self._key(key), dumps(value), ttl_arguments(ttl, self.settings.cache_ttl)
        ok, res = await self._call(lambda c: c.set(full, data, **args))
        return bool(ok and res)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        full = [self._key(k) for k in keys]
        ok, res = await self._call(lambda c: c.delete(*full))
        return int(res) if ok else 0

    async def exists(self, key: str) -> bool:
        full = self._key(key)
        ok, res = await self._call(lambda c: c.exists(full))
        return bool(ok and res)

    async def expire(self, key: str, ttl: TTL) -> bool:
        """Sets a key's TTL; 0 removes the expiry (PERSIST), like set()."""
        full, args = self._key(key), ttl_arguments(ttl, self.settings.cache_ttl)
        if not args:
            ok, res = await self._call(lambda c: c.persist(full))
            return bool(ok and res) or (ok and await self.exists(key))
        if "ex" in args:
            ok, res = await self._call(lambda c: c.expire(full, args["ex"]))
        else:
            ok, res = await self._call(lambda c: c.pexpire(full, args["px"]))
        return bool(ok and res)

    async def ttl(self, key: str) -> Optional[int]:
        full = self._key(key)
        ok, res = await self._call(lambda c: c.ttl(full))
        return int(res) if ok else None

    async def incr(self, key: str, amount: int = 1) -> Optional[int]:
        full = self._key(key)
        ok, res = await self._call(lambda c: c.incrby(full, amount))
        return int(res) if ok else None

    async def get_many(self, keys: Iterable[str]) -> Dict[str, Any]:
        """One round trip (MGET); returns the hits only."""
        names = list(keys)
        if not names:
            return {}
        full = self._keys(names)
        cluster = self.settings.mode == "cluster"

        async def run(c: Any) -> List[Any]:
            if not cluster:
                return cast(List[Any], await c.mget(full))
            # cluster: one GET (or MGET) per slot, pipelined per node, the replies read in one window (batch_reads);
            # values in the caller's order
            pipe, groups = _cluster_reads(c, full)
            try:
                with topology.batch_reads(self.settings.socket_timeout):
                    replies = await pipe.execute()
                return _in_order(len(full), groups, replies)
            except rexc.ResponseError as exc:
                if not _wrong_type(exc):
                    raise
                return cast(List[Any], await c.mget_nonatomic(full))  # see _wrong_type

        ok, values = await self._call(run)
        if not ok:
            return {}
        return self._hits(names, values)

    async def set_many(self, mapping: Mapping[str, Any], ttl: TTL = None) -> bool:
        """Pipelined SETs (one round trip). True when every key was written."""
        if not mapping:
            return True
        args = ttl_arguments(ttl, self.settings.cache_ttl)
        items = [(self._key(k), dumps(v)) for k, v in mapping.items()]
        cluster = self.settings.mode == "cluster"

        async def run(c: "aioredis.Redis") -> List[Any]:
            pipe = _pipeline(c)
            for full, data in items:
                pipe.set(full, data, **args)
            with topology.batch_reads(self.settings.socket_timeout) if cluster else nullcontext():  # see get_many
                return cast(List[Any], await pipe.execute())

        ok, res = await self._call(run)
        return bool(ok and all(res))

    async def delete_pattern(self, pattern: str) -> int:
        """SCAN (never KEYS) within the key prefix, UNLINK in batches. Returns how many keys were removed."""
        match = escape_glob(self.prefix) + pattern
        if self.settings.mode == "cluster":
            return await self._delete_pattern_cluster(match)
        removed, cursor = 0, 0
        while True:
            ok, res = await self._call(lambda c: c.scan(cursor=cursor, match=match, count=SCAN_COUNT))  # noqa: B023 (called at once)
            if not ok:
                return removed
            cursor, found = res
            for i in range(0, len(found), UNLINK_BATCH):
                batch = found[i : i + UNLINK_BATCH]
                ok, n = await self._call(lambda c: c.unlink(*batch))  # noqa: B023 (called at once)
                if not ok:
                    return removed
                removed += int(n)
            if int(cursor) == 0:
                return removed

    async def _delete_pattern_cluster(self, match: str) -> int:
        """SCAN on every master (each holds its own slots), UNLINK per slot pipelined per node; summed. A master
        that fails half-way is skipped (fail open): the others are still cleaned."""

        async def primaries(c: Any) -> List[Any]:
            await c.initialize()
            return list(c.get_primaries())

        ok, nodes = await self._call(primaries)
        removed = 0
        for node in nodes if ok else []:
            cursor = 0
            while True:
                ok, res = await self._call(lambda c: node.execute_command("SCAN", cursor, "MATCH", match, "COUNT", SCAN_COUNT))  # noqa: B023
                if not ok:
                    break
                cursor, found = _scan_reply(res)
                for i in range(0, len(found), UNLINK_BATCH):
                    batch = found[i : i + UNLINK_BATCH]

                    async def unlink(c: Any) -> int:
                        groups = _slot_groups(c, batch)  # noqa: B023 (called at once)
                        pipe = c.pipeline()
                        for idx in groups:
                            pipe.execute_command("UNLINK", *[batch[j] for j in idx])  # noqa: B023
                        return sum(int(n) for n in await pipe.execute())

                    ok, n = await self._call(unlink)
                    if ok:
                        removed += int(n)
                if cursor == 0:
                    break
        return removed

    async def get_or_set(self, key: str, loader: Callable[[], Any], ttl: TTL = None) -> Any:
        """Cache-aside with in-process single-flight: concurrent callers of a cold key share one loader run."""
        while True:
            pending = self._inflight.get(key)
            if pending is None:
                break
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if pending.cancelled() and not _cancelling():
                    continue  # the leader's request was cancelled, not this one: take over the load
                raise
        future: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            full = self._key(key)
            ok, raw = await self._call(lambda c: c.get(full))
            if ok:
                self._count(raw is not None)
            if ok and raw is not None:
                value = loads(raw)
            else:
                value = loader()
                if inspect.isawaitable(value):
                    value = await value
                await self.set(key, value, ttl)
            future.set_result(value)
            return value
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        finally:
            self._inflight.pop(key, None)

    def cached(self, ttl: TTL = None, key: Optional[Callable[..., str]] = None, name: Optional[str] = None) -> Callable[..., Any]:
        """Decorator for async functions: results cached under key(*args) or a hash of the arguments."""

        def decorate(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            label = name or f"{fn.__module__}.{fn.__qualname__}"
            make_key = key or (lambda *a, **kw: _args_key(label, a, kw))

            @wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.get_or_set(make_key(*args, **kwargs), lambda: fn(*args, **kwargs), ttl)

            async def invalidate(*args: Any, **kwargs: Any) -> int:
                return await self.delete(make_key(*args, **kwargs))

            wrapper.invalidate = invalidate  # type: ignore[attr-defined]
            return wrapper

        return decorate

    async def rate_limit(self, key: str, limit: int, window: float) -> RateLimitResult:
        """Fixed window, atomic (one Lua script). Fails open (allowed) when Redis is unreachable."""
        if limit < 1 or window <= 0:
            raise ValueError("rate_limit needs limit >= 1 and window > 0 seconds")
        full, window_ms = self._key(f"ratelimit:{key}"), max(1, int(window * 1000))

        async def run(c: "aioredis.Redis") -> Any:
            if self.settings.mode == "cluster":
                # EVAL, not EVALSHA: redis-py 4.x's asyncio cluster has no register_script, and a NOSCRIPT reply from
                # a node that never saw the script (a promoted replica) is logged with a traceback by its cluster
                # client. The server caches the script by its SHA either way.
                return await c.eval(RATE_LIMIT_LUA, 1, full, window_ms)
            if self._rate_script is None:
                self._rate_script = c.register_script(RATE_LIMIT_LUA)
            return await self._rate_script(keys=[full], args=[window_ms])

        ok, res = await self._call(run)
        if not ok:
            return RateLimitResult(True, limit, 0.0, 0)
        count, pttl = int(res[0]), int(res[1])
        return RateLimitResult(count <= limit, max(0, limit - count), pttl / 1000.0, count)

    async def health_check(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """PING + a short-lived write on the probe's own connection, within `timeout` (default 0.4 s); answers at
        once from the breaker while it is open. Always answers, never raises, never cancels a Redis call."""
        started = perf_counter()
        detail = self._breaker_detail()
        if detail is not None:
            return self._health(False, started, detail, None)
        bound = timeout or self._probe_settings.socket_timeout
        loop = asyncio.get_running_loop()
        task = self._probe_task
        if task is None or task.done() or task.get_loop() is not loop:  # concurrent health calls share one probe
            task = self._probe_task = loop.create_task(self._probe())
        done, _ = await asyncio.wait({task}, timeout=bound)
        if not done:  # the probe goes on in the background, bounded by its own socket timeouts
            return self._health(False, started, f"TimeoutError: no answer to the health probe within {bound * 1000:.0f} ms", None)
        detail = "health probe cancelled (event loop shutting down)" if task.cancelled() else task.result()
        return self._health(detail is None, started, detail, self._client)

    async def _probe(self) -> Optional[str]:
        loop = asyncio.get_running_loop()
        if self.settings.mode != "standalone":
            return await self._probe_topology(loop)
        if self._probe_client is None or self._probe_loop is not loop:
            if self._probe_client is not None:
                _abandon(self._probe_client)
            self._probe_client, self._probe_loop = _client(self._probe_settings, 1, True, True), loop
        probe = self._probe_client
        try:
            await probe.ping()
            await probe.set(self.prefix + HEALTH_KEY, "1", px=10_000)  # OOM, READONLY, MISCONF refuse writes only
            return None
        except Exception as exc:
            try:
                await probe.connection_pool.disconnect()
            except Exception:
                pass
            return self._probe_failed(exc)

    async def _probe_topology(self, loop: asyncio.AbstractEventLoop) -> Optional[str]:
        """Cluster: CLUSTER INFO/NODES from the nodes, PING every master, concurrently. Sentinel: ask every
        sentinel for the master, then PING + write on it. One-node probe clients, per-node timeouts."""
        if self._prober is None or self._probe_loop is not loop:
            for old in self._prober.forget() if self._prober is not None else []:
                _abandon(old)
            self._prober, self._probe_loop = topology.Prober(self.settings, lambda s: _client(s, 2, True, True)), loop
        prober = self._prober
        try:
            if self.settings.mode == "cluster":
                detail, block = await topology.probe_cluster_async(prober, describe)
            else:
                detail, block = await topology.probe_sentinel_async(prober, describe, self.prefix + HEALTH_KEY)
        except Exception as exc:  # never raises: an unexpected reply shape is a failed probe, not a crash
            return self._probe_failed(exc)
        self._topology_seen(block)
        return detail

    async def close(self) -> None:
        client, self._client = self._client, None
        probe, self._probe_client = self._probe_client, None
        for node in self._prober.forget() if self._prober is not None else []:
            try:
                await node.connection_pool.disconnect()
            except Exception:
                pass
        owned = client if self._owned else None
        for c in (owned, probe, *_sentinel_clients(owned)):
            if c is None:
                continue
            closer = getattr(c, "aclose", None) or c.close
            try:
                await closer()
                await c.connection_pool.disconnect()
            except Exception:  # closing during an outage must not fail the shutdown
                pass


class SyncRedisClient(_Base):
    """The same cache API for Celery tasks and scripts (threads, prefork workers)."""

    def __init__(self, settings: Optional[RedisSettings] = None, *, client: Optional["redis.Redis"] = None) -> None:
        super().__init__(settings)
        self._client = client
        self._lock = threading.Lock()
        self._inflight: Dict[str, "_Flight"] = {}
        self._rate_script: Any = None
        self._probe_client: Optional["redis.Redis"] = None
        self._gate = threading.BoundedSemaphore(self.settings.max_connections)  # cluster/sentinel: see _gated
        _SYNC_CLIENTS.add(self)  # weakly: one fork hook for all clients (see _after_fork_in_child)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(self.settings.max_connections)
        self._inflight = {}
        self.breaker.reset_after_fork()

    @property
    def client(self) -> "redis.Redis":
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = create_sync_redis_pool(settings=self.settings)
        return self._client

    def _call(self, fn: Callable[["redis.Redis"], Any]) -> Tuple[bool, Any]:
        if not self.breaker.allow():
            self.metrics.fallbacks += 1
            return False, None
        started = perf_counter()
        try:
            if self.settings.mode == "standalone":
                result = fn(self.client)
            elif not self._gate.acquire(timeout=self.settings.connect_timeout):  # a burst waits, like the blocking pool
                raise _pool_exhausted()
            else:
                try:
                    result = fn(self.client)
                finally:
                    self._gate.release()
        except INFRA_ERRORS as exc:
            self._failed(exc)
            return False, None
        except Exception as exc:  # noqa: BLE001 (sorted below: outage, caller error, or raised as is)
            if is_unavailable(exc):  # LOADING, BUSY, READONLY, OOM, WRONGPASS, CLUSTERDOWN, ...: not serving now
                self._failed(exc)
                return False, None
            if not isinstance(exc, rexc.ResponseError):
                self.breaker.release()
                raise
            self.breaker.success()  # Redis answered: the caller's mistake (WRONGTYPE, NOPERM, ...), not an outage
            raise
        except BaseException:
            self.breaker.release()
            raise
        finally:
            self.metrics.observe(perf_counter() - started)
        self.breaker.success()
        return True, result

    def connect(self) -> bool:
        return self._call(lambda c: c.ping())[0]

    def get(self, key: str, default: Any = None) -> Any:
        full = self._key(key)
        ok, raw = self._call(lambda c: c.get(full))
        if not ok:
            return default
        self._count(raw is not None)
        return default if raw is None else loads(raw)

    def set(self, key: str, value: Any, ttl: TTL = None, *, ex: TTL = None, px: Optional[int] = None) -> bool:
        ttl = pick_ttl(ttl, ex, px)
        full, data, args = self._key(key), dumps(value), ttl_arguments(ttl, self.settings.cache_ttl)
        ok, res = self._call(lambda c: c.set(full, data, **args))
        return bool(ok and res)

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        full = [self._key(k) for k in keys]
        ok, res = self._call(lambda c: c.delete(*full))
        return int(res) if ok else 0

    def exists(self, key: str) -> bool:
        full = self._key(key)
        ok, res = self._call(lambda c: c.exists(full))
        return bool(ok and res)

    def expire(self, key: str, ttl: TTL) -> bool:
        full, args = self._key(key), ttl_arguments(ttl, self.settings.cache_ttl)
        if not args:
            ok, res = self._call(lambda c: c.persist(full))
            return bool(ok and res) or (ok and self.exists(key))
        if "ex" in args:
            ok, res = self._call(lambda c: c.expire(full, args["ex"]))
        else:
            ok, res = self._call(lambda c: c.pexpire(full, args["px"]))
        return bool(ok and res)

    def ttl(self, key: str) -> Optional[int]:
        full = self._key(key)
        ok, res = self._call(lambda c: c.ttl(full))
        return int(res) if ok else None

    def incr(self, key: str, amount: int = 1) -> Optional[int]:
        full = self._key(key)
        ok, res = self._call(lambda c: c.incrby(full, amount))
        return int(res) if ok else None

    def get_many(self, keys: Iterable[str]) -> Dict[str, Any]:
        names = list(keys)
        if not names:
            return {}
        full = self._keys(names)
        cluster = self.settings.mode == "cluster"

        def run(c: Any) -> List[Any]:
            if not cluster:
                return cast(List[Any], c.mget(full))
            pipe, groups = _cluster_reads(c, full)
            try:
                return _in_order(len(full), groups, pipe.execute())
            except rexc.ResponseError as exc:
                if not _wrong_type(exc):
                    raise
                return cast(List[Any], c.mget_nonatomic(full))  # see _wrong_type

        ok, values = self._call(run)
        if not ok:
            return {}
        return self._hits(names, values)

    def set_many(self, mapping: Mapping[str, Any], ttl: TTL = None) -> bool:
        if not mapping:
            return True
        args = ttl_arguments(ttl, self.settings.cache_ttl)
        items = [(self._key(k), dumps(v)) for k, v in mapping.items()]

        def run(c: "redis.Redis") -> List[Any]:
            pipe = _pipeline(c)
            for full, data in items:
                pipe.set(full, data, **args)
            return cast(List[Any], pipe.execute())

        ok, res = self._call(run)
        return bool(ok and all(res))

    def delete_pattern(self, pattern: str) -> int:
        match = escape_glob(self.prefix) + pattern
        if self.settings.mode == "cluster":
            return self._delete_pattern_cluster(match)
        removed, cursor = 0, 0
        while True:
            ok, res = self._call(lambda c: c.scan(cursor=cursor, match=match, count=SCAN_COUNT))  # noqa: B023 (called at once)
            if not ok:
                return removed
            cursor, found = res
            for i in range(0, len(found), UNLINK_BATCH):
                batch = found[i : i + UNLINK_BATCH]
                ok, n = self._call(lambda c: c.unlink(*batch))  # noqa: B023 (called at once)
                if not ok:
                    return removed
                removed += int(n)
            if int(cursor) == 0:
                return removed

    def _delete_pattern_cluster(self, match: str) -> int:
        ok, nodes = self._call(lambda c: list(cast(Any, c).get_primaries()))
        removed = 0
        for node in nodes if ok else []:
            cursor = 0
            while True:
                ok, res = self._call(lambda c: node.redis_connection.execute_command("SCAN", cursor, "MATCH", match, "COUNT", SCAN_COUNT))  # noqa: B023
                if not ok:
                    break
                cursor, found = _scan_reply(res)
                for i in range(0, len(found), UNLINK_BATCH):
                    batch = found[i : i + UNLINK_BATCH]

                    def unlink(c: Any) -> int:
                        groups = _slot_groups(c, batch)  # noqa: B023 (called at once)
                        pipe = c.pipeline()
                        for idx in groups:
                            pipe.execute_command("UNLINK", *[batch[j] for j in idx])  # noqa: B023
                        return sum(int(n) for n in pipe.execute())

                    ok, n = self._call(unlink)
                    if ok:
                        removed += int(n)
                if cursor == 0:
                    break
        return removed

    def get_or_set(self, key: str, loader: Callable[[], Any], ttl: TTL = None) -> Any:
        """Cache-aside with single-flight across threads of this process."""
        with self._lock:
            flight = self._inflight.get(key)
            leader = flight is None
            if leader:
                flight = self._inflight[key] = _Flight()
        assert flight is not None
        if not leader:
            return flight.wait()
        try:
            full = self._key(key)
            ok, raw = self._call(lambda c: c.get(full))
            if ok:
                self._count(raw is not None)
            if ok and raw is not None:
                value = loads(raw)
            else:
                value = loader()
                self.set(key, value, ttl)
            flight.resolve(value, None)
            return value
        except BaseException as exc:
            flight.resolve(None, exc)
            raise
        finally:
            with self._lock:
                self._inflight.pop(key, None)

    def cached(self, ttl: TTL = None, key: Optional[Callable[..., str]] = None, name: Optional[str] = None) -> Callable[..., Any]:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            label = name or f"{fn.__module__}.{fn.__qualname__}"
            make_key = key or (lambda *a, **kw: _args_key(label, a, kw))

            @wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return self.get_or_set(make_key(*args, **kwargs), lambda: fn(*args, **kwargs), ttl)

            wrapper.invalidate = lambda *a, **kw: self.delete(make_key(*a, **kw))  # type: ignore[attr-defined]
            return wrapper

        return decorate

    def rate_limit(self, key: str, limit: int, window: float) -> RateLimitResult:
        if limit < 1 or window <= 0:
            raise ValueError("rate_limit needs limit >= 1 and window > 0 seconds")
        full, window_ms = self._key(f"ratelimit:{key}"), max(1, int(window * 1000))

        def run(c: "redis.Redis") -> Any:
            if self.settings.mode == "cluster":  # EVAL: see AsyncRedisClient.rate_limit
                return c.eval(RATE_LIMIT_LUA, 1, full, window_ms)
            if self._rate_script is None:
                self._rate_script = c.register_script(RATE_LIMIT_LUA)
            return self._rate_script(keys=[full], args=[window_ms])

        ok, res = self._call(run)
        if not ok:
            return RateLimitResult(True, limit, 0.0, 0)
        count, pttl = int(res[0]), int(res[1])
        return RateLimitResult(count <= limit, max(0, limit - count), pttl / 1000.0, count)

    def health_check(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """PING + a short-lived write on the probe's own connection, each step bounded by `timeout` (default
        0.4 s); answers at once from the breaker while it is open. Never raises."""
        started = perf_counter()
        detail = self._breaker_detail()
        if detail is not None:
            return self._health(False, started, detail, None)
        if self.settings.mode != "standalone":
            return self._health_topology(started)
        settings = self._probe_settings if not timeout else replace(self._probe_settings, socket_timeout=timeout, connect_timeout=timeout)
        with self._lock:
            probe = self._probe_client
            if probe is None or probe.connection_pool.connection_kwargs.get("socket_timeout") != settings.socket_timeout:
                if probe is not None:
                    probe.connection_pool.disconnect()
                probe = self._probe_client = _client(settings, 1, True, False)
        try:
            probe.ping()
            probe.set(self.prefix + HEALTH_KEY, "1", px=10_000)
        except Exception as exc:
            try:
                probe.connection_pool.disconnect()
            except Exception:
                pass
            return self._health(False, started, describe(exc, settings), None)
        return self._health(True, started, None, self._client)

    def _health_topology(self, started: float) -> Dict[str, Any]:
        with self._lock:
            if self._prober is None:
                self._prober = topology.Prober(self.settings, lambda s: _client(s, 2, True, False))
            prober = self._prober
        try:
            if self.settings.mode == "cluster":
                detail, block = topology.probe_cluster_sync(prober, describe)
            else:
                detail, block = topology.probe_sentinel_sync(prober, describe, self.prefix + HEALTH_KEY)
        except Exception as exc:
            return self._health(False, started, self._probe_failed(exc), None)
        self._topology_seen(block)
        return self._health(detail is None, started, detail, self._client)

    def close(self) -> None:
        client, self._client = self._client, None
        probe, self._probe_client = self._probe_client, None
        for node in self._prober.forget() if self._prober is not None else []:
            try:
                node.connection_pool.disconnect()
            except Exception:
                pass
        for c in (client, probe, *_sentinel_clients(client)):
            if c is not None:
                try:
                    c.close()
                    c.connection_pool.disconnect()
                except Exception:
                    pass


_SYNC_CLIENTS: "weakref.WeakSet[SyncRedisClient]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for c in list(_SYNC_CLIENTS):
        c._after_fork()


if hasattr(os, "register_at_fork"):  # registered once per process, not once per client (hooks cannot be removed)
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _abandon(client: Any) -> None:
    """Releases the server side of an async client whose event loop is gone (a loop cannot be awaited on from
    another one): shuts its sockets down so Redis frees the connections now, not when the process exits."""
    pool = getattr(client, "connection_pool", None)
    conns: Dict[int, Any] = {}
    for field in ("_connections", "_available_connections", "_in_use_connections"):  # across redis-py versions
        conns.update((id(c), c) for c in list(getattr(pool, field, None) or []))
    for conn in conns.values():
        writer = getattr(conn, "_writer", None)
        sock = writer.get_extra_info("socket") if writer is not None else None
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass


class _Flight:
    """One in-progress loader run that other threads wait on."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: Optional[BaseException] = None

    def resolve(self, value: Any, error: Optional[BaseException]) -> None:
        self._value, self._error = value, error
        self._done.set()

    def wait(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value
