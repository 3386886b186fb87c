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
    (d / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.crt", cwd=d)
    port = free_port()
    srv = RedisServer("--port", "0", "--tls-port", str(port), "--tls-cert-file", str(d / "server.crt"), "--tls-key-file", str(d / "server.key"), "--tls-ca-cert-file", str(d / "ca.crt"), "--tls-auth-clients", "no", port=port)
    srv.start()
    yield port, d
    srv.cleanup()


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
