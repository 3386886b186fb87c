"""The FastAPI integration in-process (starlette TestClient runs the lifespan): dependency, health route,
metrics route, preconnect and pool shutdown. The real-uvicorn checks are in test_faults.py."""
from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient


def test_register_redis_dependency_health_metrics_and_shutdown(runtime, settings):
    app = FastAPI()
    own = runtime.AsyncRedisClient(runtime.RedisSettings.from_env({**settings_env(settings), "REDIS_PRECONNECT": "true"}))
    assert runtime.register_redis(app, own) is own
    assert runtime.register_redis(app) is own  # idempotent: no second route, no second wrapper

    @app.get("/item/{n}")
    async def item(n: int, cache=Depends(runtime.get_redis_client)):
        assert cache is own  # the client register_redis() put on the app
        return {"n": await cache.get_or_set(f"item:{n}", lambda: n * 10, ttl=30), "stats": cache.stats()["hits"]}

    with TestClient(app) as http:
        assert own._client is not None  # preconnected in the lifespan
        assert http.get("/item/4").json() == {"n": 40, "stats": 0}
        assert http.get("/item/4").json() == {"n": 40, "stats": 1}
        r = http.get("/api/health/module/redis")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert list(route_paths(app.routes)).count("/api/health/module/redis") == 1
        m = http.get("/api/health/module/redis/metrics")
        assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
        for name in ("hits_total", "misses_total", "errors_total", "fallbacks_total", "breaker_state", "operation_seconds"):
            assert f"# TYPE rapidkit_redis_{name} " in m.text
        assert "rapidkit_redis_hits_total 1\n" in m.text and "rapidkit_redis_breaker_state 0\n" in m.text
        assert 'rapidkit_redis_operation_seconds{quantile="0.99"}' in m.text
    assert own._client is None  # pools closed on shutdown
    assert runtime.render_prometheus(own) == own.render_prometheus()
    import asyncio

    assert asyncio.run(runtime.get_redis_client()) is runtime.get_default_client()  # awaited outside a request
    assert runtime.render_prometheus().startswith("# HELP rapidkit_redis_hits_total ")  # the default client's


def test_health_route_answers_503_fast_when_redis_is_unreachable(runtime, prefix):
    import socket
    import time

    with socket.socket() as s:  # a port that accepts nothing
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = FastAPI()
    cache = runtime.AsyncRedisClient(runtime.RedisSettings.from_env({"REDIS_URL": f"redis://127.0.0.1:{port}/0", "REDIS_KEY_PREFIX": prefix}))
    runtime.register_redis(app, cache)
    with TestClient(app) as http:
        t0 = time.monotonic()
        r = http.get("/api/health/module/redis")
        assert r.status_code == 503 and time.monotonic() - t0 < 3.0
        body = r.json()
        assert body["status"] == "fail" and body["module"] == "redis" and body["detail"]
        assert set(body) == {"status", "module", "version", "mode", "detail", "connection", "breaker", "checked_at"}
        assert body["mode"] == "standalone"  # every payload names its mode (topology contract, issue #12)


def route_paths(routes):
    """Paths of the app's routes; FastAPI >= 0.16x keeps an included router as one lazy entry (no prefix here)."""
    for route in routes:
        if hasattr(route, "path"):
            yield route.path
        elif hasattr(route, "original_router"):
            yield from route_paths(route.original_router.routes)


def settings_env(s) -> dict:
    auth = f"{s.username}:{s.password}@" if s.password else ""
    return {"REDIS_URL": f"redis://{auth}{s.host}:{s.port}/{s.db}", "REDIS_KEY_PREFIX": s.key_prefix}
