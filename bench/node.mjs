// Node runtime vs raw ioredis, from one run against one loopback redis-server.
import { createRequire } from 'node:module';
import path from 'node:path';
import { REDIS_SNAP, generated, startCluster, startRedis } from './lib.mjs';

const require = createRequire(import.meta.url);
const Redis = require('ioredis');
const N = 10000;
const VALUE = { id: 42, name: 'Ada Lovelace', roles: ['admin', 'author'], active: true };
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const p99 = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length * 0.99)];

/** Median over 5 rounds of the per-round medians (a, b): one noisy round cannot decide the verdict. */
async function paired(a, b, n = N) {
  const rounds = [];
  for (let r = 0; r < 5; r++) rounds.push(await pairedRound(a, b, Math.floor(n / 5)));
  rounds.sort((x, y) => x[1] / x[0] - y[1] / y[0]);
  return rounds[2];
}

/** Alternates a and b call by call so drift hits both alike; returns both medians in seconds. */
async function pairedRound(a, b, n) {
  for (let i = 0; i < 300; i++) (await a(), await b());
  const sa = [];
  const sb = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await a();
    const t1 = performance.now();
    await b();
    sa.push(t1 - t0);
    sb.push(performance.now() - t1);
  }
  return [median(sa) / 1000, median(sb) / 1000];
}

async function timed(fn, n) {
  for (let i = 0; i < 100; i++) await fn();
  const s = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    s.push(performance.now() - t0);
  }
  return { median: median(s) / 1000, p99: p99(s) / 1000 };
}

function line(label, value, base, target) {
  const ratio = value / base;
  const ok = ratio <= target;
  console.log(
    `${label.padEnd(44)} ${(value * 1e6).toFixed(1).padStart(9)} us  vs ${(base * 1e6).toFixed(1).padStart(9)} us  ratio ${ratio.toFixed(2).padStart(6)}x  target <= ${target}x  ${ok ? 'ok' : 'MISSED'}`,
  );
  return ok;
}

