"""Drop-in facades with the names and call shapes of the systems this module replaces (docs/migration/*.md).

Each facade is backed by the runtime's clients, so calls through it fail open, are counted in the metrics and
trip the same circuit breaker; the health route reports the same client. The generated compat wrappers
(`--set compat=forge|waardhaven|rapidkit`) only instantiate these classes at the import path the old code uses.

With `compat` set, RedisSettings.from_env() reads the replaced system's variable names (config.COMPAT_ENV) and
keys are not prefixed unless REDIS_KEY_PREFIX is set: those systems wrote unprefixed keys, and their raw client
(`get_async_client()`, `.client`) must see the same keys as the helpers.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, Optional, Union

import redis
import redis.asyncio
from redis import exceptions as rexc

from .client import AsyncRedisClient, SyncRedisClient, get_redis_metadata
from .config import RedisSettings
from .serialization import dumps, ttl_arguments

__all__ = ["ForgeRedisManager", "WaardhavenRedisClient", "rapidkit_metadata"]

Expiry = Union[int, float, timedelta, None]


def _shared_async_client(settings: Optional[RedisSettings]) -> AsyncRedisClient:
    """The process-wide async client the FastAPI pieces (register_redis, the health route) use, so the facade's
    calls show in the same metrics and breaker; a client of its own without FastAPI or with explicit settings."""
    if settings is None:
        try:
            from .fastapi_app import get_default_client
        except ImportError:  # a worker or script without FastAPI
            return AsyncRedisClient()
        return get_default_client()
    return AsyncRedisClient(settings)


def _raw_value(value: Any) -> Any:
    """What redis-py stores for a value (str/bytes/int/float as they are); other values as compact JSON text
    (redis-py would refuse them with DataError)."""
    if isinstance(value, (str, bytes)) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return dumps(value)


class ForgeRedisManager:
    """`redis_manager` of Forge's app/core/redis.py: async methods for FastAPI, `_sync` twins for Celery.

    Values are stored and returned as raw strings, exactly as Forge's redis-py client did (`json.dumps` before
    set_async, `json.loads` after get_async keeps working, and keys written by the old code read back unchanged).
    Unlike Forge, a Redis outage never raises from get/set/delete: reads return None, writes False/0.
    """

    def __init__(self, settings: Optional[RedisSettings] = None) -> None:
        self.async_client = _shared_async_client(settings)
        self.settings = self.async_client.settings
        self.sync_client = SyncRedisClient(self.settings)

    # -- lifecycle
    async def initialize_async(self) -> bool:
        """PINGs Redis at start-up; a failure is logged and the app starts anyway (served without cache)."""
        return await self.async_client.connect()

    def initialize_sync(self) -> bool:
        return self.sync_client.connect()

    async def close(self) -> None:
        await self.async_client.close()
        self.sync_client.close()

    # -- async (FastAPI)
    async def get_async(self, key: str) -> Optional[str]:
        c = self.async_client
        full = c._key(key)
        ok, raw = await c._call(lambda r: r.get(full))
        if ok:
            c._count(raw is not None)
        return raw if ok else None

    async def set_async(self, key: str, value: Any, ex: Expiry = None) -> bool:
        c = self.async_client
        full, data, args = c._key(key), _raw_value(value), ttl_arguments(ex, self.settings.cache_ttl)
        ok, res = await c._call(lambda r: r.set(full, data, **args))
        return bool(ok and res)

    async def delete_async(self, *keys: str) -> int:
        return await self.async_client.delete(*keys)

    async def delete_pattern_async(self, pattern: str) -> int:
        return await self.async_client.delete_pattern(pattern)

    async def async_test_connection(self) -> bool:
        """True when Redis answers PING; raises redis.ConnectionError (with the health detail) when it does not,
        so `try: await async_test_connection() except Exception: unhealthy` keeps its meaning."""
        payload = await self.async_client.health_check()
        if payload["status"] != "ok":
            raise rexc.ConnectionError(payload.get("detail") or "redis unreachable")
        return True

    async def get_async_client(self) -> "redis.asyncio.Redis":
        """The raw redis.asyncio client (keys are not prefixed there)."""
        return self.async_client.client

    # -- sync (Celery, scripts)
    def get_sync(self, key: str) -> Optional[str]:
        c = self.sync_client
        full = c._key(key)
        ok, raw = c._call(lambda r: r.get(full))
        if ok:
            c._count(raw is not None)
        return raw if ok else None

    def set_sync(self, key: str, value: Any, ex: Expiry = None) -> bool:
        c = self.sync_client
        full, data, args = c._key(key), _raw_value(value), ttl_arguments(ex, self.settings.cache_ttl)
        ok, res = c._call(lambda r: r.set(full, data, **args))
        return bool(ok and res)

    def delete_sync(self, *keys: str) -> int:
        return self.sync_client.delete(*keys)

    def delete_pattern_sync(self, pattern: str) -> int:
        return self.sync_client.delete_pattern(pattern)

    def sync_test_connection(self) -> bool:
        payload = self.sync_client.health_check()
        if payload["status"] != "ok":
            raise rexc.ConnectionError(payload.get("detail") or "redis unreachable")
        return True

    def get_sync_client(self) -> "redis.Redis":
        return self.sync_client.client

    # -- ours, for the health route and dashboards
    async def health_check(self) -> Dict[str, Any]:
        return await self.async_client.health_check()

    def stats(self) -> Dict[str, Any]:
        return {"async": self.async_client.stats(), "sync": self.sync_client.stats()}


class WaardhavenRedisClient:
    """`get_redis_client()` of Waardhaven's app/core/redis_client.py: a sync client with JSON values.

    Values use the module's format (compact JSON; a stored plain, non-JSON string comes back unchanged), so they
    are readable from the Node runtime too. `expire=` takes seconds or a timedelta; omitted = CACHE_TTL_SECONDS.
    """

    def __init__(self, settings: Optional[RedisSettings] = None) -> None:
        self.settings = settings or RedisSettings.from_env()
        self.cache = SyncRedisClient(self.settings)
        self.redis_url = self.settings.url  # password masked
        self._connected: Optional[bool] = None

    @property
    def client(self) -> "redis.Redis":
        """The raw redis-py client (decode_responses=True; keys are not prefixed there)."""
        return self.cache.client

    @property
    def is_connected(self) -> bool:
        """Whether Redis answered the last call (PINGs once on first read)."""
        if self._connected is None:
            return self.health_check()
        return bool(self._connected) and self.cache.breaker.state != "open"

    def _track(self, before: int) -> None:
        self._connected = self.cache.metrics.errors == before and self.cache.breaker.state != "open"

    def get(self, key: str) -> Optional[Any]:
        before = self.cache.metrics.errors
        value = self.cache.get(key)
        self._track(before)
        return value

    def set(self, key: str, value: Any, expire: Expiry = None) -> bool:
        before = self.cache.metrics.errors
        ok = self.cache.set(key, value, expire)
        self._track(before)
        return ok

    def delete(self, key: str) -> bool:
        return self.cache.delete(key) > 0

    def exists(self, key: str) -> bool:
        return self.cache.exists(key)

    def expire(self, key: str, seconds: Union[int, timedelta]) -> bool:
        return self.cache.expire(key, seconds)

    def flush_pattern(self, pattern: str) -> int:
        """SCAN + UNLINK (never KEYS); the number of keys removed."""
        return self.cache.delete_pattern(pattern)

    def health_check(self) -> bool:
        connected: bool = self.cache.health_check()["status"] == "ok"
        self._connected = connected
        return connected

    def close(self) -> None:
        self.cache.close()


def rapidkit_metadata(settings: Optional[RedisSettings] = None) -> Dict[str, Any]:
    """get_redis_metadata() plus the flat keys RapidKit's metadata had: url (masked), retries, ttl."""
    s = settings or RedisSettings.from_env()
    meta = get_redis_metadata(s)
    meta.update({"retries": s.retries, "ttl": s.cache_ttl, "host": s.host, "port": s.port, "db": s.db})
    return meta
