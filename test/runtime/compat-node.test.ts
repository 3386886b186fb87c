import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  REPO,
  REDIS_SNAP,
  RedisServer,
  copyExample,
  generate,
  removeAfterSuccess,
  requireCjs,
  runGen,
  runToExit,
  runtimeOf,
  tsc,
} from '../helpers.js';

// The Node seeds' own example code (test/fixtures/seeds) on the generated NestJS/Fastify projects, compiled with the
// real tsc and run as real processes against a real redis-server: AegisX (Fastify) and RapidKit (NestJS). Plus the
// configuration paths: .env through ConfigModule (Nest) and `node --env-file` (Fastify), Joi = runtime on one table.
const Redis = requireCjs('ioredis');
const SEEDS = path.join(REPO, 'test', 'fixtures', 'seeds');
const CONFIG_VECTORS = JSON.parse(fs.readFileSync(path.join(REPO, 'test/vectors/config-env.json'), 'utf8'));
const made: string[] = [];
removeAfterSuccess(() => made);
let server: RedisServer;
let fastifyProject: string;
let nestProject: string;

function lastJson(out: string): any {
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON line in:\n${out}`);
  return JSON.parse(line);
}

beforeAll(async () => {
  server = await new RedisServer().start();
  fastifyProject = await generate('fastify', 'compat-fastify');
  made.push(fastifyProject);
  fs.copyFileSync(path.join(SEEDS, 'aegisx_seed.ts'), path.join(fastifyProject, 'src', 'aegisx_seed.ts'));
  fs.copyFileSync(path.join(SEEDS, 'aegisx_main.ts'), path.join(fastifyProject, 'src', 'aegisx_main.ts'));
  // the seed's code is not strict TypeScript (implicit any, untyped catch): it compiles as AegisX compiled it
  fs.writeFileSync(
    path.join(fastifyProject, 'tsconfig.seed.json'),
    JSON.stringify({ extends: './tsconfig.json', compilerOptions: { strict: false, noImplicitAny: false } }),
  );
  tsc(fastifyProject, 'tsconfig.seed.json');

  nestProject = copyExample('nestjs', 'compat-nest');
  made.push(nestProject);
  const r = await runGen(['add', 'module', 'redis', '--project', nestProject, '--yes', '--set', 'compat=rapidkit']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  fs.copyFileSync(path.join(SEEDS, 'rapidkit_cache.service.ts'), path.join(nestProject, 'src', 'cache.service.ts'));
  fs.copyFileSync(path.join(SEEDS, 'rapidkit_nest_main.ts'), path.join(nestProject, 'src', 'seed-main.ts'));
  tsc(nestProject); // strict, as the example app is: the seed's CacheService compiles unchanged
}, 300_000);

afterAll(async () => {
  await server?.cleanup();
});

test('AegisX (Fastify): the seed examples run on the plugin, fastify.redis is the ioredis client, REDIS_TTL is the default TTL', async () => {
  const admin = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
  try {
    await admin.select(3);
    await admin.flushdb();
    const env = { REDIS_URL: `${server.url.replace('/0', '/3')}`, REDIS_KEY_PREFIX: '', REDIS_TTL: '900', LOG_LEVEL: 'silent' };
    const run = await runToExit(fastifyProject, 'dist/aegisx_main.js', env);
    expect(run.code, run.out).toBe(0);
    const out = lastJson(run.out);
    expect(out.defaultTtl).toBe(900);
    expect(out.rawClient).toBe(true);
    expect(out.user).toEqual({ id: '123', name: 'Ada' });
    expect(out.userAgain).toEqual({ id: '123', name: 'Ada' }); // served from the cache, not the changed database
    expect([out.dashboard1, out.dashboard2]).toEqual(['MISS', 'HIT']);
    expect(out.health).toEqual({ status: 'healthy', redis: { connected: true, status: 'ready' } });
    expect(out.session).toMatchObject({ userId: '123', role: 'admin' });
    expect(out.sessionAfterDestroy).toBeNull();
    expect(out.permissions).toEqual(['read', 'own:123']);
    expect(out.limited).toMatchObject({ allowed: false, requestCount: 3, maxRequests: 2 });
    expect(out.bulk).toBe(true);
    expect(out.debug).toEqual(['permissions:123']);
    expect(out.usedMemory).toBe(true);
    expect(out.deleted).toBeNull();
    expect(await admin.ttl('preferences:123')).toBeGreaterThan(1700); // the seed's explicit 1800
    expect(JSON.parse((await admin.get('bulk:1')) as string)).toEqual({ a: 1 });
  } finally {
    admin.disconnect();
  }
}, 60_000);

test('AegisX (Fastify): with Redis unreachable the same examples serve from the database, health says unhealthy, nothing throws', async () => {
  const run = await runToExit(fastifyProject, 'dist/aegisx_main.js', {
    REDIS_URL: 'redis://127.0.0.1:1/0',
    REDIS_CONNECT_TIMEOUT: '0.2',
    REDIS_RETRIES: '0',
    SEED_MODE: 'down',
    LOG_LEVEL: 'silent',
  });
  expect(run.code, run.out).toBe(0);
  const out = lastJson(run.out);
  expect(out.userAgain).toEqual({ id: '123', name: 'changed in the database only' });
  expect([out.dashboard1, out.dashboard2]).toEqual(['MISS', 'MISS']);
  expect(out.health.status).toBe('unhealthy');
  expect(out.session).toBeNull();
}, 60_000);

test('Fastify: fastify.redis is left alone when already decorated (@fastify/redis first) and can be switched off', async () => {
  const Fastify = requireCjs('fastify');
  const { redisPlugin } = runtimeOf(fastifyProject, 'fastify');
  const theirs = { fromFastifyRedis: true };
  const a = Fastify({ logger: false });
  a.decorate('redis', theirs);
  await a.register(redisPlugin, { url: server.url, healthRoute: false });
  await a.ready();
  expect(a.redis).toBe(theirs);
  expect(await a.setToCache('k', 1)).toBe(true);
  await a.close();
  const b = Fastify({ logger: false });
  await b.register(redisPlugin, { url: server.url, healthRoute: false, decorateRedis: false });
  b.decorate('redis', theirs); // what @fastify/redis registered afterwards does
  await b.ready();
  expect(b.redis).toBe(theirs);
  await b.close();
});

test('Fastify: `node --env-file=.env` brings the password gen wrote to .env to the app', async () => {
  const locked = await new RedisServer(['--requirepass', 'env-file-pw']).start();
  try {
    fs.writeFileSync(
      path.join(fastifyProject, '.env'),
      `REDIS_URL=redis://127.0.0.1:${locked.port}/0\nREDIS_PASSWORD=env-file-pw\nREDIS_KEY_PREFIX=\nREDIS_TTL=900\n`,
    );
    const run = await execa(process.execPath, ['--env-file=.env', 'dist/aegisx_main.js'], {
      cwd: fastifyProject,
      env: { LOG_LEVEL: 'silent', PATH: process.env.PATH },
      extendEnv: false,
      reject: false,
      timeout: 30_000,
      all: true,
    });
    expect(run.exitCode, String(run.all)).toBe(0);
    const out = lastJson(String(run.all));
    expect(out.health.status).toBe('healthy');
    expect(String(run.all)).not.toContain('env-file-pw');
  } finally {
    fs.rmSync(path.join(fastifyProject, '.env'), { force: true });
    await locked.cleanup();
  }
}, 60_000);

