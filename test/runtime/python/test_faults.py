"""The generated FastAPI example served by a real uvicorn while Redis is stopped and restarted."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import PROJECT, RedisServer, free_port


def http(port: int, path: str, timeout: float = 5.0):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, json.loads(r.read()), time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), time.monotonic() - started


@pytest.fixture
def app_and_redis(prefix):
    srv = RedisServer().start()
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "REDIS_URL": srv.url,
        "REDIS_KEY_PREFIX": prefix,
        "REDIS_SOCKET_TIMEOUT": "0.3",
        "REDIS_CONNECT_TIMEOUT": "0.3",
        "REDIS_RETRIES": "1",
        "REDIS_BREAKER_THRESHOLD": "3",
        "REDIS_BREAKER_RESET_TIMEOUT": "0.5",
        "REDIS_PRECONNECT": "true",
    }
    proc = subprocess.Popen([sys.executable, "main.py"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode())
            time.sleep(0.1)
    yield port, srv, proc
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    srv.cleanup()
    log = out.decode(errors="replace")
    if srv.url.count("@"):
        assert srv.url.split(":")[2].split("@")[0] not in log  # the password never reaches the logs


def test_fail_open_breaker_and_recovery_through_http(app_and_redis):
    port, srv, _ = app_and_redis
    status, health, _ = http(port, "/api/health/module/redis")
    assert status == 200 and health["status"] == "ok" and health["breaker"]["state"] == "closed"
    assert http(port, "/products/1")[:2] == (200, {"id": 1, "name": "Product 1", "price_cents": 1001})
    http(port, "/products/1")
    assert http(port, "/stats")[1]["loader_calls"] == 1  # second read was a cache hit

    srv.stop()  # Redis goes away
    for i in range(2, 8):
        status, body, took = http(port, f"/products/{i}")
        assert status == 200 and body["id"] == i, "requests still succeed (fail-open)"
        assert took < 2.5
    status, health, took = http(port, "/api/health/module/redis")
    assert status == 503 and health["status"] == "fail" and health["module"] == "redis"
    assert took < 3.0, "health answers within its deadline"
    assert "detail" in health and health["breaker"]["state"] in ("open", "half_open")
    # while open, cache calls return at once
    t0 = time.monotonic()
    for _ in range(20):
        assert http(port, "/products/1")[0] == 200
    assert (time.monotonic() - t0) / 20 < 0.25

    srv.start()  # same port: the app reconnects by itself
    deadline = time.monotonic() + 5
    recovered = False
    while time.monotonic() < deadline:
        http(port, "/products/50")
        before = http(port, "/stats")[1]["loader_calls"]
        http(port, "/products/50")
        if http(port, "/stats")[1]["loader_calls"] == before and http(port, "/api/health/module/redis")[0] == 200:
            recovered = True
            break
        time.sleep(0.2)
    assert recovered, "cache hits again within 5 s of Redis coming back, without restarting the app"
    status, health, _ = http(port, "/api/health/module/redis")
    assert health["breaker"]["state"] == "closed"


def test_app_starts_while_redis_is_down(prefix):
    port, dead = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "REDIS_URL": f"redis://127.0.0.1:{dead}/0", "REDIS_KEY_PREFIX": prefix, "REDIS_PRECONNECT": "true", "REDIS_CONNECT_TIMEOUT": "0.2"}
    proc = subprocess.Popen([sys.executable, "main.py"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                status, body, _ = http(port, "/products/3")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        assert status == 200 and body["id"] == 3
        status, health, took = http(port, "/api/health/module/redis")
        assert status == 503 and took < 3.0
    finally:
        proc.terminate()
        proc.wait(10)
