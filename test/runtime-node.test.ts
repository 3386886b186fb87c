import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO, copyExample, runGen, tempDir } from './helpers/cli.js';
import { RedisServer, freePort } from './helpers/redis-server.js';

// The Node runtime as gen vendors it into a NestJS and a Fastify project: compiled with the real TypeScript
// compiler (strict), started as real processes, against real redis-server processes on loopback.
const requireCjs = createRequire(import.meta.url);
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const SNAP = '.rapidkit/vendor/redis/1.0.0/node';
const VECTORS = JSON.parse(fs.readFileSync(path.join(REPO, 'test/vectors/cache-contract.json'), 'utf8'));
const Redis = requireCjs('ioredis');

let nest: string;
let fastify: string;
let runtime: any;
let server: RedisServer;

beforeAll(async () => {
  nest = copyExample('nestjs', 'node-nest');
  fastify = copyExample('fastify', 'node-fastify');
  for (const p of [nest, fastify]) {
    const r = await runGen(['add', 'module', 'redis', '--project', p, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    execFileSync(process.execPath, [TSC, '-p', path.join(p, 'tsconfig.json')], { stdio: 'pipe' }); // throws on a type error
  }
  runtime = requireCjs(path.join(nest, SNAP, 'index.js'));
  server = await new RedisServer().start();
}, 300_000);

afterAll(async () => {
  await server?.cleanup();
});

let seq = 0;
const ACL_PASSWORD = `acl-${process.pid}-${Date.now()}`;

async function makeCache(mode: 'default' | 'acl', env: Record<string, string> = {}) {
  const prefix = `gentest:node${++seq}:`;
  const url = mode === 'acl' ? `redis://cacheuser:${ACL_PASSWORD}@127.0.0.1:${server.port}/0` : server.url;
  const settings = runtime.settingsFromEnv({ REDIS_URL: url, REDIS_KEY_PREFIX: prefix, CACHE_TTL: '300', REDIS_SOCKET_TIMEOUT: '0.5', REDIS_CONNECT_TIMEOUT: '0.5', ...env });
  return { cache: new runtime.RedisCache(settings), prefix };
}

function admin() {
  return new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: false });
}

