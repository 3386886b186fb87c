"""A slow data source the example caches (stands in for a database or a remote API)."""
import asyncio
from typing import Any

CALLS = {"count": 0}


async def load_product(product_id: int) -> dict[str, Any]:
    CALLS["count"] += 1
    await asyncio.sleep(0.05)
    return {"id": product_id, "name": f"Product {product_id}", "price_cents": 1000 + product_id}