test('RapidKit (NestJS): the seed CacheService runs unchanged (set with EX/PX); .env reaches RedisService through ConfigModule', async () => {
  const locked = await new RedisServer(['--requirepass', 'nest-dotenv-pw']).start();
  try {
    expect(fs.existsSync(path.join(nestProject, 'src/redis/redis.service.ts'))).toBe(true);
    fs.writeFileSync(
      path.join(nestProject, '.env'),
      `REDIS_URL=redis://127.0.0.1:${locked.port}/0\nREDIS_PASSWORD=nest-dotenv-pw\nREDIS_KEY_PREFIX=gentest:nest-seed:\nCACHE_TTL=77\n`,
    );
    const run = await runToExit(nestProject, 'dist/seed-main.js', {});
    expect(run.code, run.out).toBe(0);
    const out = lastJson(run.out);
    expect(out.greeting).toBe('hello');
    expect(out.missing).toBeNull();
    expect(out.ttl).toBeGreaterThan(110);
    expect(out.ttl).toBeLessThanOrEqual(120);
    expect(out.defaultTtl).toBeGreaterThan(3590); // the seed's own default ttl = 3600, passed as 'EX'
    expect(out.pttl).toBeGreaterThan(1000);
    expect(out.pttl).toBeLessThanOrEqual(1500);
    expect(out.stored).toBe('"hello"');
    expect(out.legacy).toBe('plain text written by another client'); // non-JSON text comes back unchanged
    expect(out.legacyNum).toBe(123); // JSON-looking text is parsed: getRaw keeps it a string
    expect(out.legacyNumRaw).toBe('123');
    expect(out.refused).toMatch(/'EX' and 'PX'/);
    expect(out.url).toBe(`redis://:***@127.0.0.1:${locked.port}/0`);
    expect(run.out).not.toContain('nest-dotenv-pw');
    // a bad value in .env is refused at start-up by the same rule, naming the variable
    fs.writeFileSync(path.join(nestProject, '.env'), `REDIS_PORT=6379.0\n`);
    const bad = await runToExit(nestProject, 'dist/seed-main.js', {});
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain('REDIS_PORT: expected an integer');
  } finally {
    fs.rmSync(path.join(nestProject, '.env'), { force: true });
    await locked.cleanup();
  }
}, 60_000);

