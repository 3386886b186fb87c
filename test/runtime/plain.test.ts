import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  REDIS_VERSION,
  REPO,
  RedisServer,
  freePort,
  removeAfterSuccess,
  requireCjs,
  runGen,
  runToExit,
  tempDir,
  tsc,
  tscStrictest,
} from '../helpers.js';

// The plain frameworks: `python` (Celery workers, scripts, Flask/Django without an adapter) and `node` (scripts,
// workers, any framework). Small projects from test/fixtures/plain-*, `gen add` detecting the framework, then a
// real script, a real Celery worker (prefork, broker on the test's redis-server) and a compiled Node script.
const Redis = requireCjs('ioredis');
const PYTHON = '/usr/bin/python3';
const SECRET = 'plain-secret-pw';
let python = '';
let node = '';
let redis: RedisServer;
removeAfterSuccess(() => [python, node]);

async function project(fixture: string, framework: string): Promise<string> {
  const dir = tempDir(fixture);
  fs.cpSync(path.join(REPO, 'test/fixtures', fixture), dir, { recursive: true });
  const r = await runGen(['add', 'module', 'redis', '--project', dir, '--yes', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).framework).toBe(framework); // detected, not passed
  return dir;
}

beforeAll(async () => {
  redis = await new RedisServer(['--requirepass', SECRET]).start();
  python = await project('plain-python', 'python');
  node = await project('plain-node', 'node');
  tsc(node);
}, 120_000);

afterAll(async () => {
  await redis?.cleanup();
});

const url = (port: number) => `redis://:${SECRET}@127.0.0.1:${port}/0`;

function py(args: string[], env: Record<string, string>, timeout = 60_000) {
  return execa(PYTHON, args, {
    cwd: python,
    env: { PYTHONDONTWRITEBYTECODE: '1', ...env },
    extendEnv: true,
    reject: false,
    timeout,
  });
}

