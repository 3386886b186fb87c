"""Failover under load through a real FastAPI app under uvicorn: 20 concurrent request loops for >= 20 s on a route
that reads/writes a hot key through the cache; the master holding it is SIGKILLed (GEN_TOPO_KILL_PID, chosen by the
vitest driver: the cluster master owning the hot key's slot, or the Sentinel master). Asserted: no non-2xx response,
no exception reaching the app, cache hits again within 5 s of the promotion (printed)."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import redis

from conftest import MODE, PASSWORD, PROJECT, SENTINEL_PASSWORD, USER, pairs, topology_env

LOOPS, DURATION, KILL_AT = 20, 22.0, 5.0

APP = '''
import os
from typing import Any
from fastapi import Depends, FastAPI
from app.redis_cache import AsyncRedisClient, get_redis_client, register_redis

app = FastAPI()
register_redis(app)

@app.get("/hot")
async def hot(cache: AsyncRedisClient = Depends(get_redis_client)) -> Any:
    value = await cache.get("hot")
    if value is None:
        await cache.set("hot", {"v": 1}, ttl=600)
        return {"hit": False}
    return {"hit": True}

if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def master_now(hot_key: str, killed_port: int):
    """Address of the node serving the hot key now (None while nobody has taken over)."""
    if MODE == "cluster":
        from redis.crc import key_slot

        slot = key_slot(hot_key.encode())
        for host, port in pairs(os.environ["GEN_TOPO_NODES"]):
            if port == killed_port:
                continue
            try:
                c = redis.Redis(host=host, port=port, username=USER, password=PASSWORD, socket_timeout=0.3, socket_connect_timeout=0.3)
                text = c.execute_command("CLUSTER", "NODES")
                c.close()
            except Exception:
                continue
            text = text.decode() if isinstance(text, bytes) else str(text)
            for line in text.splitlines():
                f = line.split()
                if "master" not in f[2] or "fail" in f[2]:
                    continue
                for r in f[8:]:
                    lo, _, hi = r.partition("-")
                    if not r.startswith("[") and int(lo) <= slot <= int(hi or lo):
                        port_of = int(f[1].split("@")[0].rsplit(":", 1)[1])
                        return None if port_of == killed_port else port_of
            return None
        return None
    for host, port in pairs(os.environ["GEN_TOPO_SENTINELS"]):
        try:
            c = redis.Redis(host=host, port=port, password=SENTINEL_PASSWORD, socket_timeout=0.3, socket_connect_timeout=0.3)
            reply = c.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", os.environ["GEN_TOPO_MASTER"])
            c.close()
            port_of = int(reply[1])
            return None if port_of == killed_port else port_of
        except Exception:
            continue
    return None


def test_failover_under_load_through_uvicorn(tmp_path):
    prefix = os.environ["GEN_TOPO_PREFIX"]  # the driver chose the victim: the master of prefix + "hot"
    victim_pid, victim_port = int(os.environ["GEN_TOPO_KILL_PID"]), int(os.environ["GEN_TOPO_KILL_PORT"])
    (tmp_path / "hot_app.py").write_text(APP)
    port = free_port()
    env = {
        **os.environ,
        **topology_env(),
        "PORT": str(port),
        "PYTHONPATH": f"{PROJECT}{os.pathsep}{tmp_path}",
        "REDIS_KEY_PREFIX": prefix,
        "REDIS_SOCKET_TIMEOUT": "0.5",
        "REDIS_CONNECT_TIMEOUT": "0.5",
        "REDIS_RETRIES": "1",
        "REDIS_BREAKER_RESET_TIMEOUT": "0.5",
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "hot_app.py")], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(proc.stdout.read().decode()) from None
                time.sleep(0.1)
        results = []  # (t, status, hit)
        lock = threading.Lock()
        t0 = time.monotonic()

        def loop() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while time.monotonic() - t0 < DURATION:
                try:
                    conn.request("GET", "/hot")
                    r = conn.getresponse()
                    body = r.read()
                    hit = r.status == 200 and json.loads(body)["hit"]
                    status = r.status
                except Exception as exc:  # a dropped connection counts as a failure too
                    status, hit = -1, False
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    print("request failed:", exc)
                with lock:
                    results.append((time.monotonic() - t0, status, hit))
            conn.close()

        threads = [threading.Thread(target=loop) for _ in range(LOOPS)]
        [t.start() for t in threads]
        time.sleep(KILL_AT)
        os.kill(victim_pid, signal.SIGKILL)
        killed_at = time.monotonic() - t0
        promoted_at = None
        while time.monotonic() - t0 < DURATION:
            if master_now(prefix + "hot", victim_port) is not None:
                promoted_at = time.monotonic() - t0
                break
            time.sleep(0.05)
        [t.join() for t in threads]
        # after the failover the health route is 200 and shows it: the dead master listed as not ok / the new master
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/health/module/redis")
        r = conn.getresponse()
        health = (r.status, json.loads(r.read()))
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    log = out.decode(errors="replace")
    bad = [r for r in results if not 200 <= r[1] < 300]
    assert promoted_at is not None, "no promotion seen"
    resumed = next((t for t, s, hit in results if hit and t > promoted_at), None)
    before = sum(1 for t, _, hit in results if hit and t < killed_at)
    print(
        f"\nFAILOVER[{MODE}] requests={len(results)} non2xx={len(bad)} hits_before_kill={before} "
        f"promotion_after_kill={promoted_at - killed_at:.2f}s "
        f"hits_resumed_after_promotion={(resumed - promoted_at) if resumed else float('nan'):.2f}s "
        f"hits_resumed_after_kill={(resumed - killed_at) if resumed else float('nan'):.2f}s"
    )
    if bad or "Traceback" in log:
        print("non-2xx:", bad[:10], "\napp log:\n", log[-6000:]); (tmp_path / "app.log").write_text(log); print("LOG", tmp_path / "app.log")
    assert bad == [], bad[:5]
    assert len(results) > LOOPS * 20 and before > 0
    assert "Traceback" not in log and "Exception" not in log, log[-3000:]
    assert resumed is not None and resumed - promoted_at <= 5.0
    status, payload = health
    assert status == 200 and payload["status"] == "ok" and payload["mode"] == MODE, payload
    if MODE == "cluster":
        cl = payload["cluster"]
        dead = [m for m in cl["masters"] if m["address"].endswith(f":{victim_port}")]
        assert cl["state"] == "ok" and cl["slots_covered"] == 16384, cl
        assert dead and dead[0]["ok"] is False and dead[0]["latency_ms"] is None, cl
        assert cl["masters_reachable"] == cl["masters_total"] - 1 == 3, cl
    else:
        assert payload["sentinel"]["master"] is not None and not payload["sentinel"]["master"].endswith(f":{victim_port}")
        assert payload["sentinel"]["sentinels_reachable"] == 3
    assert results[-1][0] >= 20.0
