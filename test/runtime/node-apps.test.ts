import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  tempDir,
  RedisServer,
  freePort,
  ENTRY,
  SNAP,
  generate,
  http,
  removeAfterSuccess,
  requireCjs,
  runToExit,
  runtimeOf,
  sleep,
  startApp,
  tsc,
  type Framework,
  REDIS_VERSION,
  tscStrictest,
} from '../helpers.js';

// The NestJS and Fastify examples after `gen add module redis`, compiled with the real TypeScript compiler
// (strict) and started as real processes against real redis-server processes on loopback.
const Redis = requireCjs('ioredis');
const projects: Record<Framework, string> = { nestjs: '', fastify: '' };
let server: RedisServer;

beforeAll(async () => {
  for (const fw of ['nestjs', 'fastify'] as const) {
    projects[fw] = await generate(fw, `node-${fw}`);
    tsc(projects[fw]); // throws on any type error
  }
  server = await new RedisServer().start();
}, 300_000);

afterAll(async () => {
  await server?.cleanup();
});
const made: string[] = [];
removeAfterSuccess(() => [projects.nestjs, projects.fastify, ...made]);

test('gen add vendors the shared core plus only the chosen framework layer, and the build emits to dist/ as before', () => {
  for (const fw of ['nestjs', 'fastify'] as const) {
    const snap = path.join(projects[fw], SNAP);
    const other = fw === 'nestjs' ? 'fastify' : 'nestjs';
    expect(fs.readdirSync(snap).sort()).toEqual(['core', fw, 'package.json'].sort());
    expect(fs.existsSync(path.join(snap, other))).toBe(false);
    expect(fs.readFileSync(path.join(snap, 'core', 'defaults.js'), 'utf8')).toContain(JSON.stringify(REDIS_VERSION));
    expect(JSON.parse(fs.readFileSync(path.join(snap, 'package.json'), 'utf8')).type).toBe('commonjs');
    expect(fs.existsSync(path.join(projects[fw], 'dist', ENTRY[fw]))).toBe(true);
    const deps = JSON.parse(fs.readFileSync(path.join(projects[fw], 'package.json'), 'utf8')).dependencies;
    expect(deps.ioredis).toBeDefined();
    if (fw === 'fastify') expect(deps['fastify-plugin']).toBeDefined();
  }
});

