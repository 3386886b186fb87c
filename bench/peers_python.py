"""`npm run bench peers` (Python): the generated runtime's AsyncRedisClient against the caches a FastAPI user would
otherwise pick, each with its default settings plus its Redis backend, on one loopback redis-server: the same
key (each library in its own database, so no one reads another's encoding), the same JSON-able value, the same
TTL. Rounds interleave the libraries call by call; a ratio is ours / the peer's, the median over the rounds of
the per-round medians. Run from the generated project (cwd), with REDIS_URL pointing at db 0."""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from importlib.metadata import version

sys.path.insert(0, os.getcwd())
import redis.asyncio as aioredis  # noqa: E402
from aiocache import RedisCache  # noqa: E402
from aiocache.serializers import JsonSerializer  # noqa: E402
from cashews import Cache  # noqa: E402

from app.redis_cache import AsyncRedisClient, RedisSettings  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
CALLS = int(os.environ.get("BENCH_CALLS", "600"))  # per library, per operation, per round
KEY = "bench:user:42"
VALUE = {"id": 42, "name": "Ada Lovelace", "roles": ["admin", "author"], "active": True}
TTL = 3600


async def main() -> None:
    url = os.environ["REDIS_URL"]
    base = url.rsplit("/", 1)[0]
    host, port = base.split("//", 1)[1].split(":")
    ours = AsyncRedisClient(RedisSettings.from_env({"REDIS_URL": f"{base}/0", "REDIS_KEY_PREFIX": "bench:"}))
    cashews = Cache()
    cashews.setup(f"{base}/1")  # defaults: pickle, socket_timeout 1 s, errors suppressed
    aiocache = RedisCache(serializer=JsonSerializer(), endpoint=host, port=int(port), db=2)  # default timeout 5 s
    raw = aioredis.Redis.from_url(f"{base}/3", decode_responses=True)  # redis-py's default client: no timeouts

    async def raw_get() -> object:
        data = await raw.get(KEY)
        return json.loads(data) if data is not None else None

    async def raw_set() -> object:
        return await raw.set(KEY, json.dumps(VALUE, separators=(",", ":")), ex=TTL)

    peers = {
        "cashews": (lambda: cashews.get(KEY), lambda: cashews.set(KEY, VALUE, expire=TTL)),
        "aiocache": (lambda: aiocache.get(KEY), lambda: aiocache.set(KEY, VALUE, ttl=TTL)),
        "redis-py (floor)": (raw_get, raw_set),
    }
    ours_ops = (lambda: ours.get("user:42"), lambda: ours.set("user:42", VALUE, ttl=TTL))
    for get, set_ in [ours_ops, *peers.values()]:  # every store holds the value before timing
        await set_()
        assert await get() == VALUE

    async def pair(a, b, n):  # call by call, so drift hits both alike; medians of both
        sa, sb = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            await a()
            t1 = time.perf_counter()
            await b()
            t2 = time.perf_counter()
            sa.append(t1 - t0)
            sb.append(t2 - t1)
        return statistics.median(sa), statistics.median(sb)

    ratios: dict = {name: {"get": [], "set": []} for name in peers}
    names = list(peers)
    for r in range(ROUNDS + 1):  # round 0 warms every path up and is not counted
        for name in names[r % len(names):] + names[: r % len(names)]:
            for i, op in enumerate(("get", "set")):
                mine, theirs = await pair(ours_ops[i], peers[name][i], CALLS)
                if r:
                    ratios[name][op].append(mine / theirs)

    print(
        f"Python {sys.version.split()[0]}: redis-py {version('redis')}"
        f"{' + hiredis ' + version('hiredis') if _has('hiredis') else ''}, cashews {version('cashews')},"
        f" aiocache {version('aiocache')}; {ROUNDS} rounds x {CALLS} interleaved calls, median round"
    )
    notes = {
        "cashews": "cashews: pickle, not JSON; no breaker, no metrics",
        "aiocache": "aiocache: no breaker, errors raise (not fail-open)",
        "redis-py (floor)": "raw client: no deadline, no fail-open, JSON by hand",
    }
    for name in names:
        g, s = statistics.median(ratios[name]["get"]), statistics.median(ratios[name]["set"])
        print(f"vs {name}: get {g:.2f}x set {s:.2f}x  ({notes[name]})")
    await ours.close()
    await cashews.close()
    await aiocache.close()
    await raw.aclose() if hasattr(raw, "aclose") else await raw.close()


def _has(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


asyncio.run(main())
