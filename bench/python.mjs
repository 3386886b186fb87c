// Python runtime vs raw redis.asyncio, from one run against one loopback redis-server.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO, generated, startRedis } from './lib.mjs';

const redis = await startRedis();
try {
  const project = generated('fastapi');
  const r = spawnSync('/usr/bin/python3', [path.join(REPO, 'bench', 'python_bench.py')], {
    cwd: project,
    env: { ...process.env, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'bench:', PYTHONDONTWRITEBYTECODE: '1' },
    stdio: 'inherit',
  });
  process.exitCode = r.status ?? 1;
} finally {
  redis.stop();
}