describe.each(['nestjs', 'fastify'] as const)('%s app', (fw) => {
  test('requests succeed with Redis stopped, health 503 within the deadline, breaker open, hits again within 5 s of a restart', async () => {
    const redis = await new RedisServer(['--requirepass', 'app-secret-pw']).start();
    const prefix = `gentest:app-${fw}:`;
    const app = await startApp(projects[fw], path.join('dist', ENTRY[fw]), {
      REDIS_URL: `redis://:app-secret-pw@127.0.0.1:${redis.port}/0`,
      REDIS_KEY_PREFIX: prefix,
      REDIS_SOCKET_TIMEOUT: '0.3',
      REDIS_CONNECT_TIMEOUT: '0.3',
      REDIS_RETRIES: '1',
      REDIS_BREAKER_THRESHOLD: '3',
      REDIS_BREAKER_RESET_TIMEOUT: '0.5',
    }).catch(async (e) => {
      await redis.cleanup();
      throw e;
    });
    const admin = new Redis({
      port: redis.port,
      host: '127.0.0.1',
      password: 'app-secret-pw',
      lazyConnect: true,
      retryStrategy: () => null,
    });
    admin.on('error', () => undefined);
    try {
      let h = await http(app.port, '/api/health/module/redis');
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({
        status: 'ok',
        module: 'redis',
        version: REDIS_VERSION,
        connection: { host: '127.0.0.1', port: redis.port, db: 0, use_tls: false },
        breaker: { state: 'closed' },
      });
      expect(JSON.stringify(h.body)).not.toContain('app-secret-pw');
      expect((await http(app.port, '/products/1')).body).toEqual({ id: 1, name: 'Product 1', price_cents: 1001 });
      const concurrent = await Promise.all(Array.from({ length: 20 }, () => http(app.port, '/products/9')));
      expect(concurrent.every((r) => r.body.id === 9)).toBe(true);
      await http(app.port, '/products/1');
      expect((await http(app.port, '/stats')).body.loader_calls).toBe(2); // product 1 once, product 9 once (single-flight)
      expect(await admin.get(`${prefix}product:1`)).toBe('{"id":1,"name":"Product 1","price_cents":1001}');
      expect(await admin.ttl(`${prefix}product:1`)).toBeGreaterThan(55);
      const metrics = await http(app.port, '/api/health/module/redis/metrics');
      expect(metrics.body).toContain('rapidkit_redis_hits_total');
      if (fw === 'nestjs') {
        const t = await http(app.port, '/health');
        expect(t.status).toBe(200);
        expect(t.body).toMatchObject({ status: 'ok', info: { redis: { status: 'up' } } });
      }

      admin.disconnect();
      await redis.stop();
      for (let i = 2; i < 8; i++) {
        const r = await http(app.port, `/products/${i}`);
        expect(r.status).toBe(200);
        expect(r.body.id).toBe(i);
        expect(r.ms).toBeLessThan(1500); // loader 50 ms + at most one command timeout
      }
      h = await http(app.port, '/api/health/module/redis');
      expect(h.status).toBe(503);
      expect(h.body).toMatchObject({ status: 'fail', module: 'redis', version: REDIS_VERSION, connection: { port: redis.port } });
      expect(h.body.detail).toEqual(expect.any(String));
      expect(h.ms).toBeLessThan(3000);
      expect(['open', 'half_open']).toContain(h.body.breaker.state);
      expect(JSON.stringify(h.body)).not.toContain('app-secret-pw');
      if (fw === 'nestjs') {
        const t = await http(app.port, '/health');
        expect(t.status).toBe(503);
        expect(t.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
      }
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) expect((await http(app.port, '/products/1')).status).toBe(200);
      expect((Date.now() - t0) / 20).toBeLessThan(250);
      const stats = (await http(app.port, '/stats')).body.cache;
      expect(stats.fallbacks).toBeGreaterThan(stats.errors);

      await redis.start();
      const restarted = Date.now();
      let recovered = false;
      while (Date.now() - restarted < 5000) {
        await http(app.port, '/products/50');
        const before = (await http(app.port, '/stats')).body.loader_calls;
        await http(app.port, '/products/50');
        if (
          (await http(app.port, '/stats')).body.loader_calls === before &&
          (await http(app.port, '/api/health/module/redis')).status === 200
        ) {
          recovered = true;
          break;
        }
        await sleep(100);
      }
      expect(recovered, app.log()).toBe(true);
      expect(Date.now() - restarted).toBeLessThan(5000);
      expect(app.log()).not.toContain('app-secret-pw');
    } finally {
      admin.disconnect();
      await app.stop();
      await redis.cleanup();
    }
  }, 90_000);

  test('starts while Redis is down (preconnect on), serves from the loader, answers health 503 at once', async () => {
    const dead = await freePort();
    const t = Date.now();
    const app = await startApp(projects[fw], path.join('dist', ENTRY[fw]), {
      REDIS_URL: `redis://127.0.0.1:${dead}/0`,
      REDIS_PRECONNECT: 'true',
      REDIS_CONNECT_TIMEOUT: '0.2',
    });
    try {
      expect(Date.now() - t).toBeLessThan(10_000);
      const r = await http(app.port, '/products/3');
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(3);
      const h = await http(app.port, '/api/health/module/redis');
      expect(h.status).toBe(503);
      expect(h.body.detail).toMatch(/ECONNREFUSED/);
      expect(h.ms).toBeLessThan(3000);
      await sleep(200);
      expect(app.log()).toMatch(/preconnect failed|redis unavailable/);
    } finally {
      await app.stop();
    }
  }, 60_000);

  test('an invalid setting stops the app at start-up, naming the variable', async () => {
    const r = await runToExit(projects[fw], path.join('dist', ENTRY[fw]), {
      PORT: String(await freePort()),
      REDIS_URL: server.url,
      CACHE_TTL: 'soon',
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/CACHE_TTL: expected an integer/);
  }, 30_000);

  test('a missing vendored version is a clear error naming the path and the restore command', async () => {
    const copy = tempDir(`node-missing-${fw}`);
    made.push(copy);
    fs.cpSync(path.join(projects[fw], 'dist'), path.join(copy, 'dist'), { recursive: true });
    const wrapper = fw === 'nestjs' ? path.join(copy, 'dist', 'redis', 'index.js') : path.join(copy, 'dist', 'plugins', 'redis.js');
    const r = spawn(process.execPath, ['-e', `require(${JSON.stringify(wrapper)})`], { cwd: copy });
    let err = '';
    r.stderr.on('data', (d) => (err += d));
    const code = await new Promise((res) => r.on('exit', res));
    expect(code).not.toBe(0);
    expect(err).toContain(`runtime ${REDIS_VERSION} is not vendored`);
    expect(err).toContain(path.join('.rapidkit', 'vendor', 'redis', REDIS_VERSION, 'node', fw, 'index.js'));
    expect(err).toContain(`npx gen add module redis --framework ${fw}`);
  });
});

test('the wrappers and the vendored declarations type-check under the strictest settings (skipLibCheck off)', () => {
  for (const fw of ['nestjs', 'fastify'] as const) {
    tscStrictest(projects[fw]);
  }
}, 120_000);

test('NestJS: the wrapper also builds and runs under a NestJS 10-style tsconfig (CommonJS, no esModuleInterop, declarations)', async () => {
  const p = projects.nestjs;
  fs.writeFileSync(
    path.join(p, 'tsconfig.legacy.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'commonjs',
        declaration: true,
        removeComments: true,
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
        allowSyntheticDefaultImports: true,
        target: 'ES2021',
        outDir: './dist-legacy',
        strict: true,
        skipLibCheck: true,
      },
      include: ['src/**/*.ts'],
    }),
  );
  tsc(p, 'tsconfig.legacy.json');
  const app = await startApp(p, path.join('dist-legacy', 'main.js'), { REDIS_URL: server.url, REDIS_KEY_PREFIX: 'gentest:legacy:' });
  try {
    expect((await http(app.port, '/api/health/module/redis')).status).toBe(200);
    expect((await http(app.port, '/products/4')).body.id).toBe(4);
    expect((await http(app.port, '/products/4')).body.id).toBe(4);
    expect((await http(app.port, '/stats')).body.cache.hits).toBe(1);
    expect((await http(app.port, '/products', 'DELETE')).body).toEqual({ removed: 1 });
  } finally {
    await app.stop();
  }
}, 60_000);

