import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import {
  REDIS_VERSION,
  RedisServer,
  generate,
  http,
  removeAfterSuccess,
  requireCjs,
  sleep,
  startApp,
  tempDir,
  tsc,
  type App,
  tscStrictest,
} from '../helpers.js';

// examples/express after the real `gen add module redis` (detected, not passed), compiled with the real tsc
// (strict) and started as a real process (Express 5, the repo's devDependency) against real redis-server
// processes; then the same generated project on Express 4 (express@4 + @types/express@4 installed into a copy).
const Redis = requireCjs('ioredis');
let project = '';
const made: string[] = [];
removeAfterSuccess(() => [project, ...made]);

beforeAll(async () => {
  project = await generate('express', 'node-express');
  tsc(project); // throws on any type error
}, 120_000);

/** Products, the health route (200 → 503 → 200), the metrics route and the key in Redis, on one started app. */
async function exercise(app: App, redis: RedisServer, prefix: string, admin: any) {
  let h = await http(app.port, '/api/health/module/redis');
  expect(h.status).toBe(200);
  expect(h.body).toMatchObject({
    status: 'ok',
    module: 'redis',
    version: REDIS_VERSION,
    connection: { host: '127.0.0.1', port: redis.port, db: 0, use_tls: false },
    breaker: { state: 'closed' },
  });
  expect((await http(app.port, '/products/1')).body).toEqual({ id: 1, name: 'Product 1', price_cents: 1001 });
  const concurrent = await Promise.all(Array.from({ length: 10 }, () => http(app.port, '/products/9')));
  expect(concurrent.every((r) => r.body.id === 9)).toBe(true);
  await http(app.port, '/products/1');
  expect((await http(app.port, '/stats')).body.loader_calls).toBe(2); // product 1 once, product 9 once (single-flight)
  expect(await admin.get(`${prefix}product:1`)).toBe('{"id":1,"name":"Product 1","price_cents":1001}');
  expect(await admin.ttl(`${prefix}product:1`)).toBeGreaterThan(55);
  const metrics = await fetch(`http://127.0.0.1:${app.port}/api/health/module/redis/metrics`);
  expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(await metrics.text()).toContain('rapidkit_redis_hits_total');

  await redis.stop();
  for (let i = 2; i < 5; i++) {
    const r = await http(app.port, `/products/${i}`);
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(i);
    expect(r.ms).toBeLessThan(1500);
  }
  h = await http(app.port, '/api/health/module/redis');
  expect(h.status).toBe(503);
  expect(h.body).toMatchObject({ status: 'fail', module: 'redis', version: REDIS_VERSION, connection: { port: redis.port } });
  expect(h.body.detail).toEqual(expect.any(String));
  expect(h.ms).toBeLessThan(3000);

  await redis.start();
  const restarted = Date.now();
  while ((await http(app.port, '/api/health/module/redis')).status !== 200 && Date.now() - restarted < 5000) await sleep(100);
  expect((await http(app.port, '/api/health/module/redis')).status, app.log()).toBe(200);
}

/**
 * SIGTERM: the example only closes the server (no process.exit), the snippet closes the cache with it, so the
 * process ends by itself only when the Redis connection is closed too.
 */
async function stopCleanly(app: App) {
  const exited = new Promise<number | null>((r) => app.proc.once('exit', (code) => r(code)));
  app.proc.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(5000).then(() => 'still running')]);
  expect(code, app.log()).toBe(0);
}

async function run(dir: string, label: string) {
  const redis = await new RedisServer(['--requirepass', 'express-secret-pw']).start();
  const prefix = `gentest:${label}:`;
  const admin = new Redis({
    port: redis.port,
    host: '127.0.0.1',
    password: 'express-secret-pw',
    lazyConnect: true,
    retryStrategy: () => null,
  });
  admin.on('error', () => undefined);
  try {
    const app = await startApp(dir, path.join('dist', 'server.js'), {
      REDIS_URL: `redis://:express-secret-pw@127.0.0.1:${redis.port}/0`,
      REDIS_KEY_PREFIX: prefix,
      REDIS_SOCKET_TIMEOUT: '0.3',
      REDIS_CONNECT_TIMEOUT: '0.3',
      REDIS_RETRIES: '1',
      REDIS_BREAKER_RESET_TIMEOUT: '0.5',
    });
    try {
      await exercise(app, redis, prefix, admin);
      expect(app.log()).not.toContain('express-secret-pw');
      await stopCleanly(app);
    } finally {
      await app.stop();
    }
  } finally {
    admin.disconnect();
    await redis.cleanup();
  }
}

