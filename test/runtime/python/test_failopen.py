"""Fail-open on every failure class (docs/cache-contract.md, "Failure classes"), against real processes.

Each fault is produced for real: a closed port, a DNS name that cannot resolve, a peer that accepts and closes
(a tiny TCP server, plaintext sent to a TLS port, mTLS without a client certificate), a SIGSTOPped redis-server,
requirepass (WRONGPASS/NOAUTH), maxclients 1, maxmemory + noeviction (OOM), a replica (READONLY), a server loading
a large RDB (LOADING), a long Lua script (BUSY), a certificate from another CA and a held pool connection.
For each, with both clients: no exception reaches the caller, every call returns its fallback within the socket
timeout + 50 ms (plus scheduling slack on a shared machine), health answers "fail" with a clear, secret-free
detail within 500 ms, the metrics count it, and the cache works again within 2 s of the fault clearing.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import pytest
import redis

from conftest import PROJECT, RedisServer, free_port

SOCKET_TIMEOUT = 0.25
SLACK = 0.25  # scheduling noise on a loaded 2-core machine, on top of the contract's bound
CALL_BOUND = SOCKET_TIMEOUT + 0.05 + SLACK
HEALTH_BOUND = 0.5 + SLACK
RECOVERY_BOUND = 2.0
CLIENT_PASSWORD = "client-secret-" + os.urandom(6).hex()
SERVER_PASSWORD = "server-secret-" + os.urandom(6).hex()
SECRETS = (CLIENT_PASSWORD, SERVER_PASSWORD)

ACCEPT_AND_CLOSE = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); print("ready", flush=True)
while True:
    c, _ = s.accept(); c.close()
"""


def base_env(prefix: str, url: str, **extra: str) -> Dict[str, str]:
    return {
        "REDIS_URL": url,
        "REDIS_KEY_PREFIX": prefix,
        "REDIS_SOCKET_TIMEOUT": str(SOCKET_TIMEOUT),
        "REDIS_CONNECT_TIMEOUT": str(SOCKET_TIMEOUT),
        "REDIS_RETRIES": "1",
        "REDIS_BACKOFF": "0.01",
        "REDIS_BREAKER_THRESHOLD": "3",
        "REDIS_BREAKER_RESET_TIMEOUT": "0.3",
        "REDIS_CLIENT_NAME": "gen-failopen",  # with a client name, as generated projects have
        **extra,
    }


@dataclass
class Fault:
    env: Dict[str, str]
    clear: Callable[[], None]
    reads_work: bool = False  # READONLY/OOM refuse writes only
    says: str = ""  # what the health detail must say
    cleanup: List[Callable[[], None]] = field(default_factory=list)