const redis = await startRedis();
let allOk = true;
try {
  const project = generated('fastify');
  const runtime = require(path.join(project, REDIS_SNAP, 'node/core/index.js'));
  const raw = new Redis({ host: '127.0.0.1', port: redis.port });
  const quiet = { warn: () => {} };
  const cache = new runtime.RedisCache(runtime.settingsFromEnv({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'bench:' }), { logger: quiet });
  await cache.set('k', VALUE);
  await raw.set('bench:raw', JSON.stringify(VALUE));
  const [gRaw, gRt] = await paired(
    async () => JSON.parse(await raw.get('bench:raw')),
    () => cache.get('k'),
  );
  const [gBytes, gRt2] = await paired(
    () => raw.get('bench:raw'),
    () => cache.get('k'),
  );
  const [sRaw, sRt] = await paired(
    () => raw.set('bench:raw', JSON.stringify(VALUE), 'EX', 3600),
    () => cache.set('k', VALUE),
  );
  const keys = Array.from({ length: 100 }, (_, i) => `m${i}`);
  await cache.setMany(Object.fromEntries(keys.map((k) => [k, VALUE])));
  const seq = await timed(async () => {
    for (const k of keys) await cache.get(k);
  }, 200);
  const many = await timed(() => cache.getMany(keys), 200);
  const dead = new runtime.RedisCache(
    runtime.settingsFromEnv({
      REDIS_URL: 'redis://127.0.0.1:1/0',
      REDIS_CONNECT_TIMEOUT: '0.05',
      REDIS_RETRIES: '0',
      REDIS_BREAKER_RESET_TIMEOUT: '60',
    }),
    { logger: quiet },
  );
  while (dead.breaker.state !== 'open') await dead.get('x');
  const open = await timed(() => dead.get('x'), 20000);

  console.log(
    `ioredis ${require('ioredis/package.json').version}, Node ${process.version}, ${N} interleaved calls in 5 rounds, median round`,
  );
  allOk = line('get (runtime vs raw get + JSON.parse)', gRt, gRaw, 1.1) && allOk;
  allOk = line('set (runtime vs JSON.stringify + raw set)', sRt, sRaw, 1.1) && allOk;
  console.log(
    `${'  (get vs raw get of the bytes, no decoding)'.padEnd(44)} ${(gRt2 * 1e6).toFixed(1).padStart(9)} us  vs ${(gBytes * 1e6).toFixed(1).padStart(9)} us  ratio ${(gRt2 / gBytes).toFixed(2).padStart(6)}x  (information)`,
  );
  const speedup = seq.median / many.median;
  console.log(
    `${'getMany(100) vs 100 sequential get'.padEnd(44)} ${(many.median * 1e6).toFixed(1).padStart(9)} us  vs ${(seq.median * 1e6).toFixed(1).padStart(9)} us  speed-up ${speedup.toFixed(1).padStart(6)}x  target >= 10x  ${speedup >= 10 ? 'ok' : 'MISSED'}`,
  );
  allOk = speedup >= 10 && allOk;
  console.log(
    `${'p99 of a cache call, breaker open'.padEnd(44)} ${(open.p99 * 1e6).toFixed(1).padStart(9)} us  target <= 1000 us  ${open.p99 <= 0.001 ? 'ok' : 'MISSED'}`,
  );
  allOk = open.p99 <= 0.001 && allOk;
  await cache.close();
  await dead.close();
  raw.disconnect();

  // Redis Cluster (3 masters on loopback): the runtime on ioredis' Cluster against raw ioredis Cluster
  const cluster = await startCluster(3);
  try {
    const rawCluster = new Redis.Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    const cc = new runtime.RedisCache(runtime.settingsFromEnv({ REDIS_CLUSTER_NODES: cluster.seeds, REDIS_KEY_PREFIX: 'bench:' }), {
      logger: quiet,
    });
    await cc.set('k', VALUE);
    await rawCluster.set('bench:raw', JSON.stringify(VALUE));
    const [cRaw, cRt] = await paired(
      async () => JSON.parse(await rawCluster.get('bench:raw')),
      () => cc.get('k'),
    );
    await cc.setMany(Object.fromEntries(keys.map((k) => [k, VALUE])));
    const masters = new Set(keys.map((k) => rawCluster.slots[runtime.keySlot(`bench:${k}`)][0]));
    const cSeq = await timed(async () => {
      for (const k of keys) await cc.get(k);
    }, 100);
    const cMany = await timed(() => cc.getMany(keys), 200);
    // what raw ioredis does for the same keys at best: one Cluster pipeline per master, concurrently
    const byMaster = new Map();
    for (const k of keys) {
      const node = rawCluster.slots[runtime.keySlot(`bench:${k}`)][0];
      byMaster.set(node, [...(byMaster.get(node) ?? []), `bench:${k}`]);
    }
    const rawMany = await timed(
      () =>
        Promise.all(
          [...byMaster.values()].map((group) => {
            const p = rawCluster.pipeline();
            for (const k of group) p.get(k);
            return p.exec();
          }),
        ),
      200,
    );
    console.log(`Redis Cluster, 3 masters (the 100 keys on ${masters.size} of them)`);
    allOk = line('cluster get (runtime vs raw Cluster get + parse)', cRt, cRaw, 1.15) && allOk;
    const cSpeedup = cSeq.median / cMany.median;
    console.log(
      `${'cluster getMany(100) vs 100 sequential get'.padEnd(44)} ${(cMany.median * 1e6).toFixed(1).padStart(9)} us  vs ${(cSeq.median * 1e6).toFixed(1).padStart(9)} us  speed-up ${cSpeedup.toFixed(1).padStart(6)}x  target >= 10x  ${cSpeedup >= 10 ? 'ok' : 'MISSED'}`,
    );
    allOk = cSpeedup >= 10 && allOk;
    console.log(
      `${'  (raw Cluster: one pipeline per master)'.padEnd(44)} ${(rawMany.median * 1e6).toFixed(1).padStart(9)} us  runtime getMany ${(cMany.median / rawMany.median).toFixed(2)}x of it  (information)`,
    );
    await cc.close();
    rawCluster.disconnect();
  } finally {
    cluster.stop();
  }
} finally {
  redis.stop();
}
process.exitCode = allOk ? 0 : 1;