test('gen add wires examples/express: the wrapper, the marked lines, ioredis, the core + express layer only', () => {
  const snap = path.join(project, `.rapidkit/vendor/redis/${REDIS_VERSION}/node`);
  expect(fs.readdirSync(snap).sort()).toEqual(['core', 'express', 'package.json']);
  const pkg = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8'));
  expect(pkg.dependencies.ioredis).toBeDefined();
  expect(pkg.dependencies.express).toBe('^5.1.0'); // the app's own, untouched
  expect(fs.readFileSync(path.join(project, 'src/app.ts'), 'utf8')).toMatch(
    /import \{ useRedis \} from '\.\/redis';[\s\S]*useRedis\(app\);/,
  );
  expect(fs.readFileSync(path.join(project, 'src/server.ts'), 'utf8')).toContain(
    "server.on('close', () => void app.locals.cache.close());",
  );
});

test('Express 5: health 200 → 503 with Redis stopped → 200 after a restart, cached route, metrics, clean SIGTERM', async () => {
  await run(project, 'express5');
}, 90_000);

test('the wrapper and the vendored declarations type-check under the strictest settings (skipLibCheck off)', () => {
  tscStrictest(project);
}, 60_000);

test('Express 4: the same generated project builds (express@4, @types/express@4) and runs', async () => {
  const dir = tempDir('node-express4');
  made.push(dir);
  fs.cpSync(project, dir, { recursive: true, filter: (src) => !['dist', 'node_modules'].includes(path.basename(src)) });
  // only Express 4 and its types go into the copy's node_modules (ioredis and typescript resolve from the repo's)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'express4-copy', private: true }));
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', 'express@4', '@types/express@4'],
    {
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env, npm_config_loglevel: 'error' },
    },
  );
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'node_modules/express/package.json'), 'utf8')).version).toMatch(/^4\./);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'node_modules/@types/express/package.json'), 'utf8')).version).toMatch(/^4\./);
  tsc(dir);
  await run(dir, 'express4');
  // the app and the vendored layer's router both loaded the project's Express 4, never the repo's Express 5
  const script = `require(${JSON.stringify(path.join(dir, 'dist', 'app.js'))}).buildApp();
    console.log(JSON.stringify(Object.keys(require.cache).filter((p) => /node_modules[\\/]express[\\/]index\\.js$/.test(p))));`;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' }));
  expect(loaded).toEqual([path.join(dir, 'node_modules', 'express', 'index.js')]);
}, 180_000);

test('in-process: useRedis options override the environment, a second call returns the same cache, healthRoute: false, redisRouter under a prefix', async () => {
  const layer = requireCjs(path.join(project, `.rapidkit/vendor/redis/${REDIS_VERSION}/node/express/index.js`));
  const express = requireCjs('express');
  const redis = await new RedisServer().start();
  const app = express();
  const cache = layer.useRedis(app, { url: redis.url, keyPrefix: 'gentest:express-opts:', cacheTtl: 42, healthRoute: false });
  expect(layer.useRedis(app)).toBe(cache);
  expect(app.locals.cache).toBe(cache);
  app.get('/k', (req: any, res: any, next: any) => {
    req.cache
      .set('k', { v: 1 })
      .then(() => req.cache.get('k'))
      .then((v: unknown) => res.json(v))
      .catch(next);
  });
  const admin = express();
  admin.use('/ops', layer.redisRouter(cache));
  const servers = [app.listen(0, '127.0.0.1'), admin.listen(0, '127.0.0.1')];
  await Promise.all(servers.map((s) => new Promise((r) => s.once('listening', r))));
  const [appPort, adminPort] = servers.map((s) => s.address().port);
  try {
    expect((await http(appPort, '/k')).body).toEqual({ v: 1 });
    expect(await cache.ttl('k')).toBeGreaterThan(40);
    expect(await cache.ttl('k')).toBeLessThanOrEqual(42);
    expect((await http(appPort, '/api/health/module/redis')).status).toBe(404);
    const h = await http(adminPort, '/ops/api/health/module/redis');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', connection: { port: redis.port } });
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await cache.close();
    await redis.cleanup();
  }
});