def openssl(d: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("failopen-tls")
    (d / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for ca in ("ca", "otherca"):
        openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
    for name, ca in (("server", "ca"), ("rogue", "otherca"), ("client", "ca")):
        openssl(d, "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr")
        extra = ["-extfile", "san.cnf"] if name != "client" else []
        openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial", "-days", "2", *extra, "-out", f"{name}.crt")
    return d


def tls_server(d: Path, port: int, cert: str = "server", auth_clients: str = "no") -> RedisServer:
    return RedisServer(
        "--port", "0", "--tls-port", str(port), "--tls-cert-file", str(d / f"{cert}.crt"), "--tls-key-file", str(d / f"{cert}.key"),
        "--tls-ca-cert-file", str(d / "ca.crt"), "--tls-auth-clients", auth_clients, port=port,
    ).start()


@pytest.fixture(scope="module")
def big_rdb(tmp_path_factory) -> Path:
    """A dump.rdb of 30k keys: with --key-load-delay a fresh server answers LOADING for a few seconds."""
    srv = RedisServer("--enable-debug-command", "local")
    srv.dir = str(tmp_path_factory.mktemp("failopen-rdb"))
    srv.start()
    admin = srv.admin()
    admin.execute_command("DEBUG", "POPULATE", 30000, "k", 10)
    admin.save()
    admin.close()
    srv.stop()
    return Path(srv.dir) / "dump.rdb"


@contextmanager
def make_fault(name: str, prefix: str, certs: Path, big_rdb: Path) -> Iterator[Fault]:
    port = free_port()
    servers: List[RedisServer] = []
    procs: List[subprocess.Popen] = []

    def serve(*extra: str, **kw) -> RedisServer:
        srv = RedisServer(*extra, port=kw.get("port", port)).start()
        servers.append(srv)
        return srv

    def replace(new: Callable[[], RedisServer]) -> Callable[[], None]:
        def clear() -> None:
            for s in servers:
                s.stop()
            for p in procs:
                p.kill()
                p.wait()
            servers.append(new())

        return clear

    plain = f"redis://127.0.0.1:{port}/0"
    tls = {"REDIS_URL": f"rediss://localhost:{port}/0", "REDIS_TLS_CA_FILE": str(certs / "ca.crt")}
    try:
        if name == "connection refused":
            yield Fault(base_env(prefix, plain), replace(lambda: RedisServer(port=port).start()))
        elif name == "accept and close":
            proc = subprocess.Popen([sys.executable, "-c", ACCEPT_AND_CLOSE, str(port)], stdout=subprocess.PIPE)
            procs.append(proc)
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
            yield Fault(base_env(prefix, plain), replace(lambda: RedisServer(port=port).start()))
        elif name == "plaintext to a TLS port":
            servers.append(tls_server(certs, port))
            yield Fault(base_env(prefix, plain), replace(lambda: RedisServer(port=port).start()))
        elif name == "mTLS without a client certificate":
            servers.append(tls_server(certs, port, auth_clients="yes"))
            yield Fault(base_env(prefix, "", **tls), replace(lambda: tls_server(certs, port, auth_clients="optional")))
        elif name == "TLS verification failure":
            servers.append(tls_server(certs, port, cert="rogue"))
            yield Fault(base_env(prefix, "", **tls), replace(lambda: tls_server(certs, port)))
        elif name == "stalled (SIGSTOP)":
            srv = serve()
            assert srv.proc is not None
            os.kill(srv.proc.pid, signal.SIGSTOP)
            yield Fault(base_env(prefix, plain), lambda: os.kill(srv.proc.pid, signal.SIGCONT))  # type: ignore[union-attr]
            os.kill(srv.proc.pid, signal.SIGCONT)
        elif name in ("wrong password (WRONGPASS)", "no password (NOAUTH)"):
            srv = serve("--requirepass", SERVER_PASSWORD)
            url = f"redis://:{CLIENT_PASSWORD}@127.0.0.1:{port}/0" if "WRONGPASS" in name else plain
            new_pass = CLIENT_PASSWORD if "WRONGPASS" in name else ""
            admin = redis.Redis(host="127.0.0.1", port=port, password=SERVER_PASSWORD)
            yield Fault(base_env(prefix, url), lambda: (admin.config_set("requirepass", new_pass), admin.close()) and None)
        elif name == "maxclients reached":
            serve("--maxclients", "1")
            holder = redis.Redis(host="127.0.0.1", port=port)
            deadline = time.monotonic() + 5
            while True:  # takes the only client slot (once the server saw the readiness probe's close)
                try:
                    holder.ping()
                    break
                except redis.ConnectionError:
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
            yield Fault(base_env(prefix, plain), lambda: (holder.config_set("maxclients", 100), holder.connection_pool.disconnect()) and None)
            holder.connection_pool.disconnect()
        elif name == "OOM on write (maxmemory, noeviction)":
            srv = serve("--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
            admin = srv.admin()
            with pytest.raises(redis.ResponseError, match="maxmemory"):  # OutOfMemoryError in redis-py 5+
                for i in range(100):
                    admin.set(f"filler:{i}", "x" * 200_000)
            yield Fault(base_env(prefix, plain), lambda: admin.config_set("maxmemory", "0") and None, reads_work=True)
        elif name == "READONLY (a replica)":
            master = serve(port=free_port())
            replica = serve("--replicaof", "127.0.0.1", str(master.port))
            yield Fault(base_env(prefix, plain), lambda: replica.admin().execute_command("REPLICAOF", "NO", "ONE") and None, reads_work=True)
        elif name == "LOADING (a large RDB)":
            srv = RedisServer("--dbfilename", "dump.rdb", "--key-load-delay", "50", "--loading-process-events-interval-bytes", "1024", port=port)
            Path(srv.dir, "dump.rdb").write_bytes(big_rdb.read_bytes())
            srv.start()
            servers.append(srv)
            admin = srv.admin()
            assert admin.info("persistence")["loading"] == 1  # INFO answers while loading; GET would say LOADING

            def loaded() -> None:  # the fault clears by itself when the load completes
                deadline = time.monotonic() + 60
                while admin.info("persistence")["loading"] != 0:
                    assert time.monotonic() < deadline
                    time.sleep(0.02)

            yield Fault(base_env(prefix, plain), loaded)
        elif name == "BUSY (a long Lua script)":
            srv = serve("--lua-time-limit", "50")
            script = subprocess.Popen(["redis-cli", "-p", str(port), "EVAL", "while true do end", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(script)
            admin = srv.admin()
            deadline = time.monotonic() + 5
            while True:  # wait until the script runs past the busy threshold
                try:
                    admin.ping()
                except redis.ResponseError as exc:
                    if "BUSY" in str(exc):
                        break
                assert time.monotonic() < deadline
                time.sleep(0.02)
            yield Fault(base_env(prefix, plain), lambda: admin.script_kill() and None)
        else:
            raise AssertionError(name)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for s in servers:
            if s.proc is not None and s.proc.poll() is None:
                os.kill(s.proc.pid, signal.SIGCONT)
            s.cleanup()


# fault -> what the health detail must say (docs/cache-contract.md, "Failure classes")
FAULTS = {
    "connection refused": r"connection refused by 127\.0\.0\.1:\d+",
    "accept and close": r"(?i)closed by (the )?server|reset by (peer|the server)|no reply",  # under load: a timeout first
    "plaintext to a TLS port": r"(?i)closed by (the )?server|reset by (peer|the server)|no reply",  # Redis may wait for TLS bytes
    "mTLS without a client certificate": r"(?i)certificate[ _]required|closed by (the )?server|reset by (peer|the server)|EOF",
    "TLS verification failure": r"TLS handshake with localhost:\d+ failed: .*certificate",
    "stalled (SIGSTOP)": r"no (reply|answer)\b.* within",
    "wrong password (WRONGPASS)": r"WRONGPASS|invalid username-password",
    "no password (NOAUTH)": r"(?i)NOAUTH|authentication",  # redis-py 8: "AuthenticationError: HELLO must be called ..."
    "maxclients reached": r"max number of clients reached",
    "OOM on write (maxmemory, noeviction)": r"(?i)\bOOM\b|OutOfMemoryError|maxmemory",
    "READONLY (a replica)": r"(?i)read only replica|READONLY",
    "LOADING (a large RDB)": r"(?i)loading",
    "BUSY (a long Lua script)": r"BUSY Redis is busy running a script",
}


def assert_failed_health(h: dict, took: float, says: str = "") -> None:
    assert took <= HEALTH_BOUND, f"health took {took:.3f} s"
    assert h["status"] == "fail", h
    detail = h.get("detail")
    assert isinstance(detail, str) and len(detail) > 12 and not detail.endswith(": "), h  # clear and non-empty
    assert re.search(says, detail), f"{detail!r} does not match {says!r}"
    text = json.dumps(h)
    assert not any(secret in text for secret in SECRETS), text


class Timer:
    def __init__(self) -> None:
        self.samples: List[float] = []

    def check(self) -> None:
        ordered = sorted(self.samples)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        assert p99 <= CALL_BOUND, f"p99 {p99:.3f} s > {CALL_BOUND} s: {['%.3f' % s for s in self.samples]}"


async def exercise_async(c, fault: Fault, timer: Timer, idle_probe: bool = True) -> dict:
    says = fault.says
    if idle_probe:  # a client that made no call yet: its health probes Redis itself
        idle = type(c)(c.settings)
        t0 = time.monotonic()
        assert_failed_health(await idle.health_check(), time.monotonic() - t0, says)
        await idle.close()
    for _ in range(4):
        t0 = time.monotonic()
        assert await c.get("missing", default="fb") == "fb"
        t1 = time.monotonic()
        assert await c.set("k", 1) is False
        t2 = time.monotonic()
        assert await c.get_or_set("gs", lambda: "loaded") == "loaded"
        timer.samples += [t1 - t0, t2 - t1, time.monotonic() - t2]
    assert await c.incr("n") is None and await c.set_many({"a": 1}) is False
    assert (await c.rate_limit("r", 1, 10)).allowed is True
    t0 = time.monotonic()
    before = c.stats()
    h = await c.health_check()
    assert_failed_health(h, time.monotonic() - t0, says)
    after = c.stats()
    assert (after["errors"], after["fallbacks"], after["breaker"]) == (before["errors"], before["fallbacks"], before["breaker"])  # not a cache call
    return h


def exercise_sync(c, fault: Fault, timer: Timer, idle_probe: bool = True) -> dict:
    says = fault.says
    if idle_probe:
        idle = type(c)(c.settings)
        t0 = time.monotonic()
        assert_failed_health(idle.health_check(), time.monotonic() - t0, says)
        idle.close()
    for _ in range(4):
        t0 = time.monotonic()
        assert c.get("missing", default="fb") == "fb"
        t1 = time.monotonic()
        assert c.set("k", 1) is False
        t2 = time.monotonic()
        assert c.get_or_set("gs", lambda: "loaded") == "loaded"
        timer.samples += [t1 - t0, t2 - t1, time.monotonic() - t2]
    assert c.incr("n") is None and c.set_many({"a": 1}) is False
    t0 = time.monotonic()
    before = c.stats()
    h = c.health_check()
    assert_failed_health(h, time.monotonic() - t0, says)
    after = c.stats()
    assert (after["errors"], after["fallbacks"], after["breaker"]) == (before["errors"], before["fallbacks"], before["breaker"])  # not a cache call
    return h


def assert_counted(c, fault: Fault) -> None:
    stats = c.stats()
    assert stats["errors"] >= 3 and stats["fallbacks"] >= 3, stats
    if not fault.reads_work:
        assert stats["breaker"]["state"] == "open", stats
        assert "rapidkit_redis_breaker_state 1" in c.render_prometheus()
    assert "rapidkit_redis_errors_total 0" not in c.render_prometheus()


@pytest.mark.parametrize("name", list(FAULTS))
def test_fails_open_and_recovers(runtime, prefix, certs, big_rdb, name, caplog):
    with make_fault(name, prefix, certs, big_rdb) as fault:
        fault.says = FAULTS[name]
        settings = runtime.RedisSettings.from_env(fault.env)

        async def body() -> None:
            ac, sc = runtime.AsyncRedisClient(settings), runtime.SyncRedisClient(settings)
            timer = Timer()
            await exercise_async(ac, fault, timer)
            exercise_sync(sc, fault, timer)
            timer.check()
            assert_counted(ac, fault)
            assert_counted(sc, fault)
            fault.clear()
            cleared = time.monotonic()
            while True:
                ok_async = await ac.set("back", "yes") is True and await ac.get("back") == "yes"
                ok_sync = sc.set("back", "yes") is True and sc.get("back") == "yes"
                if ok_async and ok_sync and (await ac.health_check())["status"] == "ok" and sc.health_check()["status"] == "ok":
                    break
                assert time.monotonic() - cleared <= RECOVERY_BOUND, (ac.stats(), sc.stats(), await ac.health_check())
                await asyncio.sleep(0.05)
            assert ac.breaker.state == "closed" and sc.breaker.state == "closed"
            await ac.close()
            sc.close()

        asyncio.run(body())
    assert not any(secret in caplog.text for secret in SECRETS)


def test_pool_exhausted(runtime, server, prefix):
    settings = runtime.RedisSettings.from_env(base_env(prefix, server.url, REDIS_MAX_CONNECTIONS="1"))

    async def body() -> None:
        ac, sc = runtime.AsyncRedisClient(settings), runtime.SyncRedisClient(settings)
        assert await ac.set("k", 1) is True and sc.set("k", 1) is True
        held_async = await ac.client.connection_pool.get_connection("GET")  # e.g. a long pipeline elsewhere
        held_sync = sc.client.connection_pool.get_connection("GET")
        timer = Timer()
        fault = Fault({}, lambda: None, says=r"connection pool exhausted: all 1 connections busy")
        # the pool is the client's own: a client that made no call has a free one (and its health says ok)
        health = [await exercise_async(ac, fault, timer, idle_probe=False), exercise_sync(sc, fault, timer, idle_probe=False)]
        timer.check()
        assert_counted(ac, fault)
        assert_counted(sc, fault)
        assert all("pool exhausted" in h["detail"] for h in health), health
        await ac.client.connection_pool.release(held_async)
        sc.client.connection_pool.release(held_sync)
        cleared = time.monotonic()
        while not (await ac.get("k") == 1 and sc.get("k") == 1):
            assert time.monotonic() - cleared <= RECOVERY_BOUND
            await asyncio.sleep(0.05)
        await ac.close()
        sc.close()

    asyncio.run(body())


def test_noperm_is_a_caller_error(runtime, server, prefix):
    """NOPERM: Redis answered, the ACL forbids this command or key. A deployment error, raised (not hidden)."""
    user, password = "limited-" + os.urandom(3).hex(), "pw-" + os.urandom(6).hex()
    admin = server.admin()
    admin.acl_setuser(user, enabled=True, passwords=["+" + password], keys=[prefix + "*"], commands=["+@all", "-get"])
    try:
        settings = runtime.RedisSettings.from_env(base_env(prefix, f"redis://{user}:{password}@127.0.0.1:{server.port}/0"))

        async def body() -> None:
            ac = runtime.AsyncRedisClient(settings)
            assert await ac.set("k", 1) is True
            with pytest.raises(redis.exceptions.NoPermissionError):
                await ac.get("k")
            assert ac.breaker.state == "closed" and ac.stats()["errors"] == 0
            assert (await ac.health_check())["status"] == "ok"
            await ac.close()

        asyncio.run(body())
        sc = runtime.SyncRedisClient(settings)
        with pytest.raises(redis.exceptions.NoPermissionError):
            sc.get("k")
        assert sc.breaker.state == "closed"
        sc.close()
    finally:
        admin.acl_deluser(user)


DNS_DRIVER = """
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
import app.redis_cache as rt
env = json.loads(sys.argv[2])
s = rt.RedisSettings.from_env(env)
async def main():
    ac, sc = rt.AsyncRedisClient(s), rt.SyncRedisClient(s)
    samples, out = [], {}
    for _ in range(4):
        for fn in (lambda: ac.get("k", default="fb"), lambda: ac.set("k", 1)):
            t0 = time.monotonic(); out.setdefault("async", []).append(await fn()); samples.append(time.monotonic() - t0)
        for fn in (lambda: sc.get("k", default="fb"), lambda: sc.set("k", 1)):
            t0 = time.monotonic(); out.setdefault("sync", []).append(fn()); samples.append(time.monotonic() - t0)
    t0 = time.monotonic(); out["health_async"] = await ac.health_check(); out["health_async_took"] = time.monotonic() - t0
    t0 = time.monotonic(); out["health_sync"] = sc.health_check(); out["health_sync_took"] = time.monotonic() - t0
    out["samples"], out["breakers"] = samples, [ac.breaker.state, sc.breaker.state]
    print(json.dumps(out), flush=True)
    sys.stdin.readline()  # the name resolves now
    cleared = time.monotonic()
    while not (await ac.set("b", 1) and sc.set("b", 1) and (await ac.health_check())["status"] == "ok" and sc.health_check()["status"] == "ok"):
        await asyncio.sleep(0.05)
        if time.monotonic() - cleared > 10:
            break
    print(json.dumps({"recovered_after": time.monotonic() - cleared}), flush=True)
    await ac.close(); sc.close()
asyncio.run(main())
"""


def unshare_command() -> List[str]:
    """`unshare -rm` (an unprivileged user + mount namespace), or `sudo -n unshare -m` where user namespaces are off."""
    for cmd in (["unshare", "-rm"], ["sudo", "-n", "unshare", "-m"]):
        try:
            if subprocess.run([*cmd, "true"], capture_output=True).returncode == 0:
                return cmd
        except FileNotFoundError:
            pass
    raise AssertionError("the DNS test needs a private mount namespace: `unshare -rm` or passwordless `sudo unshare -m`")


def test_dns_failure(server, prefix, tmp_path):
    """An unresolvable name, resolved locally: the driver runs in a private mount namespace (unshare) whose
    resolv.conf names a closed loopback port (no query leaves the machine) and whose /etc/hosts the test edits."""
    resolv, hosts = tmp_path / "resolv.conf", tmp_path / "hosts"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    hosts.write_text(Path("/etc/hosts").read_text())
    name = "cache.gen-test.invalid"
    env = base_env(prefix, f"redis://{name}:{server.port}/0")
    shell = f'mount --bind "{resolv}" /etc/resolv.conf && mount --bind "{hosts}" /etc/hosts && exec "$0" "$@"'
    proc = subprocess.Popen(
        [*unshare_command(), "sh", "-c", shell, sys.executable, "-c", DNS_DRIVER, str(PROJECT), json.dumps(env)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        report = json.loads(line)
        assert report["async"] == ["fb", False] * 4 and report["sync"] == ["fb", False] * 4
        assert max(report["samples"]) <= CALL_BOUND, report["samples"]
        assert report["breakers"] == ["open", "open"]
        says = rf"cannot resolve host '{name}'"
        assert_failed_health(report["health_async"], report["health_async_took"], says)
        assert_failed_health(report["health_sync"], report["health_sync_took"], says)
        with hosts.open("a") as f:
            f.write(f"\n127.0.0.1 {name}\n")
        proc.stdin.write("cleared\n")
        proc.stdin.flush()
        done = json.loads(proc.stdout.readline())
        assert done["recovered_after"] <= RECOVERY_BOUND
    finally:
        proc.kill()
        proc.wait()


def test_health_with_long_timeouts_still_answers_in_time(runtime, prefix):
    """Socket timeouts of 2.5 s (above the health bound): the async probe is never cancelled mid-reply (no
    CancelledError escapes), the sync one honours its timeout, and neither waits for the socket timeout."""
    srv = RedisServer().start()
    try:
        settings = runtime.RedisSettings.from_env(base_env(prefix, srv.url, REDIS_SOCKET_TIMEOUT="2.5", REDIS_CONNECT_TIMEOUT="2.5"))
        ac, sc = runtime.AsyncRedisClient(settings), runtime.SyncRedisClient(settings)
        assert sc.set("k", 1) is True
        assert srv.proc is not None
        os.kill(srv.proc.pid, signal.SIGSTOP)

        async def body() -> None:
            t0 = time.monotonic()
            h = await ac.health_check()
            assert_failed_health(h, time.monotonic() - t0, r"no (reply|answer)")
            t0 = time.monotonic()
            many = await asyncio.gather(*[ac.health_check() for _ in range(10)])  # concurrent checks share a probe
            assert time.monotonic() - t0 <= HEALTH_BOUND and {m["status"] for m in many} == {"fail"}

        asyncio.run(body())
        t0 = time.monotonic()
        h = sc.health_check(timeout=0.2)
        assert_failed_health(h, time.monotonic() - t0, r"no reply .* within 0.2 s")
        assert time.monotonic() - t0 <= 0.2 + SLACK
    finally:
        srv.cleanup()


def test_a_client_passed_in_is_used_as_is(runtime, server, settings):
    import redis.asyncio as aioredis

    async def body() -> None:
        mine = aioredis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        c = runtime.AsyncRedisClient(settings, client=mine)
        assert await c.set("mine", 1) is True
        assert c.client is mine  # not replaced on first use
        await c.close()
        assert await mine.get(settings.key_prefix + "mine") == "1"  # and not closed: it is the caller's
        await mine.close()

    asyncio.run(body())


def test_a_new_event_loop_frees_the_old_loops_connections(runtime, server, prefix):
    """A client used from one asyncio.run() and then another (scripts, test runners) keeps no connection of the
    dead loop open on the server."""
    name = "gen-loop-" + os.urandom(3).hex()
    settings = runtime.RedisSettings.from_env(base_env(prefix, server.url, REDIS_CLIENT_NAME=name))
    c = runtime.AsyncRedisClient(settings)
    admin = server.admin()

    def named() -> int:
        return sum(1 for client in admin.client_list() if client.get("name") == name)

    async def use() -> None:
        await asyncio.gather(*[c.set(f"loop{i}", i) for i in range(6)])  # several pooled connections

    asyncio.run(use())
    first = named()
    assert first >= 2
    asyncio.run(use())
    deadline = time.monotonic() + 2
    while named() > first:
        assert time.monotonic() < deadline, f"{named()} connections named {name}: the old loop's were left open"
        time.sleep(0.05)
    asyncio.run(c.close())


def _http(port: int, path: str):
    import urllib.error
    import urllib.request

    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), time.monotonic() - started


@pytest.mark.parametrize("fault_name", ["accept and close", "wrong password (WRONGPASS)"])
def test_through_uvicorn(prefix, certs, big_rdb, fault_name):
    """The generated FastAPI example behind a real uvicorn: with redis-py 4.3 these faults made every request an
    HTTP 500 (RecursionError, then a re-raised WRONGPASS). Now: 200s, a fast 503 health, counted metrics."""
    with make_fault(fault_name, prefix, certs, big_rdb) as fault:
        port = free_port()
        env = {**os.environ, **fault.env, "PORT": str(port)}
        env.pop("REDIS_CLIENT_NAME")  # the project's baked client name, as deployed
        proc = subprocess.Popen(["/usr/bin/python3", "main.py"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.1)
            for i in range(1, 6):
                status, body, took = _http(port, f"/products/{i}")
                assert status == 200 and json.loads(body)["id"] == i, body
                assert took <= CALL_BOUND + 0.2
            status, body, took = _http(port, "/api/health/module/redis")
            assert status == 503 and took <= HEALTH_BOUND, (status, took)
            assert re.search(FAULTS[fault_name], json.loads(body)["detail"]), body
            metrics = _http(port, "/api/health/module/redis/metrics")[1]
            assert "rapidkit_redis_breaker_state 1" in metrics and "rapidkit_redis_errors_total 0" not in metrics
            fault.clear()
            cleared = time.monotonic()
            while _http(port, "/api/health/module/redis")[0] != 200:
                assert time.monotonic() - cleared <= RECOVERY_BOUND
                time.sleep(0.05)
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=10)
        log = out.decode(errors="replace")
        assert "Traceback" not in log and "RecursionError" not in log, log[-3000:]
        assert not any(secret in log for secret in SECRETS)