describe.each(['default', 'acl'] as const)('core cache API (%s user)', (mode) => {
  beforeAll(async () => {
    if (mode === 'acl') {
      const a = admin();
      await a.call('ACL', 'SETUSER', 'cacheuser', 'on', `>${ACL_PASSWORD}`, '~gentest:*', '+@all', '-keys', '-flushall', '-flushdb');
      await a.call('CONFIG', 'RESETSTAT');
      a.disconnect();
    }
  });
  afterAll(async () => {
    if (mode === 'acl') {
      const a = admin();
      const stats = String(await a.info('commandstats'));
      a.disconnect();
      expect(stats).not.toContain('cmdstat_keys'); // least privilege: the runtime never used KEYS
      expect(stats).toContain('cmdstat_scan');
    }
  });

  test('get/set/delete/exists/incr/getMany/setMany and caller errors', async () => {
    const { cache } = await makeCache(mode);
    expect(await cache.get('missing')).toBeNull();
    expect(await cache.get('missing', 'd')).toBe('d');
    expect(await cache.set('user:1', { name: 'Ada', tags: ['a'] })).toBe(true);
    expect(await cache.get('user:1')).toEqual({ name: 'Ada', tags: ['a'] });
    expect(await cache.exists('user:1')).toBe(true);
    expect(await cache.incr('n')).toBe(1);
    expect(await cache.incr('n', 41)).toBe(42);
    expect(await cache.get('n')).toBe(42);
    expect(await cache.delete('user:1', 'n', 'nope')).toBe(2);
    expect(await cache.delete()).toBe(0);
    expect(await cache.setMany(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, { i }])), 60)).toBe(true);
    const got = await cache.getMany([...Array.from({ length: 100 }, (_, i) => `k${i}`), 'absent']);
    expect(Object.keys(got)).toHaveLength(100);
    expect(got.k7).toEqual({ i: 7 });
    await expect(cache.set('u', undefined)).rejects.toThrow(TypeError);
    await cache.client.lpush(`${cache.prefix}list`, 'x');
    await expect(cache.incr('list')).rejects.toThrow(/WRONGTYPE/);
    expect(cache.breaker.state).toBe('closed');
    expect(cache.stats().errors).toBe(0);
    await cache.close();
  });

  test('TTL semantics: default, 0 = no expiry, fractions in ms, negative is an error', async () => {
    const { cache, prefix } = await makeCache(mode);
    await cache.set('default', 1);
    expect(await cache.ttl('default')).toBeGreaterThan(295);
    await cache.set('forever', 1, 0);
    expect(await cache.ttl('forever')).toBe(-1);
    await cache.set('frac', 1, 1.5);
    const pttl = await cache.client.pttl(`${prefix}frac`);
    expect(pttl).toBeGreaterThan(1000);
    expect(pttl).toBeLessThanOrEqual(1500);
    await cache.set('short', 1, 0.15);
    await new Promise((r) => setTimeout(r, 300));
    expect(await cache.get('short')).toBeNull();
    expect(await cache.ttl('never')).toBe(-2);
    await expect(cache.set('neg', 1, -1)).rejects.toThrow(RangeError);
    expect(await cache.expire('forever', 30)).toBe(true);
    expect(await cache.ttl('forever')).toBeGreaterThan(25);
    expect(await cache.expire('forever', 0)).toBe(true);
    expect(await cache.ttl('forever')).toBe(-1);
    await cache.close();
  });

  test('shared vectors: exact stored bytes and round trip; raw values pass through', async () => {
    const { cache, prefix } = await makeCache(mode);
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
    const { cache, prefix } = await makeCache(mode);
    const a = admin();
    const foreign = `gentest:foreign${seq}:`;
    await a.mset(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`${foreign}session:${i}`, 'x'])));
    for (let i = 0; i < 10_000; i += 1000) {
      expect(await cache.setMany(Object.fromEntries(Array.from({ length: 1000 }, (_, j) => [`session:${i + j}`, i + j])))).toBe(true);
    }
    await cache.set('user:1', 'keep');
    expect(await cache.deletePattern('session:*')).toBe(10_000);
    expect(await cache.get('user:1')).toBe('keep');
    let left = 0;
    let cursor = '0';
    do {
      const [next, keys] = await a.scan(cursor, 'MATCH', `${foreign}*`, 'COUNT', 1000);
      cursor = next;
      left += keys.length;
    } while (cursor !== '0');
    expect(left).toBe(500);
    const [, mine] = await a.scan('0', 'MATCH', `${prefix}session:*`, 'COUNT', 100000);
    expect(mine).toEqual([]);
    a.disconnect();
    await cache.close();
  }, 60_000);

  test('single-flight: 200 concurrent callers on a cold key run the loader once', async () => {
    const { cache } = await makeCache(mode);
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 100));
      return { report: 1 };
    };
    const results = await Promise.all(Array.from({ length: 200 }, () => cache.getOrSet('cold', loader, 60)));
    expect(calls).toBe(1);
    expect(results.every((r: any) => r.report === 1)).toBe(true);
    expect(await cache.getOrSet('cold', loader)).toEqual({ report: 1 });
    expect(calls).toBe(1);
    await cache.close();
  });

  test('rateLimit is atomic under concurrency', async () => {
    const { cache } = await makeCache(mode);
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.rateLimit('login:ada', 10, 30)));
    expect(results.filter((r: any) => r.allowed)).toHaveLength(10);
    expect(results.map((r: any) => r.count).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(results.every((r: any) => r.resetAfter > 0 && r.resetAfter <= 30)).toBe(true);
    await expect(cache.rateLimit('x', 0, 1)).rejects.toThrow(RangeError);
    await cache.close();
  });

  test('health payload and Prometheus text', async () => {
    const { cache } = await makeCache(mode);
    const h = await cache.healthCheck();
    expect(h).toMatchObject({ status: 'ok', module: 'redis', version: '1.0.0', connection: { host: '127.0.0.1', port: server.port, db: 0, use_tls: false }, breaker: { state: 'closed' } });
    expect(h.latency.ping_ms).toBeGreaterThanOrEqual(0);
    expect(h.checked_at).toMatch(/Z$/);
    if (mode === 'acl') expect(JSON.stringify(h)).not.toContain(ACL_PASSWORD);
    expect(cache.renderPrometheus()).toContain('rapidkit_redis_hits_total');
    await cache.close();
  });
});

