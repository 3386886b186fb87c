"""gen redis runtime (vendored, read-only): async + sync cache clients, fail-open with a circuit breaker.

The FastAPI pieces (register_redis, get_redis_client, build_health_router) are imported on first use, so
Celery workers and scripts need no FastAPI.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._defaults import MODULE, VERSION
from .breaker import CircuitBreaker
from .client import (
    AsyncRedisClient,
    RateLimitResult,
    SyncRedisClient,
    create_redis_pool,
    create_sync_redis_pool,
    get_redis_metadata,
)
from .config import ConfigError, RedisSettings
from .metrics import Metrics
from .serialization import dumps, loads
from .sessions import SessionStore, SyncSessionStore

if TYPE_CHECKING:  # for type checkers; at run time they load on first use (__getattr__ below)
    from .fastapi_app import HEALTH_PATH, build_health_router, get_default_client, get_redis_client, register_redis

_FASTAPI = ("register_redis", "get_redis_client", "build_health_router", "get_default_client", "HEALTH_PATH")

__all__ = [
    "MODULE",
    "VERSION",
    "AsyncRedisClient",
    "SyncRedisClient",
    "RedisSettings",
    "ConfigError",
    "RateLimitResult",
    "CircuitBreaker",
    "Metrics",
    "SessionStore",
    "SyncSessionStore",
    "create_redis_pool",
    "create_sync_redis_pool",
    "get_redis_metadata",
    "dumps",
    "loads",
    "render_prometheus",
    "register_redis",
    "get_redis_client",
    "build_health_router",
    "get_default_client",
    "HEALTH_PATH",
]


def render_prometheus(client: Any = None) -> str:
    """Prometheus text (rapidkit_redis_*) of a client's metrics; by default the FastAPI default client's."""
    if client is None:
        from .fastapi_app import get_default_client

        client = get_default_client()
    rendered: str = client.render_prometheus()
    return rendered


def __getattr__(name: str) -> Any:
    if name in _FASTAPI:
        from . import fastapi_app

        return getattr(fastapi_app, name)
    raise AttributeError(name)