describe('python (plain)', () => {
  test('a script uses the sync and async clients, metadata, metrics and health; FastAPI is never imported', async () => {
    const r = await py(['job.py'], { REDIS_URL: url(redis.port), REDIS_KEY_PREFIX: 'gentest:py-plain:' });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.first).toEqual({ customer: 7, total: 42 });
    expect(out.second).toEqual(out.first);
    expect(out.calls).toBe(1);
    expect(out.health.slice(0, 2)).toEqual([200, 'ok']);
    expect(out.metrics).toContain('rapidkit_redis_hits_total 1');
    expect(out.metadata).toMatchObject({ module: 'redis', version: REDIS_VERSION, key_prefix: 'gentest:py-plain:' });
    expect(out.async).toEqual([true, { a: 1 }]);
    expect(out.fastapi_loaded).toEqual([]);
    expect(String(r.stdout) + String(r.stderr)).not.toContain(SECRET);
    const admin = new Redis({ port: redis.port, host: '127.0.0.1', password: SECRET });
    try {
      expect(JSON.parse((await admin.get('gentest:py-plain:report:7'))!)).toEqual({ customer: 7, total: 42 });
      expect(await admin.ttl('gentest:py-plain:report:7')).toBeGreaterThan(55);
    } finally {
      admin.disconnect();
    }
  }, 60_000);

  test('with Redis unreachable the script still gets its values, health is 503 with a detail, nothing raises', async () => {
    const dead = await freePort();
    const r = await py(['job.py'], {
      REDIS_URL: `redis://:${SECRET}@127.0.0.1:${dead}/0`,
      REDIS_CONNECT_TIMEOUT: '0.2',
      REDIS_RETRIES: '0',
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.first).toEqual({ customer: 7, total: 42 });
    expect(out.calls).toBe(2); // no cache: the loader runs each time
    expect(out.elapsed).toBeLessThan(3);
    expect(out.health[0]).toBe(503);
    expect(out.health[1]).toBe('fail');
    expect(out.health[2]).toMatch(/ConnectionError|refused/i);
    expect(out.async).toEqual([false, null]);
    expect(String(r.stdout) + String(r.stderr)).not.toContain(SECRET);
  }, 60_000);

  test('a real Celery worker (prefork, broker on the test redis-server) caches task results through the sync client', async () => {
    const broker = await new RedisServer().start();
    const env = {
      PYTHONDONTWRITEBYTECODE: '1',
      REDIS_URL: url(redis.port),
      REDIS_KEY_PREFIX: 'gentest:celery-plain:',
      CELERY_BROKER_URL: `redis://127.0.0.1:${broker.port}/0`,
      CELERY_RESULT_BACKEND: `redis://127.0.0.1:${broker.port}/1`,
    };
    let log = '';
    const worker = spawn(
      PYTHON,
      [
        '-m',
        'celery',
        '-A',
        'tasks',
        'worker',
        '--pool',
        'prefork',
        '--concurrency',
        '2',
        '--without-gossip',
        '--without-mingle',
        '--without-heartbeat',
        '-l',
        'warning',
      ],
      { cwd: python, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    worker.stdout!.on('data', (d) => (log += d));
    worker.stderr!.on('data', (d) => (log += d));
    try {
      const r = await py(['send.py'], env, 60_000);
      expect(r.exitCode, `${String(r.stderr)}\nworker:\n${log}`).toBe(0);
      const { results, client_pid } = JSON.parse(String(r.stdout));
      expect(results[0]).toMatchObject({ customer: 7, run: expect.any(String) });
      expect(results[1]).toEqual(results[0]); // the second task was a cache hit: same run id
      expect(results[2]).toMatchObject({ customer: 8 });
      expect(results[2].run).not.toBe(results[0].run);
      expect(results[0].worker_pid).not.toBe(client_pid); // computed in the worker process
      const admin = new Redis({ port: redis.port, host: '127.0.0.1', password: SECRET });
      try {
        expect(JSON.parse((await admin.get('gentest:celery-plain:report:7'))!)).toEqual(results[0]);
        expect(await admin.ttl('gentest:celery-plain:report:7')).toBeGreaterThan(55);
      } finally {
        admin.disconnect();
      }
      expect(log).not.toContain(SECRET);
    } finally {
      const exited = new Promise((res) => worker.once('exit', res));
      if (worker.exitCode === null) worker.kill('SIGTERM'); // warm shutdown
      const timer = setTimeout(() => worker.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      await broker.cleanup();
    }
  }, 90_000);
});

describe('node (plain)', () => {
  test('a compiled script uses the ready cache and createCache, then exits on its own after close()', async () => {
    const r = await runToExit(node, path.join('dist', 'job.js'), { REDIS_URL: url(redis.port), REDIS_KEY_PREFIX: 'gentest:node-plain:' });
    expect(r.code, r.out).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.first).toEqual({ customer: 7, total: 42 });
    expect(out.second).toEqual(out.first);
    expect(out.calls).toBe(1);
    expect(out.stored).toBe(true);
    expect(out.health).toMatchObject({ status: 'ok', module: 'redis', version: REDIS_VERSION });
    expect(out.metrics).toContain('rapidkit_redis_hits_total 1');
    expect(out.metadata).toMatchObject({ module: 'redis', key_prefix: 'gentest:node-plain:' });
    expect(r.out).not.toContain(SECRET);
    const admin = new Redis({ port: redis.port, host: '127.0.0.1', password: SECRET });
    try {
      expect(await admin.get('gentest:node-plain:report:7')).toBe('{"customer":7,"total":42}');
      expect(await admin.get('gentest:node-plain:other:k')).toBe('1');
    } finally {
      admin.disconnect();
    }
  }, 60_000);

  test('with Redis unreachable it still gets its values, health fails with a detail, and it exits on its own', async () => {
    const dead = await freePort();
    const r = await runToExit(node, path.join('dist', 'job.js'), {
      REDIS_URL: `redis://:${SECRET}@127.0.0.1:${dead}/0`,
      REDIS_CONNECT_TIMEOUT: '0.2',
      REDIS_RETRIES: '0',
    });
    expect(r.code, r.out).toBe(0);
    const out = JSON.parse(r.out.split('\n').find((l) => l.startsWith('{'))!);
    expect(out.first).toEqual({ customer: 7, total: 42 });
    expect(out.calls).toBe(2);
    expect(out.elapsed).toBeLessThan(3000);
    expect(out.stored).toBe(false);
    expect(out.health.status).toBe('fail');
    expect(out.health.detail).toMatch(/ECONNREFUSED/);
    expect(r.out).not.toContain(SECRET);
  }, 60_000);

  test('the wrapper type-checks under the strictest settings (skipLibCheck off)', () => {
    tscStrictest(node);
  }, 60_000);
});
