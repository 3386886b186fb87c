// `npm run bench peers`, Python side: the bench venv (test/stacks/python-bench.txt: the latest stack + cashews +
// aiocache, built by scripts/python-envs.sh) runs bench/peers_python.py in a freshly generated FastAPI project.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO, generated, startRedis } from './lib.mjs';

const envs = spawnSync('bash', [path.join(REPO, 'scripts', 'python-envs.sh'), 'bench'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (envs.status !== 0) process.exit(1);
const python = envs.stdout.trim().split('=')[1];
const redis = await startRedis();
try {
  const project = generated('fastapi');
  const r = spawnSync(python, [path.join(REPO, 'bench', 'peers_python.py')], {
    cwd: project,
    env: { ...process.env, REDIS_URL: redis.url, PYTHONDONTWRITEBYTECODE: '1' },
    stdio: 'inherit',
  });
  process.exitCode = r.status ?? 1;
} finally {
  redis.stop();
}
