import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RedisServer, copyExample, freePort, http, removeAfterSuccess, runGen, sleep, startApp, tsc } from '../helpers.js';

// The password `gen add --set redis_password=...` writes to .env reaches the running app the way each framework's
// users expect, with no REDIS_* variable in the process environment: FastAPI (the runtime reads the project's
// .env), NestJS (RedisModule.forRoot loads it through ConfigModule), Fastify (`node --env-file=.env`).
const PASSWORD = 'gen-wrote-this-pw';
let server: RedisServer;
const made: string[] = [];
removeAfterSuccess(() => made);

beforeAll(async () => {
  server = await new RedisServer(['--requirepass', PASSWORD]).start();
});
afterAll(async () => {
  await server?.cleanup();
});

async function generateWithPassword(fw: 'fastapi' | 'nestjs' | 'fastify'): Promise<string> {
  const project = copyExample(fw, `envfile-${fw}`);
  made.push(project);
  const url = `redis://127.0.0.1:${server.port}/0`;
  const r = await runGen([
    'add',
    'module',
    'redis',
    '--project',
    project,
    '--yes',
    '--set',
    `redis_password=${PASSWORD}`,
    '--set',
    `redis_url=${url}`,
  ]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  const env = fs.readFileSync(path.join(project, '.env'), 'utf8');
  expect(env).toContain(`REDIS_PASSWORD=${PASSWORD}`);
  for (const f of fs.readdirSync(project, { recursive: true }) as string[]) {
    if (f === '.env' || f.includes('node_modules')) continue;
    const file = path.join(project, f);
    if (fs.statSync(file).isFile()) expect(fs.readFileSync(file, 'utf8').includes(PASSWORD), f).toBe(false);
  }
  return project;
}

/** The environment of the started app: nothing of the parent's REDIS_* / CACHE_* variables. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(REDIS_|CACHE_TTL)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

async function expectHealthy(port: number) {
  const h = await http(port, '/api/health/module/redis');
  expect(h.status, JSON.stringify(h.body)).toBe(200);
  expect(h.body.connection.port).toBe(server.port);
  expect(JSON.stringify(h.body)).not.toContain(PASSWORD);
}

test('FastAPI: uvicorn started from another folder reads the password from the project .env', async () => {
  const project = await generateWithPassword('fastapi');
  const port = await freePort();
  let out = '';
  const proc = spawn('/usr/bin/python3', [path.join(project, 'main.py')], {
    cwd: '/',
    env: cleanEnv({ PORT: String(port), PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: project }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await fetch(`http://127.0.0.1:${port}/stats`).then(
        () => true,
        () => false,
      );
      if (!up) await sleep(100);
    }
    expect(up, out).toBe(true);
    await expectHealthy(port);
    expect((await http(port, '/products/3')).body.id).toBe(3);
    expect(out).not.toContain(PASSWORD);
  } finally {
    proc.kill('SIGTERM');
  }
}, 60_000);

test('NestJS: RedisModule.forRoot() loads .env through ConfigModule', async () => {
  const project = await generateWithPassword('nestjs');
  tsc(project);
  const app = await startApp(project, path.join('dist', 'main.js'), cleanEnv(), '/api/health/module/redis');
  try {
    await expectHealthy(app.port);
    expect(app.log()).not.toContain(PASSWORD);
  } finally {
    await app.stop();
  }
}, 120_000);

test('Fastify: `node --env-file=.env` (the start script the docs show)', async () => {
  const project = await generateWithPassword('fastify');
  tsc(project);
  const port = await freePort();
  let out = '';
  const proc = spawn(process.execPath, ['--env-file=.env', path.join('dist', 'server.js')], {
    cwd: project,
    env: cleanEnv({ PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await fetch(`http://127.0.0.1:${port}/stats`).then(
        () => true,
        () => false,
      );
      if (!up) await sleep(100);
    }
    expect(up, out).toBe(true);
    await expectHealthy(port);
  } finally {
    proc.kill('SIGTERM');
  }
}, 120_000);
