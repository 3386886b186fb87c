"""A Celery task using the sync client (eager mode), as a worker would."""
from __future__ import annotations

from celery import Celery


def test_celery_task_uses_the_sync_client(runtime, settings):
    cache = runtime.SyncRedisClient(settings)
    app = Celery("gen-test", broker="memory://", backend="cache+memory://")
    app.conf.task_always_eager = True
    calls = {"n": 0}

    @app.task
    def build_report(customer_id: int) -> dict:
        def compute():
            calls["n"] += 1
            return {"customer": customer_id, "total": 42}

        return cache.get_or_set(f"report:{customer_id}", compute, ttl=60)

    assert build_report.delay(7).get() == {"customer": 7, "total": 42}
    assert build_report.delay(7).get() == {"customer": 7, "total": 42}
    assert calls["n"] == 1
    assert cache.get("report:7") == {"customer": 7, "total": 42}
    cache.close()


def test_celery_task_with_the_sync_cached_decorator(runtime, settings):
    cache = runtime.SyncRedisClient(settings)
    app = Celery("gen-test-cached", broker="memory://", backend="cache+memory://")
    app.conf.task_always_eager = True
    calls = []

    @cache.cached(ttl=60)
    def cached_price(sku: str) -> dict:
        calls.append(sku)
        return {"sku": sku, "cents": 250}

    price = app.task(cached_price, name="price")

    assert price.delay("a").get() == {"sku": "a", "cents": 250}
    assert price.delay("a").get() == {"sku": "a", "cents": 250}
    assert price.delay("b").get()["sku"] == "b"
    assert calls == ["a", "b"]
    assert cached_price.invalidate("a") == 1
    price.delay("a").get()
    assert calls == ["a", "b", "a"]
    cache.close()
