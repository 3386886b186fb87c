"""TLS with a CA and a server certificate made by openssl here; a client trusting another CA is refused."""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from conftest import RedisServer, free_port


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d: Path, name: str) -> None:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=d)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    make_ca(d, "ca")
    make_ca(d, "otherca")
    (d / "san.cnf").write_text("subjectAltName=DNS:localhost\n")  # no IP entry: 127.0.0.1 is the wrong name
    issue(d, "server", "localhost", ext="san.cnf")
    issue(d, "client", "cache-client")  # for mTLS
    port = free_port()
    srv = RedisServer(*tls_args(d, port, auth_clients="no"), port=port)
    srv.start()
    yield port, d
    srv.cleanup()


def issue(d: Path, name: str, cn: str, ext: str = "") -> None:
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
    extra = ["-extfile", ext] if ext else []
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", *extra, "-out", f"{name}.crt", cwd=d)


def tls_args(d: Path, port: int, auth_clients: str) -> list:
    return ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(d / "server.crt"), "--tls-key-file", str(d / "server.key"), "--tls-ca-cert-file", str(d / "ca.crt"), "--tls-auth-clients", auth_clients]


def test_tls_with_the_right_ca(runtime, tls_server, prefix):
    port, d = tls_server
    s = runtime.RedisSettings.from_env({"REDIS_URL": f"rediss://localhost:{port}/0", "REDIS_TLS_CA_FILE": str(d / "ca.crt"), "REDIS_KEY_PREFIX": prefix})
    assert s.use_tls and s.tls_check_hostname

    async def body():
        c = runtime.AsyncRedisClient(s)
        assert await c.set("secure", {"ok": True}) is True
        assert await c.get("secure") == {"ok": True}
        h = await c.health_check()
        assert h["status"] == "ok" and h["connection"]["use_tls"] is True
        await c.close()

    asyncio.run(body())
    sync = runtime.SyncRedisClient(s)
    assert sync.get("secure") == {"ok": True}
    sync.close()


def test_tls_with_a_wrong_ca_is_refused(runtime, tls_server, prefix):
    port, d = tls_server
    s = runtime.RedisSettings.from_env({"REDIS_URL": f"rediss://localhost:{port}/0", "REDIS_TLS_CA_FILE": str(d / "otherca.crt"), "REDIS_KEY_PREFIX": prefix, "REDIS_RETRIES": "0"})

    async def body():
        c = runtime.AsyncRedisClient(s)
        assert await c.set("secure", 1) is False  # fail-open, but nothing was sent in clear
        h = await c.health_check()
        assert h["status"] == "fail"
        assert h["detail"].startswith("ConnectionError")  # the handshake fails (redis-py 4.3 says little more)
        assert c.stats()["errors"] >= 1
        await c.close()

    asyncio.run(body())


def test_tls_verifies_the_hostname(runtime, tls_server, prefix):
    port, d = tls_server
    env = {"REDIS_URL": f"rediss://127.0.0.1:{port}/0", "REDIS_TLS_CA_FILE": str(d / "ca.crt"), "REDIS_KEY_PREFIX": prefix, "REDIS_RETRIES": "0"}
    wrong_name = runtime.SyncRedisClient(runtime.RedisSettings.from_env(env))
    assert wrong_name.set("k", 1) is False  # the certificate names localhost, not 127.0.0.1: refused
    assert wrong_name.health_check()["status"] == "fail"
    wrong_name.close()
    unchecked = runtime.SyncRedisClient(runtime.RedisSettings.from_env({**env, "REDIS_TLS_CHECK_HOSTNAME": "false"}))
    assert unchecked.set("k", 1) is True  # only when explicitly turned off (the CA is still verified)
    unchecked.close()


def test_mutual_tls_with_a_client_certificate(runtime, tls_server, prefix):
    _, d = tls_server
    port = free_port()
    srv = RedisServer(*tls_args(d, port, auth_clients="yes"), port=port).start()
    try:
        env = {"REDIS_URL": f"redis://localhost:{port}/0", "REDIS_TLS": "true", "REDIS_TLS_CA_FILE": str(d / "ca.crt"), "REDIS_KEY_PREFIX": prefix, "REDIS_RETRIES": "0"}
        anonymous = runtime.SyncRedisClient(runtime.RedisSettings.from_env(env))
        assert anonymous.set("k", 1) is False  # the server demands a client certificate
        anonymous.close()
        mtls = runtime.RedisSettings.from_env({**env, "REDIS_TLS_CERT_FILE": str(d / "client.crt"), "REDIS_TLS_KEY_FILE": str(d / "client.key")})

        async def body():
            c = runtime.AsyncRedisClient(mtls)
            assert await c.set("k", {"m": "tls"}) is True and await c.get("k") == {"m": "tls"}
            assert (await c.health_check())["connection"]["use_tls"] is True
            await c.close()

        asyncio.run(body())
        assert runtime.SyncRedisClient(mtls).get("k") == {"m": "tls"}
    finally:
        srv.cleanup()
