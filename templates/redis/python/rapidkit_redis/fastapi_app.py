"""FastAPI integration: the client dependency, lifespan wiring and the health route."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Optional, cast

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from .client import AsyncRedisClient, logger
from .config import RedisSettings

HEALTH_PATH = "/api/health/module/redis"
_default: Optional[AsyncRedisClient] = None


def get_default_client() -> AsyncRedisClient:
    """The process-wide async client, built from the environment on first use."""
    global _default
    if _default is None:
        _default = AsyncRedisClient(RedisSettings.from_env())
    return _default


async def get_redis_client(request: Request = None) -> AsyncRedisClient:  # type: ignore[assignment]
    """FastAPI dependency: `cache: AsyncRedisClient = Depends(get_redis_client)`. The client register_redis()
    put on the app, else (or when awaited directly, outside a request) the process-wide default client."""
    registered = getattr(request.app.state, "redis", None) if request is not None else None
    return registered or get_default_client()


def build_health_router(client: Optional[AsyncRedisClient] = None, path: str = HEALTH_PATH) -> APIRouter:
    """GET <path>: 200 {status: "ok", ...} or 503 {status: "fail", ...} within the health deadline."""
    router = APIRouter()

    @router.get(path, tags=["health"])
    async def redis_health() -> Any:
        payload = await (client or get_default_client()).health_check()
        return JSONResponse(payload, status_code=200 if payload["status"] == "ok" else 503)

    @router.get(path + "/metrics", tags=["health"], response_class=PlainTextResponse)
    async def redis_metrics() -> Any:
        return PlainTextResponse((client or get_default_client()).render_prometheus(), media_type="text/plain; version=0.0.4")

    return router


def register_redis(app: FastAPI, client: Optional[AsyncRedisClient] = None, *, health_path: str = HEALTH_PATH) -> AsyncRedisClient:
    """Mounts the health route and wraps the app's lifespan: preconnect when configured, close on shutdown."""
    existing = getattr(app.state, "redis", None)
    if existing is not None:  # registering twice would mount the route twice and close the pool twice
        return cast(AsyncRedisClient, existing)
    cache = client or get_default_client()
    app.include_router(build_health_router(cache, health_path))
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(inner_app: Any) -> AsyncIterator[Any]:
        if cache.settings.preconnect and not await cache.connect():
            logger.warning("redis preconnect failed; the app starts anyway and serves without cache until Redis is back")
        try:
            async with original(inner_app) as state:
                yield state
        finally:
            await cache.close()

    app.router.lifespan_context = lifespan
    app.state.redis = cache
    return cache