test('the Joi schema and the runtime accept and refuse exactly the same values (test/vectors/config-env.json)', () => {
  const nest = runtimeOf(nestProject, 'nestjs');
  const mismatches: string[] = [];
  for (const [expected, table] of [
    [true, CONFIG_VECTORS.accept],
    [false, CONFIG_VECTORS.reject],
  ] as const) {
    for (const [name, values] of Object.entries(table as Record<string, string[]>)) {
      for (const value of values) {
        const joi = nest.redisValidationSchema.validate({ [name]: value }).error === undefined;
        let runtime = true;
        try {
          nest.settingsFromEnv({ [name]: value });
        } catch (err) {
          runtime = false;
          expect((err as Error).message).toContain(name);
        }
        if (joi !== expected || runtime !== expected)
          mismatches.push(`${name}=${JSON.stringify(value)}: joi ${joi}, runtime ${runtime}, expected ${expected}`);
      }
    }
  }
  expect(mismatches).toEqual([]);
  const s = nest.settingsFromEnv({ REDIS_URL: 'redis://h:6380?db=4&socket_timeout=250ms&max_connections=7' });
  expect([s.host, s.port, s.db, s.socketTimeout, s.maxConnections]).toEqual(['h', 6380, 4, 0.25, 7]);
  expect(nest.settingsFromEnv({ REDIS_URL: 'unix://:pw@/tmp/r.sock?db=2' })).toMatchObject({
    unixSocketPath: '/tmp/r.sock',
    db: 2,
    password: 'pw',
  });
});

