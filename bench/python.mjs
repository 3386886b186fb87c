// Python runtime vs raw redis.asyncio, from one run against one loopback redis-server; then the cluster figures
// against a 3-master loopback Redis Cluster (runtime vs raw redis.asyncio.cluster.RedisCluster, same run).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO, generated, startCluster, startRedis } from './lib.mjs';

const project = generated('fastapi');
const redis = await startRedis();
try {
  const r = spawnSync('/usr/bin/python3', [path.join(REPO, 'bench', 'python_bench.py')], {
    cwd: project,
    env: { ...process.env, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'bench:', PYTHONDONTWRITEBYTECODE: '1' },
    stdio: 'inherit',
  });
  process.exitCode = r.status ?? 1;
} finally {
  redis.stop();
}
const cluster = await startCluster(3);
try {
  console.log('\n-- Redis Cluster, 3 masters (REDIS_CLUSTER_NODES)');
  const env = { ...process.env, REDIS_CLUSTER_NODES: cluster.seeds, REDIS_KEY_PREFIX: 'bench:', PYTHONDONTWRITEBYTECODE: '1' };
  delete env.REDIS_URL;
  const r = spawnSync('/usr/bin/python3', [path.join(REPO, 'bench', 'python_bench.py'), 'cluster'], {
    cwd: project,
    env,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
} finally {
  cluster.stop();
}
