"""Example FastAPI app using the gen redis module. Start: PORT=8000 /usr/bin/python3 main.py"""
import os
from typing import Any

from fastapi import Depends, FastAPI

from app.catalog import CALLS, load_product

# <<<gen:imports>>>

app = FastAPI(title="gen redis example (FastAPI)")
# <<<gen:app>>>


@app.get("/products/{product_id}")
async def product(product_id: int, cache: AsyncRedisClient = Depends(get_redis_client)) -> Any:
    """Cache-aside through get_or_set: concurrent misses run the loader once; Redis down = loader result."""
    return await cache.get_or_set(f"product:{product_id}", lambda: load_product(product_id), ttl=60)


@app.get("/stats")
async def stats() -> dict[str, int]:
    return {"loader_calls": CALLS["count"]}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")))
