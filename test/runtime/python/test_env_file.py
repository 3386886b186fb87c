"""The password gen writes to the project's .env reaches the app: the runtime reads `<project>/.env` (the folder
holding .rapidkit/) under the process environment, like pydantic-settings' env_file, with no dependency; uvicorn,
Celery and scripts alike, from any working directory."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import PROJECT, RedisServer

SCRIPT = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import app.redis_cache as rc
s = rc.RedisSettings.from_env()
sync = rc.SyncRedisClient()
ok = sync.set("envfile", "yes")
pool = rc.create_sync_redis_pool(url=f"redis://127.0.0.1:{s.port}/0")  # an explicit URL without password: .env's REDIS_PASSWORD
try:
    pinged = pool.ping()
except Exception as exc:
    pinged = type(exc).__name__
print(json.dumps({"port": s.port, "password_set": s.password is not None, "ttl": s.cache_ttl, "ok": ok, "back": sync.get("envfile"), "pool": pinged}))
"""


def test_project_env_file_is_read_and_the_environment_wins(tmp_path):
    srv = RedisServer().start()
    srv.admin().config_set("requirepass", "from-dotenv-pw")
    env_file = PROJECT / ".env"
    assert not env_file.exists()
    env_file.write_text(f"# written by gen\nREDIS_URL=redis://127.0.0.1:{srv.port}/0\nexport REDIS_PASSWORD='from-dotenv-pw'\nCACHE_TTL=77 # seconds\nREDIS_KEY_PREFIX=gentest:envfile:\n")
    clean = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(PROJECT)], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout.strip().splitlines()[-1])
        assert got == {"port": srv.port, "password_set": True, "ttl": 77, "ok": True, "back": "yes", "pool": True}
        assert "from-dotenv-pw" not in out.stdout + out.stderr
        # the process environment wins over the file; REDIS_ENV_FILE="" turns the file off
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(PROJECT)], cwd=tmp_path, env={**clean, "CACHE_TTL": "5"}, capture_output=True, text=True, timeout=30)
        assert json.loads(out.stdout.strip().splitlines()[-1])["ttl"] == 5
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(PROJECT)], cwd=tmp_path, env={**clean, "REDIS_ENV_FILE": "", "REDIS_CONNECT_TIMEOUT": "0.2", "REDIS_RETRIES": "0"}, capture_output=True, text=True, timeout=30)
        assert json.loads(out.stdout.strip().splitlines()[-1])["password_set"] is False
    finally:
        env_file.unlink()
        srv.cleanup()
