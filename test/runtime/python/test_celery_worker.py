"""A real Celery worker (prefork pool, two child processes) whose broker and result backend are the test's
redis-server, running tasks that use the generated project's sync client, as a production worker would."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from celery import Celery

from conftest import PROJECT

TASKS = '''
import os

from celery import Celery

from app.redis_cache import RedisSettings, SyncRedisClient

app = Celery("gen_worker_test", broker=os.environ["BROKER_URL"], backend=os.environ["BROKER_URL"])
app.conf.worker_hijack_root_logger = False
cache = SyncRedisClient(RedisSettings.from_env())  # made in the parent, used in each forked child


@app.task(name="report")
def report(customer_id):
    def load():
        return {"customer": customer_id, "loads": cache.incr("loads:%d" % customer_id)}  # loader runs, all processes

    return {"pid": os.getpid(), "value": cache.get_or_set("report:%d" % customer_id, load, ttl=60)}


@app.task(name="limited")
def limited(n):
    return cache.rate_limit("worker-limit", limit=3, window=30).allowed


@app.task(name="health")
def health():
    return cache.health_check()["status"]
'''


@pytest.fixture
def worker(server, env, tmp_path: Path):
    (tmp_path / "gen_worker_tasks.py").write_text(textwrap.dedent(TASKS))
    broker = f"redis://127.0.0.1:{server.port}/1"  # Celery's own keys live in db 1 (the admin user, not the ACL one)
    run_env = {**os.environ, **env, "BROKER_URL": broker, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PROJECT)])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "gen_worker_tasks", "worker", "--pool", "prefork", "--concurrency", "2",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=tmp_path, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    client = Celery("gen_worker_test", broker=broker, backend=broker)
    try:
        yield client, proc
    finally:
        gc.collect()  # AsyncResult.__del__ talks to the result backend: let it run while redis-server is up
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        client.close()
        log = out.decode(errors="replace")
        assert "Traceback" not in log, log
        if "@" in env["REDIS_URL"]:
            assert env["REDIS_URL"].split(":")[2].split("@")[0] not in log  # no password in the worker's log


def test_prefork_worker_runs_tasks_with_the_sync_client(worker, runtime, settings):
    client, proc = worker
    deadline = time.monotonic() + 30
    first = client.send_task("health")
    assert first.get(timeout=30) == "ok", "the worker started and its client reached Redis"
    assert time.monotonic() < deadline

    # single-flight is per process: the first task fills the cache, then every task in either child is a hit
    assert client.send_task("report", args=[7]).get(timeout=20)["value"] == {"customer": 7, "loads": 1}
    values = [r.get(timeout=20) for r in [client.send_task("report", args=[7]) for _ in range(8)]]
    assert all(v["value"] == {"customer": 7, "loads": 1} for v in values), values
    assert all(v["pid"] != proc.pid for v in values)  # ran in the pool's forked children
    cache = runtime.SyncRedisClient(settings)
    assert cache.get("report:7") == {"customer": 7, "loads": 1} and cache.get("loads:7") == 1

    allowed = [client.send_task("limited", args=[i]).get(timeout=20) for i in range(5)]
    assert allowed == [True, True, True, False, False]  # one atomic limiter shared by the forked children
    assert cache.stats()["errors"] == 0
    cache.close()
