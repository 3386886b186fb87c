import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { crossLanguage } from './cross-language.js';
import {
  REPO,
  tempDir,
  RedisServer,
  freePort,
  SNAP,
  VECTORS,
  generate,
  removeAfterSuccess,
  requireCjs,
  runtimeOf,
  makeCerts,
  expectSecondSocketErrorContained,
  sleep,
  REDIS_VERSION,
} from '../helpers.js';

// The Node runtime core exactly as gen vendors it into a project (the generated snapshot, not the sources),
// against real redis-server processes on loopback. The apps built from it: runtime-node-apps.test.ts.
const Redis = requireCjs('ioredis');

let project: string;
let runtime: any;
let server: RedisServer;
const quiet = { warn: () => undefined };

beforeAll(async () => {
  project = await generate('fastify', 'node-core');
  runtime = runtimeOf(project);
  server = await new RedisServer().start();
}, 300_000);

afterAll(async () => {
  await server?.cleanup();
});
const made: string[] = [];
removeAfterSuccess(() => [project, ...made]);

test('the vendored core resolves ioredis from the project (GEN_TEST_IOREDIS swaps in another version)', () => {
  const resolved = fs.realpathSync(requireCjs.resolve('ioredis/package.json', { paths: [path.join(project, SNAP, 'core')] }));
  const alt = process.env.GEN_TEST_IOREDIS;
  expect(resolved).toBe(fs.realpathSync(alt ? path.join(alt, 'package.json') : path.join(REPO, 'node_modules', 'ioredis', 'package.json')));
});

let seq = 0;
const ACL_PASSWORD = `acl-${process.pid}-${Date.now()}`;
const ACL_PREFIX = 'gentest:acl:';

function makeCache(mode: 'default' | 'acl', env: Record<string, string> = {}) {
  const prefix = `${mode === 'acl' ? ACL_PREFIX : 'gentest:'}n${++seq}:`;
  const url = mode === 'acl' ? `redis://cacheuser:${ACL_PASSWORD}@127.0.0.1:${server.port}/0` : server.url;
  const settings = runtime.settingsFromEnv({
    REDIS_URL: url,
    REDIS_KEY_PREFIX: prefix,
    CACHE_TTL: '300',
    REDIS_SOCKET_TIMEOUT: '0.5',
    REDIS_CONNECT_TIMEOUT: '0.5',
    ...env,
  });
  return { cache: new runtime.RedisCache(settings, { logger: quiet }), prefix };
}

function admin() {
  return new Redis({ port: server.port, host: '127.0.0.1' }).on('error', () => undefined);
}