test('metadata masks the password; invalid configuration names the variable', () => {
  const meta = runtime.getRedisMetadata(runtime.settingsFromEnv({ REDIS_URL: 'redis://user:secret@cache.internal:6380/2' }));
  expect(meta.url).toBe('redis://user:***@cache.internal:6380/2');
  expect(meta.connection).toEqual({ host: 'cache.internal', port: 6380, db: 2, use_tls: false });
  expect(JSON.stringify(meta)).not.toContain('secret');
  expect(runtime.settingsFromEnv({ REDIS_CACHE_TTL: '12' }).cacheTtl).toBe(12);
  for (const [env, name] of [
    [{ REDIS_PORT: 'http' }, 'REDIS_PORT'],
    [{ REDIS_TLS: 'maybe' }, 'REDIS_TLS'],
    [{ CACHE_TTL: '-1' }, 'CACHE_TTL'],
    [{ REDIS_SOCKET_TIMEOUT: 'fast' }, 'REDIS_SOCKET_TIMEOUT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
  ] as const) {
    expect(() => runtime.settingsFromEnv(env)).toThrow(new RegExp(`^${name}:`));
  }
});

describe('TLS with an openssl-made CA', () => {
  let tls: RedisServer;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('tls');
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    for (const ca of ['ca', 'otherca']) ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.crt`);
    fs.writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.cnf', '-out', 'server.crt');
    const port = await freePort();
    tls = await new RedisServer(['--port', '0', '--tls-port', String(port), '--tls-cert-file', `${dir}/server.crt`, '--tls-key-file', `${dir}/server.key`, '--tls-ca-cert-file', `${dir}/ca.crt`, '--tls-auth-clients', 'no'], port).start();
  }, 60_000);
  afterAll(async () => tls?.cleanup());

  test('the right CA connects; a wrong CA is refused (fail-open, health fail)', async () => {
    const ok = new runtime.RedisCache(runtime.settingsFromEnv({ REDIS_URL: `rediss://localhost:${tls.port}/0`, REDIS_TLS_CA_FILE: `${dir}/ca.crt`, REDIS_KEY_PREFIX: 'gentest:tls:' }));
    expect(await ok.set('secure', { ok: true })).toBe(true);
    expect(await ok.get('secure')).toEqual({ ok: true });
    expect((await ok.healthCheck()).connection.use_tls).toBe(true);
    await ok.close();
    const bad = new runtime.RedisCache(runtime.settingsFromEnv({ REDIS_URL: `rediss://localhost:${tls.port}/0`, REDIS_TLS_CA_FILE: `${dir}/otherca.crt`, REDIS_KEY_PREFIX: 'gentest:tls:', REDIS_CONNECT_TIMEOUT: '0.5' }));
    expect(await bad.set('secure', 1)).toBe(false);
    const h = await bad.healthCheck();
    expect(h.status).toBe('fail');
    expect(bad.stats().errors).toBeGreaterThan(0);
    await bad.close();
  }, 30_000);
});

async function http(port: number, p: string) {
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(8000) });
  return { status: res.status, body: (await res.json()) as any, ms: Date.now() - started };
}

