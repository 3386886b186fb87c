// `npm run bench peers`, Node side: the generated runtime's RedisCache against the caches a NestJS/Fastify user
// would otherwise pick, each with its default settings plus its Redis backend, on one loopback redis-server: the
// same key (each library in its own database, so no one reads another's encoding), the same JSON-able value and
// the same TTL. Rounds interleave the libraries call by call; a ratio is ours / the peer's, the median over the
// rounds of the per-round medians.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REDIS_SNAP, REPO, generated, startRedis } from './lib.mjs';

const require = createRequire(import.meta.url);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000); // per library, per operation, per round
const KEY = 'bench:user:42';
const VALUE = { id: 42, name: 'Ada Lovelace', roles: ['admin', 'author'], active: true };
const TTL_S = 3600;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const version = (pkg) => JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')).version;

async function pair(a, b, n) {
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
  return [median(sa), median(sb)];
}

const redis = await startRedis();
const closers = [];
try {
  const project = generated('fastify');
  const runtime = require(path.join(project, REDIS_SNAP, 'node/core/index.js'));
  const ours = new runtime.RedisCache(
    runtime.settingsFromEnv({ REDIS_URL: `redis://127.0.0.1:${redis.port}/0`, REDIS_KEY_PREFIX: 'bench:' }),
  );
  closers.push(() => ours.close());

  // @nestjs/cache-manager: CacheModule.register with the @keyv/redis store, resolved from a Nest context as an app would
  require('reflect-metadata');
  const { Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { CacheModule, CACHE_MANAGER } = require('@nestjs/cache-manager');
  const { default: KeyvRedis } = await import('@keyv/redis');
  class BenchModule {}
  Module({ imports: [CacheModule.register({ stores: [new KeyvRedis(`redis://127.0.0.1:${redis.port}/1`)] })] })(BenchModule);
  const nest = await NestFactory.createApplicationContext(BenchModule, { logger: false, abortOnError: false });
  closers.push(() => nest.close());
  const cacheManager = nest.get(CACHE_MANAGER);

  // bentocache: the redis driver as its only layer (no memory tier)
  const { BentoCache, bentostore } = await import('bentocache');
  const { redisDriver } = await import('bentocache/drivers/redis');
  const bento = new BentoCache({
    default: 'redis',
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: { host: '127.0.0.1', port: redis.port, db: 2 } })) },
  });
  closers.push(() => bento.disconnectAll());

  // raw ioredis, its default client: the floor
  const Redis = require('ioredis');
  const raw = new Redis({ host: '127.0.0.1', port: redis.port, db: 3 });
  closers.push(() => raw.disconnect());

  const oursOps = [() => ours.get('user:42'), () => ours.set('user:42', VALUE, TTL_S)];
  const peers = {
    '@nestjs/cache-manager': [() => cacheManager.get(KEY), () => cacheManager.set(KEY, VALUE, TTL_S * 1000)],
    bentocache: [() => bento.get({ key: KEY }), () => bento.set({ key: KEY, value: VALUE, ttl: TTL_S * 1000 })],
    'ioredis (floor)': [
      async () => {
        const s = await raw.get(KEY);
        return s === null ? null : JSON.parse(s);
      },
      () => raw.set(KEY, JSON.stringify(VALUE), 'EX', TTL_S),
    ],
  };
  for (const [get, set] of [oursOps, ...Object.values(peers)]) {
    await set();
    const back = await get();
    if (JSON.stringify(back) !== JSON.stringify(VALUE)) throw new Error(`a store did not return the value: ${JSON.stringify(back)}`);
  }

  const names = Object.keys(peers);
  const ratios = Object.fromEntries(names.map((n) => [n, { get: [], set: [] }]));
  for (let r = 0; r <= ROUNDS; r++) {
    // round 0 warms every path (JIT, connections) and is not counted; the order rotates each round
    for (const name of [...names.slice(r % names.length), ...names.slice(0, r % names.length)]) {
      for (const [i, op] of ['get', 'set'].entries()) {
        const [mine, theirs] = await pair(oursOps[i], peers[name][i], CALLS);
        if (r) ratios[name][op].push(mine / theirs);
      }
    }
  }
  console.log(
    `Node ${process.version}: ioredis ${version('ioredis')}, @nestjs/cache-manager ${version('@nestjs/cache-manager')} (cache-manager ${version('cache-manager')}, keyv ${version('keyv')}, @keyv/redis ${version('@keyv/redis')}), bentocache ${version('bentocache')}; ${ROUNDS} rounds x ${CALLS} interleaved calls, median round`,
  );
  const notes = {
    '@nestjs/cache-manager': '@keyv/redis: node-redis client, no deadline, no breaker, no metrics',
    bentocache: 'bentocache L2 only: no per-call deadline by default, no breaker',
    'ioredis (floor)': 'raw client: no deadline, no fail-open, JSON by hand',
  };
  for (const name of names) {
    console.log(`vs ${name}: get ${median(ratios[name].get).toFixed(2)}x set ${median(ratios[name].set).toFixed(2)}x  (${notes[name]})`);
  }
} finally {
  for (const close of closers.reverse()) await close();
  redis.stop();
}