test('unix:// sockets: the Node client connects through the socket path and honours ?db=', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-sock-'));
  const sock = path.join(dir, 'redis.sock');
  const srv = await new RedisServer(['--unixsocket', sock, '--unixsocketperm', '700']).start();
  const core = runtimeOf(fastifyProject, 'core');
  const cache = new core.RedisCache(core.settingsFromEnv({ REDIS_URL: `unix://${sock}?db=2`, REDIS_KEY_PREFIX: 'gentest:sock:' }));
  const admin = new Redis({ path: sock, db: 2, lazyConnect: true });
  try {
    expect(await cache.set('k', { via: 'unix' })).toBe(true);
    expect(await cache.get('k')).toEqual({ via: 'unix' });
    expect(await admin.get('gentest:sock:k')).toBe('{"via":"unix"}');
    expect((await cache.healthCheck()).status).toBe('ok');
    expect(cache.metadata().url).toBe(`unix://${sock}?db=2`);
  } finally {
    admin.disconnect();
    await cache.close();
    await srv.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sessions: a session created in Node is read, updated and destroyed from Python on the same keys', async () => {
  const py = copyExample('fastapi', 'compat-sessions-py');
  made.push(py);
  const r = await runGen(['add', 'module', 'redis', '--project', py, '--yes']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const core = runtimeOf(fastifyProject, 'core');
  const cache = new core.RedisCache(core.settingsFromEnv({ REDIS_URL: server.url, REDIS_KEY_PREFIX: 'gentest:xsess:' }));
  const store = new core.SessionStore(cache, { ttl: 600 });
  const pyStore = (op: string, id: string) =>
    execa(
      '/usr/bin/python3',
      [
        '-c',
        `import json, sys; sys.path.insert(0, sys.argv[1]); import app.redis_cache as rc
s = rc.SyncSessionStore(rc.SyncRedisClient(rc.RedisSettings.from_env({"REDIS_URL": sys.argv[2], "REDIS_KEY_PREFIX": "gentest:xsess:"})), ttl=600)
op, sid = sys.argv[3], sys.argv[4]
print(json.dumps(s.get(sid) if op == "get" else s.update(sid, {"from": "python"}) if op == "update" else s.destroy(sid)))`,
        py,
        server.url,
        op,
        id,
      ],
      { env: { PYTHONDONTWRITEBYTECODE: '1', REDIS_ENV_FILE: '' }, reject: false },
    );
  try {
    const id = (await store.create({ userId: 7, roles: ['admin'] })) as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse((await pyStore('get', id)).stdout)).toEqual({ userId: 7, roles: ['admin'] });
    expect(JSON.parse((await pyStore('update', id)).stdout)).toBe(true);
    expect(await store.get(id, { touch: true })).toEqual({ from: 'python' });
    expect(await cache.client.ttl(`gentest:xsess:session:${id}`)).toBeGreaterThan(590);
    expect(await store.touch(id, 1.5)).toBe(true);
    expect(await cache.client.pttl(`gentest:xsess:session:${id}`)).toBeLessThanOrEqual(1500);
    expect(await store.update(id, { n: 2 })).toBe(true);
    expect(await cache.client.pttl(`gentest:xsess:session:${id}`)).toBeLessThanOrEqual(1500); // KEEPTTL
    expect(JSON.parse((await pyStore('destroy', id)).stdout)).toBe(true);
    expect(await store.get(id)).toBeNull();
    expect(await store.destroy(id)).toBe(false);
    for (const forged of ['', 'short', 'x'.repeat(200), 'a*b'.repeat(8)]) expect(await store.get(forged)).toBeNull();
    const offline = new core.SessionStore(
      new core.RedisCache(core.settingsFromEnv({ REDIS_URL: 'redis://127.0.0.1:1/0', REDIS_CONNECT_TIMEOUT: '0.2', REDIS_RETRIES: '0' })),
    );
    expect(await offline.create({ x: 1 })).toBeNull();
    expect(await offline.get(id)).toBeNull();
  } finally {
    await cache.close();
  }
}, 60_000);

test('an app image built without .rapidkit/ fails at start with a message that says to copy it', async () => {
  const image = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-image-'));
  try {
    fs.cpSync(path.join(fastifyProject, 'dist'), path.join(image, 'dist'), { recursive: true });
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(image, 'node_modules'), 'dir');
    const run = await runToExit(image, 'dist/server.js', {});
    expect(run.code).not.toBe(0);
    expect(run.out).toContain(path.join(REDIS_SNAP, 'node', 'fastify', 'index.js'));
    expect(run.out).toContain('copy it into the image (COPY .rapidkit ./.rapidkit');
  } finally {
    fs.rmSync(image, { recursive: true, force: true });
  }
});