async function scanAll(client: any, match: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

describe.each(['default', 'acl'] as const)('core cache API (%s user)', (mode) => {
  beforeAll(async () => {
    if (mode === 'acl') {
      // least privilege: only keys under the prefix, no KEYS, no FLUSHALL/FLUSHDB
      const a = admin();
      await a.call(
        'ACL',
        'SETUSER',
        'cacheuser',
        'reset',
        'on',
        `>${ACL_PASSWORD}`,
        `~${ACL_PREFIX}*`,
        '+@all',
        '-keys',
        '-flushall',
        '-flushdb',
      );
      await a.call('CONFIG', 'RESETSTAT');
      a.disconnect();
    }
  });
  afterAll(async () => {
    if (mode === 'acl') {
      const a = admin();
      const stats = String(await a.info('commandstats'));
      const denied = String(await a.call('ACL', 'LOG'));
      a.disconnect();
      expect(stats).not.toContain('cmdstat_keys:'); // the runtime never used KEYS
      expect(stats).toContain('cmdstat_scan:');
      expect(stats).toContain('cmdstat_unlink:');
      expect(denied).not.toContain('cacheuser'); // and was never refused anything (apart from the NOPERM test's own user)
    }
  });

  test('get/set/delete/exists/incr/getMany/setMany; caller errors throw and leave the breaker closed', async () => {
    const { cache, prefix } = makeCache(mode);
    expect(await cache.get('missing')).toBeNull();
    expect(await cache.get('missing', 'd')).toBe('d');
    expect(await cache.set('user:1', { name: 'Ada', tags: ['a'] })).toBe(true);
    expect(await cache.get('user:1')).toEqual({ name: 'Ada', tags: ['a'] });
    expect(await cache.client.get(`${prefix}user:1`)).toBe('{"name":"Ada","tags":["a"]}');
    expect(await cache.exists('user:1')).toBe(true);
    expect(await cache.exists('user:2')).toBe(false);
    expect(await cache.incr('n')).toBe(1);
    expect(await cache.incr('n', 41)).toBe(42);
    expect(await cache.get('n')).toBe(42);
    expect(await cache.delete('user:1', 'n', 'nope')).toBe(2);
    expect(await cache.delete()).toBe(0);
    expect(await cache.set('null', null)).toBe(true);
    expect(await cache.exists('null')).toBe(true);
    expect(await cache.get('null', 'd')).toBeNull(); // the stored null itself; without a default a miss looks the same (getOrSet can tell)
    const entries = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, { i }]));
    expect(await cache.setMany(entries, 60)).toBe(true);
    expect(await cache.setMany({})).toBe(true);
    expect(await cache.ttl('k99')).toBeGreaterThan(55);
    const got = await cache.getMany([...Object.keys(entries), 'absent']);
    expect(got).toEqual(entries); // hits only
    expect(await cache.getMany([])).toEqual({});

    await expect(cache.set('u', undefined)).rejects.toThrow(TypeError);
    await expect(cache.set('u', () => 1)).rejects.toThrow(TypeError);
    await expect(cache.get('')).rejects.toThrow(TypeError);
    await expect(cache.get(42)).rejects.toThrow(TypeError);
    await expect(cache.incr('n', 1.5)).rejects.toThrow(TypeError);
    await cache.client.lpush(`${prefix}list`, 'x');
    await expect(cache.incr('list')).rejects.toThrow(/WRONGTYPE/);
    await expect(cache.get('list')).rejects.toThrow(/WRONGTYPE/);
    expect(cache.breaker.state).toBe('closed');
    const s = cache.stats();
    expect(s.errors).toBe(0);
    expect(s.fallbacks).toBe(0);
    expect(s.hits).toBeGreaterThanOrEqual(103);
    await cache.close();
    await cache.close(); // twice is fine
  });

  test('TTL semantics: default, 0 = no expiry, fractions in ms, negative is an error; ttl()/expire()', async () => {
    const { cache, prefix } = makeCache(mode);
    await cache.set('default', 1);
    expect(await cache.ttl('default')).toBeGreaterThan(295);
    expect(await cache.ttl('default')).toBeLessThanOrEqual(300);
    await cache.set('forever', 1, 0);
    expect(await cache.ttl('forever')).toBe(-1);
    await cache.set('frac', 1, 1.5);
    const pttl = await cache.client.pttl(`${prefix}frac`);
    expect(pttl).toBeGreaterThan(1000);
    expect(pttl).toBeLessThanOrEqual(1500);
    await cache.set('short', 1, 0.15);
    expect(await cache.get('short')).toBe(1);
    await sleep(300);
    expect(await cache.get('short')).toBeNull();
    expect(await cache.ttl('never')).toBe(-2);
    await expect(cache.set('neg', 1, -1)).rejects.toThrow(RangeError);
    await expect(cache.setMany({ a: 1 }, -1)).rejects.toThrow(RangeError);
    await expect(cache.getOrSet('neg', () => 1, -5)).rejects.toThrow(RangeError);
    expect(await cache.expire('forever', 30)).toBe(true);
    expect(await cache.ttl('forever')).toBeGreaterThan(25);
    expect(await cache.expire('forever', 0)).toBe(true); // PERSIST
    expect(await cache.ttl('forever')).toBe(-1);
    expect(await cache.expire('forever', 0)).toBe(true); // already persistent: still true
    expect(await cache.expire('never', 30)).toBe(false);
    expect(await cache.expire('never', 0)).toBe(false);

    // a default TTL of 0 means no expiry too
    const { cache: noTtl } = makeCache(mode, { CACHE_TTL: '0' });
    await noTtl.set('k', 'v');
    expect(await noTtl.ttl('k')).toBe(-1);
    await noTtl.close();
    await cache.close();
  });

  test('a socket error after the first one never escapes to the app (ioredis listens once per stream): the cache reconnects', async () => {
    const { cache } = makeCache(mode);
    expect(await cache.set('k', 'v')).toBe(true);
    const stream = cache.client.stream;
    await expectSecondSocketErrorContained(cache, cache.client, 'k', 'v');
    expect(cache.client.stream).not.toBe(stream);
    await cache.close();
  });

  test('shared vectors: exact stored bytes and round trip; raw values pass through', async () => {
    const { cache, prefix } = makeCache(mode);
    for (const v of VECTORS.vectors) {
      expect(await cache.set(v.key, v.value)).toBe(true);
      expect(await cache.client.get(prefix + v.key), v.name).toBe(v.stored);
      expect(await cache.get(v.key), v.name).toEqual(v.value);
    }
    for (const v of VECTORS.raw) {
      await cache.client.set(prefix + v.key, v.stored);
      expect(await cache.get(v.key), v.name).toEqual(v.value);
    }
    await cache.close();
  });

  test('deletePattern over 10k keys (SCAN + UNLINK) leaves foreign keys untouched', async () => {
    const { cache, prefix } = makeCache(mode);
    const a = admin();
    const foreign = `gentest:foreign${seq}:`;
    await a.mset(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`${foreign}session:${i}`, 'x'])));
    await a.set(`${prefix.slice(0, -1)}session:0`, 'x'); // shares the prefix text without its last character
    for (let i = 0; i < 10_000; i += 1000) {
      expect(await cache.setMany(Object.fromEntries(Array.from({ length: 1000 }, (_, j) => [`session:${i + j}`, i + j])))).toBe(true);
    }
    await cache.set('user:1', 'keep');
    expect(await cache.deletePattern('session:*')).toBe(10_000);
    expect(await cache.deletePattern('session:*')).toBe(0);
    expect(await cache.get('user:1')).toBe('keep');
    expect(await scanAll(a, `${foreign}*`)).toHaveLength(500);
    expect(await a.exists(`${prefix.slice(0, -1)}session:0`)).toBe(1);
    expect(await scanAll(a, `${prefix}session:*`)).toEqual([]);
    a.disconnect();
    await cache.close();
  }, 60_000);

  test('single-flight: 200 concurrent callers of a cold key run the loader once; errors are shared, not cached', async () => {
    const { cache, prefix } = makeCache(mode);
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(100);
      return { report: 1 };
    };
    const results = await Promise.all(Array.from({ length: 200 }, () => cache.getOrSet('cold', loader, 60)));
    expect(calls).toBe(1);
    expect(results.every((r: any) => r.report === 1)).toBe(true);
    expect(await cache.getOrSet('cold', loader)).toEqual({ report: 1 });
    expect(calls).toBe(1);
    expect(await cache.ttl('cold')).toBeGreaterThan(55);

    let failing = 0;
    const boom = async () => {
      failing++;
      await sleep(50);
      throw new Error('db down');
    };
    const settled = await Promise.allSettled(Array.from({ length: 20 }, () => cache.getOrSet('err', boom)));
    expect(failing).toBe(1);
    expect(settled.every((r) => r.status === 'rejected' && String(r.reason).includes('db down'))).toBe(true);
    expect(await cache.client.exists(`${prefix}err`)).toBe(0);
    expect(await cache.getOrSet('err', () => 'ok')).toBe('ok');

    // a stored null is a hit for getOrSet; a loader's undefined is stored as null
    let nulls = 0;
    expect(await cache.getOrSet('nothing', () => (nulls++, undefined))).toBeUndefined();
    expect(await cache.client.get(`${prefix}nothing`)).toBe('null');
    expect(await cache.getOrSet('nothing', () => (nulls++, 'x'))).toBeNull();
    expect(nulls).toBe(1);
    await cache.close();
  });

  test('rateLimit is atomic under concurrency from two clients; the window resets', async () => {
    const { cache, prefix } = makeCache(mode);
    const other = new runtime.RedisCache(cache.settings, { logger: quiet }); // a second connection, same prefix
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? cache : other).rateLimit('login:ada', 10, 30)));
    expect(results.filter((r: any) => r.allowed)).toHaveLength(10);
    expect(results.map((r: any) => r.count).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(results.every((r: any) => r.resetAfter > 0 && r.resetAfter <= 30 && r.remaining === Math.max(0, 10 - r.count))).toBe(true);
    expect(await cache.client.exists(`${prefix}ratelimit:login:ada`)).toBe(1);

    const first = await cache.rateLimit('burst', 2, 0.3);
    expect(first).toMatchObject({ allowed: true, remaining: 1, count: 1 });
    await cache.rateLimit('burst', 2, 0.3);
    expect((await cache.rateLimit('burst', 2, 0.3)).allowed).toBe(false);
    await sleep(400);
    expect(await cache.rateLimit('burst', 2, 0.3)).toMatchObject({ allowed: true, count: 1 });
    await expect(cache.rateLimit('x', 0, 1)).rejects.toThrow(RangeError);
    await expect(cache.rateLimit('x', 1, 0)).rejects.toThrow(RangeError);
    await other.close();
    await cache.close();
  });

  test('health payload, server info and Prometheus text', async () => {
    const { cache } = makeCache(mode);
    await cache.get('m'); // one miss
    const h = await cache.healthCheck();
    expect(h).toMatchObject({
      status: 'ok',
      module: 'redis',
      version: REDIS_VERSION,
      pool: { active: 1, idle: 0, max: 1 },
      connection: { host: '127.0.0.1', port: server.port, db: 0, use_tls: false },
      breaker: { state: 'closed', failures: 0 },
    });
    expect(Object.keys(h)).toEqual(['status', 'module', 'version', 'mode', 'latency', 'pool', 'connection', 'breaker', 'checked_at']);
    expect(h.mode).toBe('standalone'); // always present (docs/modules/redis/health.md)
    expect(cache.stats().mode).toBe('standalone');
    expect(cache.renderPrometheus()).toContain('rapidkit_redis_mode{mode="standalone"} 1');
    expect(h.latency.ping_ms).toBeGreaterThanOrEqual(0);
    expect(new Date(h.checked_at).toISOString()).toBe(h.checked_at);
    expect(JSON.stringify(h)).not.toContain(ACL_PASSWORD);
    const info = await cache.serverInfo();
    expect(info.server).toContain('redis_version:');
    expect(info.memory).toContain('used_memory_human:');
    expect(info.dbsize).toBeGreaterThanOrEqual(0);
    const text = cache.renderPrometheus();
    for (const name of [
      'hits_total',
      'misses_total 1',
      'errors_total 0',
      'fallbacks_total 0',
      'breaker_state 0',
      'operation_seconds{quantile="0.99"}',
      'operation_seconds_count',
    ]) {
      expect(text).toContain(`rapidkit_redis_${name}`);
    }
    expect(text).toMatch(/# TYPE rapidkit_redis_operation_seconds summary/);
    await cache.close();
  });
});