async function startApp(project: string, entry: string, env: Record<string, string>): Promise<{ port: number; proc: ChildProcess; log: () => string }> {
  const port = await freePort();
  let out = '';
  const proc = spawn(process.execPath, [path.join(project, 'dist', entry)], { cwd: project, env: { ...process.env, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/stats`);
      return { port, proc, log: () => out };
    } catch {
      if (proc.exitCode !== null) throw new Error(`app exited: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`app did not start: ${out}`);
}

describe.each([
  ['nestjs', 'main.js'],
  ['fastify', 'server.js'],
] as const)('%s app: fail-open, breaker, recovery', (fw, entry) => {
  test('requests succeed with Redis stopped, health 503 within the deadline, breaker open, hits again within 5 s of a restart', async () => {
    const project = fw === 'nestjs' ? nest : fastify;
    const redis = await new RedisServer(['--requirepass', 'app-secret-pw']).start();
    const app = await startApp(project, entry, {
      REDIS_URL: `redis://:app-secret-pw@127.0.0.1:${redis.port}/0`,
      REDIS_KEY_PREFIX: `gentest:${fw}:`,
      REDIS_SOCKET_TIMEOUT: '0.3',
      REDIS_CONNECT_TIMEOUT: '0.3',
      REDIS_RETRIES: '1',
      REDIS_BREAKER_THRESHOLD: '3',
      REDIS_BREAKER_RESET_TIMEOUT: '0.5',
    }).catch(async (e) => {
      await redis.cleanup();
      throw e;
    });
    try {
      let h = await http(app.port, '/api/health/module/redis');
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({ status: 'ok', module: 'redis', version: '1.0.0', breaker: { state: 'closed' } });
      expect(JSON.stringify(h.body)).not.toContain('app-secret-pw');
      expect((await http(app.port, '/products/1')).body).toEqual({ id: 1, name: 'Product 1', price_cents: 1001 });
      await http(app.port, '/products/1');
      expect((await http(app.port, '/stats')).body.loader_calls).toBe(1);

      await redis.stop();
      for (let i = 2; i < 8; i++) {
        const r = await http(app.port, `/products/${i}`);
        expect(r.status).toBe(200);
        expect(r.body.id).toBe(i);
        expect(r.ms).toBeLessThan(2500);
      }
      h = await http(app.port, '/api/health/module/redis');
      expect(h.status).toBe(503);
      expect(h.body.status).toBe('fail');
      expect(h.ms).toBeLessThan(3000);
      expect(['open', 'half_open']).toContain(h.body.breaker.state);
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) expect((await http(app.port, '/products/1')).status).toBe(200);
      expect((Date.now() - t0) / 20).toBeLessThan(250);

      await redis.start();
      const until = Date.now() + 5000;
      let recovered = false;
      while (Date.now() < until) {
        await http(app.port, '/products/50');
        const before = (await http(app.port, '/stats')).body.loader_calls;
        await http(app.port, '/products/50');
        if ((await http(app.port, '/stats')).body.loader_calls === before && (await http(app.port, '/api/health/module/redis')).status === 200) {
          recovered = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(recovered, app.log()).toBe(true);
      expect(app.log()).not.toContain('app-secret-pw');
    } finally {
      app.proc.kill('SIGTERM');
      await redis.cleanup();
    }
  }, 90_000);

  test('starts while Redis is down and serves from the loader', async () => {
    const project = fw === 'nestjs' ? nest : fastify;
    const dead = await freePort();
    const app = await startApp(project, entry, { REDIS_URL: `redis://127.0.0.1:${dead}/0`, REDIS_PRECONNECT: 'true', REDIS_CONNECT_TIMEOUT: '0.2' });
    try {
      const r = await http(app.port, '/products/3');
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(3);
      const h = await http(app.port, '/api/health/module/redis');
      expect(h.status).toBe(503);
      expect(h.ms).toBeLessThan(3000);
    } finally {
      app.proc.kill('SIGTERM');
    }
  }, 60_000);
});

test('a missing vendored version is a clear error naming the restore command', async () => {
  const copy = tempDir('node-missing');
  fs.cpSync(path.join(nest, 'dist'), path.join(copy, 'dist'), { recursive: true });
  const r = spawn(process.execPath, ['-e', `require(${JSON.stringify(path.join(copy, 'dist', 'redis', 'index.js'))})`], { cwd: copy });
  let err = '';
  r.stderr.on('data', (d) => (err += d));
  const code = await new Promise((res) => r.on('exit', res));
  expect(code).not.toBe(0);
  expect(err).toContain('runtime 1.0.0 is not vendored');
  expect(err).toContain('npx gen add module redis --framework nestjs');
});

test('cross-language: values written by the Python runtime are read by Node and the other way round', async () => {
  const py = copyExample('fastapi', 'xlang');
  expect((await runGen(['add', 'module', 'redis', '--project', py, '--yes'])).code).toBe(0);
  const prefix = 'gentest:xlang:';
  const env = { REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix };
  const script = `
import json, sys
from app.redis_cache import SyncRedisClient, RedisSettings
v = json.load(open(${JSON.stringify(path.join(REPO, 'test/vectors/cache-contract.json'))}))
c = SyncRedisClient(RedisSettings.from_env())
if sys.argv[1] == "write":
    for x in v["vectors"]:
        assert c.set("py:" + x["key"], x["value"]) is True
else:
    out = {x["name"]: c.get("node:" + x["key"]) for x in v["vectors"]}
    print(json.dumps(out, ensure_ascii=False))
`;
  execFileSync('/usr/bin/python3', ['-c', script, 'write'], { cwd: py, env: { ...process.env, ...env } });
  const cache = new runtime.RedisCache(runtime.settingsFromEnv(env));
  for (const x of VECTORS.vectors) {
    expect(await cache.get(`py:${x.key}`), x.name).toEqual(x.value);
    expect(await cache.client.get(`${prefix}py:${x.key}`)).toBe(x.stored);
    expect(await cache.set(`node:${x.key}`, x.value)).toBe(true);
  }
  await cache.close();
  const readBack = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, 'read'], { cwd: py, env: { ...process.env, ...env } }).toString());
  for (const x of VECTORS.vectors) expect(readBack[x.name], x.name).toEqual(x.value);
});