test('NestJS in-process: forRoot options, forRootAsync with ConfigModule/registerAs, the Joi schema, injection and shutdown', async () => {
  const nest = runtimeOf(projects.nestjs, 'nestjs');
  const { NestFactory } = requireCjs('@nestjs/core');
  const { ConfigModule, ConfigService } = requireCjs('@nestjs/config');

  const ctx = await NestFactory.createApplicationContext(
    nest.RedisModule.forRoot({ url: server.url, keyPrefix: 'gentest:opt:', healthRoute: false }),
    { logger: false },
  );
  const svc = ctx.get(nest.RedisService);
  expect(svc).toBeInstanceOf(nest.RedisCache);
  expect(svc.prefix).toBe('gentest:opt:');
  expect(await svc.set('k', 1)).toBe(true);
  expect(await svc.client.get('gentest:opt:k')).toBe('1');
  expect(await ctx.get(nest.RedisHealthIndicator).isHealthy('cache')).toMatchObject({ cache: { status: 'up' } });
  await ctx.close();
  for (let i = 0; i < 50 && svc.client.status !== 'end'; i++) await sleep(20);
  expect(svc.client.status).toBe('end'); // onModuleDestroy quit the connection

  const saved = { ...process.env };
  Object.assign(process.env, { REDIS_URL: server.url, REDIS_KEY_PREFIX: 'gentest:cfg:', CACHE_TTL: '77' });
  try {
    const asyncCtx = await NestFactory.createApplicationContext(
      nest.RedisModule.forRootAsync({
        imports: [ConfigModule.forRoot({ load: [nest.redisConfig], validationSchema: nest.redisValidationSchema, ignoreEnvFile: true })],
        inject: [ConfigService],
        useFactory: (config: any) => config.get('redis'),
      }),
      { logger: false },
    );
    const cfg = asyncCtx.get(nest.RedisService);
    expect(cfg.prefix).toBe('gentest:cfg:');
    expect(await cfg.set('k', 'v')).toBe(true);
    expect(await cfg.ttl('k')).toBeGreaterThan(70);
    expect(await cfg.ttl('k')).toBeLessThanOrEqual(77);
    await asyncCtx.close();

    // useClass: the module instantiates the options factory; useExisting: an imported module provides it
    const { Module } = requireCjs('@nestjs/common');
    class RedisConfig {
      createRedisOptions() {
        return { keyPrefix: 'gentest:cls:' };
      }
    }
    const byClass = await NestFactory.createApplicationContext(nest.RedisModule.forRootAsync({ useClass: RedisConfig }), {
      logger: false,
      abortOnError: false,
    });
    expect(byClass.get(nest.RedisService).prefix).toBe('gentest:cls:');
    expect(await byClass.get(nest.RedisService).set('k', 1)).toBe(true);
    await byClass.close();
    class Existing {
      async createRedisOptions() {
        return { keyPrefix: 'gentest:existing:' };
      }
    }
    class ConfigHolder {}
    Module({ providers: [Existing], exports: [Existing] })(ConfigHolder); // @Module() on a plain class
    const byExisting = await NestFactory.createApplicationContext(
      nest.RedisModule.forRootAsync({ imports: [ConfigHolder], useExisting: Existing }),
      { logger: false, abortOnError: false },
    );
    expect(byExisting.get(nest.RedisService).prefix).toBe('gentest:existing:');
    await byExisting.close();
    expect(() => nest.RedisModule.forRootAsync({ useClass: RedisConfig, useExisting: Existing })).toThrow(/exactly one of/);

    process.env.REDIS_PORT = 'http';
    await expect(
      ConfigModule.forRoot({ load: [nest.redisConfig], validationSchema: nest.redisValidationSchema, ignoreEnvFile: true }),
    ).rejects.toThrow(/REDIS_PORT: expected an integer/);
    process.env.REDIS_PORT = '6379';
    process.env.REDIS_BACKOFF = 'slow';
    await expect(ConfigModule.forRoot({ validationSchema: nest.redisValidationSchema, ignoreEnvFile: true })).rejects.toThrow(
      /"REDIS_BACKOFF"/,
    );
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const { error } = nest.redisValidationSchema.validate({
    REDIS_URL: 'redis://h:1/0',
    REDIS_TLS: 'On',
    REDIS_SOCKET_TIMEOUT: '250ms',
    CACHE_TTL: '0',
    OTHER: 'x',
  });
  expect(error).toBeUndefined();
});

test('NestJS in-process: the terminus indicator resolves down results for terminus >= 11', async () => {
  const nest = runtimeOf(projects.nestjs, 'nestjs');
  const dead = await freePort();
  const down = new nest.RedisService(nest.settingsFromEnv({ REDIS_URL: `redis://127.0.0.1:${dead}/0`, REDIS_CONNECT_TIMEOUT: '0.2' }), {
    logger: { warn: () => undefined },
  });
  const result = await new nest.RedisHealthIndicator(down).isHealthy();
  expect(result.redis.status).toBe('down');
  expect(result.redis.message).toMatch(/ECONNREFUSED/);
  await down.close();
});

test('Fastify helpers: getFromCache, setToCache, deleteFromCache, deleteCachePattern, getCacheStats, isCacheHealthy; bad keys are HTTP 400; onClose quits', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, { REDIS_URL: server.url, REDIS_KEY_PREFIX: 'gentest:fastify-helpers:', LOG_LEVEL: 'error' });
  try {
    const { buildApp } = requireCjs(path.join(projects.fastify, 'dist', 'app.js'));
    const app = await buildApp();
    app.get('/bad', async () => app.getFromCache(''));
    await app.ready();
    expect(await app.setToCache('user:1', { name: 'Ada' }, 60)).toBe(true);
    expect(await app.getFromCache('user:1')).toEqual({ name: 'Ada' });
    expect(await app.cache.ttl('user:1')).toBeGreaterThan(55);
    expect(await app.setToCache('user:1:posts', [1, 2])).toBe(true);
    expect(await app.cache.ttl('user:1:posts')).toBeGreaterThan(3000); // omitted ttl = CACHE_TTL (3600)
    expect(await app.setToCache('user:2', 'x', 0)).toBe(true);
    expect(await app.cache.ttl('user:2')).toBe(-1); // 0 = no expiry (the helpers we replace fell back to the default)
    expect(await app.setToCache('zero', 0)).toBe(true);
    expect(await app.getFromCache('zero')).toBe(0); // a cached 0/false/null is returned as such
    await app.cache.client.set('gentest:fastify-helpers:raw', 'not json');
    expect(await app.getFromCache('raw')).toBe('not json'); // not a miss
    expect(await app.deleteCachePattern('user:1*')).toBe(2);
    expect(await app.deleteFromCache('user:2')).toBe(true);
    expect(await app.deleteFromCache('user:2')).toBe(false);
    expect(await app.getFromCache('user:1')).toBeNull();
    expect(await app.isCacheHealthy()).toBe(true);
    await expect(app.getFromCache('')).rejects.toMatchObject({ statusCode: 400 });
    expect((await app.inject({ method: 'GET', url: '/bad' })).statusCode).toBe(400);
    const stats = await app.getCacheStats();
    expect(stats).toMatchObject({
      connected: true,
      status: 'ready',
      breaker: { state: 'closed' },
      config: { host: '127.0.0.1', port: server.port, db: 0, ttl: 3600, key_prefix: 'gentest:fastify-helpers:' },
    });
    expect(stats.hits).toBeGreaterThan(0);
    expect(stats.hit_rate).toBeGreaterThan(0);
    expect(stats.memory_info).toContain('used_memory:');
    expect(stats.keyspace_info).toContain('# Keyspace');
    expect(stats.server_info).toContain('redis_version:');
    expect(stats.memory).toMatch(/^\d+(\.\d+)?[KMG]?$/);
    expect(stats.keys).toBeGreaterThan(0);
    const res = await app.inject({ method: 'GET', url: '/api/health/module/redis' });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('ok');
    await app.close();
    for (let i = 0; i < 50 && app.cache.client.status !== 'end'; i++) await sleep(20);
    expect(app.cache.client.status).toBe('end'); // onClose quit the connection

    // stats never throw while Redis is unreachable (the helpers we replace answered HTTP 503)
    process.env.REDIS_URL = `redis://127.0.0.1:${await freePort()}/0`;
    process.env.REDIS_CONNECT_TIMEOUT = '0.2';
    const down = await buildApp();
    await down.ready();
    expect(await down.isCacheHealthy()).toBe(false);
    expect(await down.getCacheStats()).toMatchObject({ connected: false, memory_info: null, keys: null });
    await down.close();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

test('Fastify in-process: plugin options (url, keyPrefix, healthRoute: false) override the environment', async () => {
  const fastifyRuntime = runtimeOf(projects.fastify, 'fastify');
  const Fastify = requireCjs('fastify');
  const app = Fastify({ logger: false });
  await app.register(fastifyRuntime.redisPlugin, { url: server.url, keyPrefix: 'gentest:fp-opts:', cacheTtl: 42, healthRoute: false });
  await app.ready();
  expect(app.cache.prefix).toBe('gentest:fp-opts:');
  expect(await app.setToCache('k', 1)).toBe(true);
  expect(await app.cache.client.ttl('gentest:fp-opts:k')).toBeGreaterThan(40);
  expect((await app.inject({ method: 'GET', url: '/api/health/module/redis' })).statusCode).toBe(404);
  expect(app.cache.metadata().url).toBe(server.url);
  await app.close();
});

test('Fastify: an ESM project ("type": "module", NodeNext) builds and runs the same wrapper, started from another working directory', async () => {
  const p = await generate('fastify', 'node-fastify-esm');
  made.push(p);
  const pkg = JSON.parse(fs.readFileSync(path.join(p, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(p, 'package.json'), JSON.stringify({ ...pkg, type: 'module' }, null, 2));
  const tsconfig = JSON.parse(fs.readFileSync(path.join(p, 'tsconfig.json'), 'utf8'));
  tsconfig.compilerOptions = { ...tsconfig.compilerOptions, module: 'nodenext', moduleResolution: 'nodenext' };
  fs.writeFileSync(path.join(p, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  // ESM needs explicit extensions on relative imports (the one manual edit, documented)
  for (const f of ['src/app.ts', 'src/server.ts']) {
    const file = path.join(p, f);
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace("from './plugins/redis';", "from './plugins/redis.js';")
        .replace("from './app';", "from './app.js';"),
    );
  }
  tsc(p);
  const elsewhere = tempDir('esm-cwd'); // ESM has no __dirname: the wrapper finds .rapidkit/ from the started script
  made.push(elsewhere);
  const app = await startApp(
    p,
    path.join('dist', 'server.js'),
    {
      REDIS_URL: server.url,
      REDIS_KEY_PREFIX: 'gentest:esm:',
      REDIS_TTL: '900',
    },
    '/stats',
    elsewhere,
  );
  try {
    expect((await http(app.port, '/api/health/module/redis')).status).toBe(200);
    expect((await http(app.port, '/products/5')).body.id).toBe(5);
    expect((await http(app.port, '/products/5')).body.id).toBe(5);
    expect((await http(app.port, '/stats')).body.loader_calls).toBe(1);
    expect((await http(app.port, '/cache/stats')).body.config.ttl).toBe(900); // AegisX's REDIS_TTL is the default TTL
  } finally {
    await app.stop();
  }
}, 120_000);