test('a key prefix with glob characters matches literally in deletePattern', async () => {
  const prefix = 'gentest:g[1]*?:';
  const cache = new runtime.RedisCache(runtime.settingsFromEnv({ REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix }), { logger: quiet });
  const a = admin();
  await a.set('gentest:g1X:session:1', 'foreign'); // matches the prefix when it is not escaped
  await a.set('gentest:g1:session:2', 'foreign');
  await cache.set('session:1', 1);
  await cache.set('session:2', 2);
  expect(await cache.deletePattern('session:*')).toBe(2);
  expect(await a.exists('gentest:g1X:session:1', 'gentest:g1:session:2')).toBe(2);
  a.disconnect();
  await cache.close();
});

test('an ACL refusal (NOPERM: a prefix the user may not touch) is a configuration error: it throws, the breaker stays closed', async () => {
  const a = admin();
  await a.call('ACL', 'SETUSER', 'narrow', 'reset', 'on', '>narrow-pw', '~allowed:*', '+@all');
  a.disconnect();
  const cache = new runtime.RedisCache(
    runtime.settingsFromEnv({ REDIS_URL: `redis://narrow:narrow-pw@127.0.0.1:${server.port}/0`, REDIS_KEY_PREFIX: 'elsewhere:' }),
    { logger: quiet },
  );
  await expect(cache.set('k', 1)).rejects.toThrow(/NOPERM/);
  expect(cache.breaker.state).toBe('closed');
  expect(cache.stats().errors).toBe(0);
  await cache.close();
});