test('Fastify helpers (getFromCache, setToCache, deleteFromCache, deleteCachePattern, getCacheStats, isCacheHealthy)', async () => {
  process.env.REDIS_URL = server.url;
  process.env.REDIS_KEY_PREFIX = 'gentest:fastify-helpers:';
  try {
    const { buildApp } = requireCjs(path.join(fastify, 'dist', 'app.js'));
    const app = await buildApp();
    await app.ready();
    expect(await app.setToCache('user:1', { name: 'Ada' }, 60)).toBe(true);
    expect(await app.getFromCache('user:1')).toEqual({ name: 'Ada' });
    expect(await app.setToCache('user:1:posts', [1, 2])).toBe(true);
    expect(await app.setToCache('user:2', 'x', 0)).toBe(true);
    expect(await app.cache.ttl('user:2')).toBe(-1); // 0 = no expiry, unlike the system we replace
    expect(await app.deleteCachePattern('user:1*')).toBe(2);
    expect(await app.deleteFromCache('user:2')).toBe(true);
    expect(await app.deleteFromCache('user:2')).toBe(false);
    expect(await app.getFromCache('user:1')).toBeNull();
    expect(await app.isCacheHealthy()).toBe(true);
    const stats = await app.getCacheStats();
    expect(stats).toMatchObject({ connected: true, status: 'ready', config: { host: '127.0.0.1', port: server.port, key_prefix: 'gentest:fastify-helpers:' } });
    expect(stats.hits).toBeGreaterThan(0);
    await app.close();
    for (let i = 0; i < 50 && app.cache.client.status !== 'end'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(app.cache.client.status).toBe('end'); // onClose quit the connection
  } finally {
    delete process.env.REDIS_URL;
    delete process.env.REDIS_KEY_PREFIX;
  }
});

test('NestJS terminus health indicator: up with Redis, HealthCheckError without', async () => {
  const nestRuntime = requireCjs(path.join(nest, SNAP, 'nestjs.js'));
  const { RedisHealthIndicator } = requireCjs(path.join(nest, SNAP, 'nestjs-terminus.js'));
  const { HealthCheckError } = requireCjs('@nestjs/terminus');
  const up = new nestRuntime.RedisService(runtime.settingsFromEnv({ REDIS_URL: server.url, REDIS_KEY_PREFIX: 'gentest:terminus:' }));
  expect(await new RedisHealthIndicator(up).isHealthy()).toMatchObject({ redis: { status: 'up' } });
  await up.close();
  const dead = await freePort();
  const down = new nestRuntime.RedisService(runtime.settingsFromEnv({ REDIS_URL: `redis://127.0.0.1:${dead}/0`, REDIS_CONNECT_TIMEOUT: '0.2' }));
  await expect(new RedisHealthIndicator(down).isHealthy()).rejects.toBeInstanceOf(HealthCheckError);
  await down.close();
});