describe('fail-open with Redis stopped, stalled and restarted', () => {
  test('every call answers its fallback, the breaker opens and answers without network, and it recovers within 5 s of a restart', async () => {
    const redis = await new RedisServer().start();
    const warnings: string[] = [];
    const settings = runtime.settingsFromEnv({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'gentest:failopen:',
      REDIS_SOCKET_TIMEOUT: '0.3',
      REDIS_CONNECT_TIMEOUT: '0.3',
      REDIS_RETRIES: '1',
      REDIS_BREAKER_THRESHOLD: '3',
      REDIS_BREAKER_RESET_TIMEOUT: '1',
    });
    const cache = new runtime.RedisCache(settings, { logger: { warn: (m: string) => warnings.push(m) } });
    try {
      expect(await cache.set('k', 'v')).toBe(true);
      await redis.stop();
      const t0 = Date.now();
      expect(await cache.get('k')).toBeNull();
      expect(await cache.get('k', 'fallback')).toBe('fallback');
      expect(await cache.set('k', 1)).toBe(false);
      // breaker open now (3 failures): the rest answer without touching the network
      expect(cache.breaker.state).toBe('open');
      expect(await cache.delete('k')).toBe(0);
      expect(await cache.exists('k')).toBe(false);
      expect(await cache.expire('k', 5)).toBe(false);
      expect(await cache.ttl('k')).toBeNull();
      expect(await cache.incr('k')).toBeNull();
      expect(await cache.getMany(['a', 'b'])).toEqual({});
      expect(await cache.setMany({ a: 1 })).toBe(false);
      expect(await cache.deletePattern('*')).toBe(0);
      expect(await cache.rateLimit('r', 1, 1)).toEqual({ allowed: true, remaining: 1, resetAfter: 0, count: 0 });
      expect(await cache.getOrSet('g', () => 'loaded')).toBe('loaded');
      expect(Date.now() - t0).toBeLessThan(2000);
      const open = performance.now();
      for (let i = 0; i < 1000; i++) await cache.get('k');
      expect((performance.now() - open) / 1000).toBeLessThan(1); // < 1 ms per call while open
      const s = cache.stats();
      expect(s.errors).toBeGreaterThanOrEqual(3);
      expect(s.fallbacks).toBeGreaterThan(1000);
      expect(cache.renderPrometheus()).toContain('rapidkit_redis_breaker_state 1');
      const h = await cache.healthCheck();
      expect(h.status).toBe('fail');
      expect(h.detail).toMatch(/ECONNREFUSED|not connected|Connection|Stream/);
      expect(['open', 'half_open']).toContain(h.breaker.state);
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(2); // rate-limited, not one line per call

      await redis.start();
      const restarted = Date.now();
      while (Date.now() - restarted < 5000 && !(await cache.set('back', 1))) await sleep(100);
      expect(Date.now() - restarted).toBeLessThan(5000);
      expect(await cache.get('back')).toBe(1);
      expect(cache.breaker.state).toBe('closed');
      expect((await cache.healthCheck()).status).toBe('ok');
    } finally {
      await cache.close();
      await redis.cleanup();
    }
  }, 60_000);

  test('a stalled Redis (SIGSTOP) costs at most the command timeout per call, then the breaker answers at once', async () => {
    const redis = await new RedisServer().start();
    const cache = new runtime.RedisCache(
      runtime.settingsFromEnv({
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: 'gentest:stall:',
        REDIS_SOCKET_TIMEOUT: '0.25',
        REDIS_BREAKER_THRESHOLD: '2',
        REDIS_BREAKER_RESET_TIMEOUT: '0.5',
      }),
      { logger: quiet },
    );
    try {
      expect(await cache.set('k', 1)).toBe(true);
      redis.pause();
      for (let i = 0; i < 2; i++) {
        const t = Date.now();
        expect(await cache.get('k')).toBeNull();
        expect(Date.now() - t).toBeLessThan(600);
      }
      const t = Date.now();
      expect(await cache.get('k', 'd')).toBe('d');
      expect(Date.now() - t).toBeLessThan(20);
      const h = Date.now();
      expect((await cache.healthCheck()).status).toBe('fail');
      expect(Date.now() - h).toBeLessThan(2500);
      redis.resume();
      await sleep(600); // reset timeout: the next call is the half-open probe
      expect(await cache.get('k')).toBe(1);
      expect(cache.breaker.state).toBe('closed');
    } finally {
      redis.resume();
      await cache.close();
      await redis.cleanup();
    }
  }, 30_000);

  test('a cache built while Redis is down answers at once, counts the outage, and connects when Redis appears', async () => {
    const port = await freePort();
    const cache = new runtime.RedisCache(
      runtime.settingsFromEnv({
        REDIS_URL: `redis://127.0.0.1:${port}/0`,
        REDIS_KEY_PREFIX: 'gentest:late:',
        REDIS_CONNECT_TIMEOUT: '0.2',
        REDIS_BREAKER_RESET_TIMEOUT: '0.3',
      }),
      { logger: quiet },
    );
    const redis = new RedisServer([], port);
    try {
      const t = Date.now();
      expect(await cache.connect()).toBe(false);
      expect(await cache.get('k')).toBeNull();
      expect(Date.now() - t).toBeLessThan(2500);
      await redis.start();
      const started = Date.now();
      while (Date.now() - started < 5000 && !(await cache.set('k', 1))) await sleep(100);
      expect(await cache.get('k')).toBe(1);
    } finally {
      await cache.close();
      await redis.cleanup();
    }
  }, 30_000);
});

test('breaker: a caller error during the half-open probe hands the probe on', () => {
  const b = new runtime.CircuitBreaker(1, 50);
  b.failure();
  expect(b.state).toBe('open');
  expect(b.allow()).toBe(false);
  const until = Date.now() + 60;
  while (Date.now() < until); // let the reset timeout pass
  expect(b.allow()).toBe(true);
  expect(b.state).toBe('half_open');
  expect(b.allow()).toBe(false); // one probe at a time
  b.release();
  expect(b.allow()).toBe(true); // the next caller probes at once
  b.success();
  expect(b.snapshot()).toEqual({ state: 'closed', failures: 0 });
});

test('metadata masks the password; configuration comes from the environment over the baked defaults; invalid values name the variable', () => {
  const meta = runtime.getRedisMetadata(runtime.settingsFromEnv({ REDIS_URL: 'redis://user:s3cr%40t@cache.internal:6380/2' }));
  expect(meta.url).toBe('redis://user:***@cache.internal:6380/2');
  expect(meta.connection).toEqual({ host: 'cache.internal', port: 6380, db: 2, use_tls: false });
  expect(JSON.stringify(meta)).not.toMatch(/s3cr/);
  expect(runtime.settingsFromEnv({ REDIS_URL: 'redis://user:s3cr%40t@cache.internal:6380/2' }).password).toBe('s3cr@t');
  const pwOnly = runtime.settingsFromEnv({ REDIS_PASSWORD: 'hunter2' });
  expect(runtime.maskedUrl(pwOnly)).toBe('redis://:***@localhost:6379/0');
  expect(Object.keys(meta)).toEqual([
    'module',
    'version',
    'mode',
    'url',
    'connection',
    'retry',
    'cache_ttl',
    'key_prefix',
    'pool',
    'breaker',
    'features',
  ]);

  // baked defaults (module.yaml defaults, project slug prefix), then the environment
  const d = runtime.settingsFromEnv({});
  expect(d).toMatchObject({
    host: 'localhost',
    port: 6379,
    db: 0,
    useTls: false,
    cacheTtl: 3600,
    retries: 2,
    backoff: 0.05,
    socketTimeout: 1,
    connectTimeout: 1,
    maxConnections: 50,
    breakerThreshold: 5,
    breakerResetTimeout: 1,
    preconnect: false,
  });
  expect(d.keyPrefix).toMatch(/^node-core-.+:$/);
  expect(runtime.settingsFromEnv({ REDIS_HOST: 'h', REDIS_PORT: '7000', REDIS_DB: '3', REDIS_USERNAME: 'u' })).toMatchObject({
    host: 'h',
    port: 7000,
    db: 3,
    username: 'u',
  });
  expect(runtime.settingsFromEnv({ REDIS_URL: 'rediss://h:1/0' }).useTls).toBe(true);
  expect(runtime.settingsFromEnv({ REDIS_TLS: 'yes' }).useTls).toBe(true);
  expect(runtime.settingsFromEnv({ REDIS_CACHE_TTL: '12' }).cacheTtl).toBe(12);
  expect(runtime.settingsFromEnv({ REDIS_CACHE_TTL: '12', CACHE_TTL: '7' }).cacheTtl).toBe(7);
  expect(runtime.settingsFromEnv({ REDIS_SOCKET_TIMEOUT: '250ms', REDIS_BACKOFF: '0.1s' })).toMatchObject({
    socketTimeout: 0.25,
    backoff: 0.1,
  });
  expect(runtime.settingsFromEnv({ REDIS_KEY_PREFIX: '' }).keyPrefix).toBe('');
  expect(runtime.settingsFromEnv({ REDIS_PORT: ' ' }).port).toBe(6379); // empty counts as unset
  const opts = runtime.ioredisOptions(runtime.settingsFromEnv({ REDIS_SOCKET_TIMEOUT: '0.5', REDIS_RETRIES: '3' }));
  expect(opts).toMatchObject({
    lazyConnect: true,
    commandTimeout: 500,
    connectTimeout: 1000,
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
  });
  // a failover: reconnect, and this call falls back (resending it to a replica would only be refused again)
  expect(opts.reconnectOnError(new Error('READONLY You cannot write against a read only replica.'))).toBe(1);
  expect(opts.reconnectOnError(new Error('WRONGTYPE'))).toBe(false);
  const delays = Array.from({ length: 12 }, (_, i) => opts.retryStrategy(i + 1));
  expect(delays[0]).toBeGreaterThanOrEqual(100);
  expect(delays[3]).toBeGreaterThan(delays[0]); // exponential
  expect(Math.max(...delays)).toBeLessThan(1100); // capped: a restarted Redis is found again within ~1 s
  expect(new Set(Array.from({ length: 20 }, () => opts.retryStrategy(1))).size).toBeGreaterThan(1); // jittered

  for (const [env, name] of [
    [{ REDIS_PORT: 'http' }, 'REDIS_PORT'],
    [{ REDIS_PORT: '70000' }, 'REDIS_PORT'],
    [{ REDIS_DB: '-1' }, 'REDIS_DB'],
    [{ REDIS_TLS: 'maybe' }, 'REDIS_TLS'],
    [{ REDIS_PRECONNECT: '2' }, 'REDIS_PRECONNECT'],
    [{ CACHE_TTL: '-1' }, 'CACHE_TTL'],
    [{ CACHE_TTL: '1.5' }, 'CACHE_TTL'],
    [{ REDIS_SOCKET_TIMEOUT: 'fast' }, 'REDIS_SOCKET_TIMEOUT'],
    [{ REDIS_CONNECT_TIMEOUT: '0' }, 'REDIS_CONNECT_TIMEOUT'],
    [{ REDIS_RETRIES: '11' }, 'REDIS_RETRIES'],
    [{ REDIS_BACKOFF: '-1' }, 'REDIS_BACKOFF'],
    [{ REDIS_MAX_CONNECTIONS: '0' }, 'REDIS_MAX_CONNECTIONS'],
    [{ REDIS_BREAKER_THRESHOLD: '0' }, 'REDIS_BREAKER_THRESHOLD'],
    [{ REDIS_BREAKER_RESET_TIMEOUT: 'soon' }, 'REDIS_BREAKER_RESET_TIMEOUT'],
    [{ REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'REDIS_TLS_CA_FILE'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://h:6379/zero' }, 'REDIS_URL'],
  ] as const) {
    expect(() => runtime.settingsFromEnv(env), name).toThrow(new RegExp(`^${name}:`));
    expect(() => runtime.settingsFromEnv(env)).toThrow(runtime.ConfigError);
  }
});

describe('TLS with an openssl-made CA', () => {
  let tls: RedisServer;
  let mtls: RedisServer;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('tls');
    made.push(dir);
    // the server certificate names only "localhost": connecting to 127.0.0.1 is a hostname mismatch
    makeCerts(
      dir,
      ['ca', 'otherca'],
      [
        { name: 'server', ca: 'ca', san: 'DNS:localhost', cn: 'localhost' },
        { name: 'client', ca: 'ca', cn: 'cache-client' },
      ],
    );
    const serverArgs = (port: number, auth: string) => [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      `${dir}/server.crt`,
      '--tls-key-file',
      `${dir}/server.key`,
      '--tls-ca-cert-file',
      `${dir}/ca.crt`,
      '--tls-auth-clients',
      auth,
    ];
    const p1 = await freePort();
    tls = await new RedisServer(serverArgs(p1, 'no'), p1).start();
    const p2 = await freePort();
    mtls = await new RedisServer(serverArgs(p2, 'yes'), p2).start();
  }, 60_000);
  afterAll(async () => {
    await tls?.cleanup();
    await mtls?.cleanup();
  });

  const open = (env: Record<string, string>) =>
    new runtime.RedisCache(
      runtime.settingsFromEnv({ REDIS_KEY_PREFIX: 'gentest:tls:', REDIS_CONNECT_TIMEOUT: '0.5', REDIS_RETRIES: '0', ...env }),
      { logger: quiet },
    );

  test('the right CA connects; a wrong CA and a hostname mismatch are refused (fail-open, health fail)', async () => {
    const ok = open({ REDIS_URL: `rediss://localhost:${tls.port}/0`, REDIS_TLS_CA_FILE: `${dir}/ca.crt` });
    expect(await ok.set('secure', { ok: true })).toBe(true);
    expect(await ok.get('secure')).toEqual({ ok: true });
    expect((await ok.healthCheck()).connection.use_tls).toBe(true);
    await ok.close();

    const wrongCa = open({ REDIS_URL: `rediss://localhost:${tls.port}/0`, REDIS_TLS_CA_FILE: `${dir}/otherca.crt` });
    expect(await wrongCa.set('secure', 1)).toBe(false);
    const h = await wrongCa.healthCheck();
    expect(h.status).toBe('fail');
    expect(h.detail).toMatch(/certificate/i);
    expect(wrongCa.stats().errors).toBeGreaterThan(0);
    await wrongCa.close();

    const noCa = open({ REDIS_URL: `rediss://localhost:${tls.port}/0` }); // system CAs do not know ours
    expect(await noCa.get('secure')).toBeNull();
    await noCa.close();

    const mismatch = open({ REDIS_URL: `rediss://127.0.0.1:${tls.port}/0`, REDIS_TLS_CA_FILE: `${dir}/ca.crt` });
    expect(await mismatch.get('secure')).toBeNull();
    expect((await mismatch.healthCheck()).detail).toMatch(/altnames|hostname|IP/i);
    await mismatch.close();

    const unchecked = open({
      REDIS_URL: `redis://127.0.0.1:${tls.port}/0`,
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: `${dir}/ca.crt`,
      REDIS_TLS_CHECK_HOSTNAME: 'false',
    });
    expect(await unchecked.get('secure')).toEqual({ ok: true }); // the CA is still verified, only the name is not
    await unchecked.close();
  }, 30_000);

  test('mutual TLS: a client certificate is required and accepted', async () => {
    const withCert = open({
      REDIS_URL: `rediss://localhost:${mtls.port}/0`,
      REDIS_TLS_CA_FILE: `${dir}/ca.crt`,
      REDIS_TLS_CERT_FILE: `${dir}/client.crt`,
      REDIS_TLS_KEY_FILE: `${dir}/client.key`,
    });
    expect(await withCert.set('m', 1)).toBe(true);
    expect(await withCert.get('m')).toBe(1);
    await withCert.close();
    const without = open({ REDIS_URL: `rediss://localhost:${mtls.port}/0`, REDIS_TLS_CA_FILE: `${dir}/ca.crt` });
    expect(await without.get('m')).toBeNull();
    expect((await without.healthCheck()).status).toBe('fail');
    await without.close();
  }, 30_000);
});

test('cross-language: the Python runtime and the Node runtime share keys, values, TTLs and rate-limit counters', async () => {
  const py = await generate('fastapi', 'xlang');
  made.push(py);
  await crossLanguage(runtime, py, { REDIS_URL: server.url }, `gentest:xlang${process.pid}:`);
}, 60_000);
