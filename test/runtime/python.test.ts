import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO, copyExample, pythonEnvs, runGen } from '../helpers.js';

// The generated FastAPI project's pytest suite (test/runtime/python) against real redis-server processes, a real
// uvicorn, a real prefork Celery worker and openssl-made TLS, once per supported Python stack (docs/compatibility.md):
// the floor is Debian's /usr/bin/python3 with its apt packages; the others are virtual environments built from
// the pinned files in test/stacks/ by scripts/python-envs.sh (cached under .cache/venvs).
interface Stack {
  name: string;
  env: string | null; // scripts/python-envs.sh name, null = /usr/bin/python3
  expect: { redis: RegExp; fastapi: RegExp; pydantic: RegExp; hiredis: boolean };
  acl: boolean; // the whole suite once more as an ACL user limited to the key prefix
}
const STACKS: Stack[] = [
  { name: 'floor (Debian)', env: null, expect: { redis: /^4\.3\./, fastapi: /^0\.92\./, pydantic: /^1\./, hiredis: false }, acl: true },
  {
    name: 'redis-py 5.0',
    env: 'redis5',
    expect: { redis: /^5\.0\./, fastapi: /^0\.\d{3}\./, pydantic: /^2\./, hiredis: false },
    acl: false,
  },
  {
    name: 'latest + hiredis',
    env: 'latest',
    expect: { redis: /^8\./, fastapi: /^0\.\d{3}\./, pydantic: /^2\./, hiredis: true },
    acl: false,
  },
];

let project: string;
let failed = false;
let pythons: Record<string, string> = {};

beforeAll(async () => {
  pythons = await pythonEnvs(STACKS.flatMap((s) => (s.env ? [s.env] : [])));
  project = copyExample('fastapi', 'py-runtime');
  const r = await runGen(['add', 'module', 'redis', '--project', project, '--yes']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(fs.existsSync(path.join(project, 'app', 'redis_cache.py'))).toBe(true);
}, 600_000);

afterAll(() => {
  if (project && !failed) fs.rmSync(project, { recursive: true, force: true }); // kept for inspection on failure
});

async function pytest(python: string, extraEnv: Record<string, string>, extraArgs: string[] = []) {
  const r = await execa(
    python,
    ['-m', 'pytest', 'test/runtime/python', '-q', '-p', 'no:cacheprovider', '-W', 'ignore::DeprecationWarning', ...extraArgs],
    {
      cwd: REPO,
      env: { GEN_PROJECT_DIR: project, PYTHONDONTWRITEBYTECODE: '1', ...extraEnv },
      reject: false,
      timeout: 600_000,
      all: true,
    },
  );
  if (r.exitCode !== 0) failed = true;
  return { code: r.exitCode, out: String(r.all) };
}

describe.each(STACKS)('Python stack: $name', (stack) => {
  const python = () => (stack.env ? pythons[stack.env]! : '/usr/bin/python3');

  test('is the stack it claims (redis-py, FastAPI, pydantic, hiredis parser)', async () => {
    const probe =
      'import json, redis, fastapi, pydantic, celery, redis.utils as u; print(json.dumps({"redis": redis.__version__, ' +
      '"fastapi": fastapi.__version__, "pydantic": pydantic.VERSION, "celery": celery.__version__, "hiredis": u.HIREDIS_AVAILABLE}))';
    const r = await execa(python(), ['-c', probe], { reject: false });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const v = JSON.parse(String(r.stdout));
    expect(v.redis).toMatch(stack.expect.redis);
    expect(v.fastapi).toMatch(stack.expect.fastapi);
    expect(String(v.pydantic)).toMatch(stack.expect.pydantic);
    expect(v.hiredis).toBe(stack.expect.hiredis);
  });

  test('the whole pytest suite of the generated FastAPI runtime passes against a real redis-server', async () => {
    const r = await pytest(python(), {});
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\d+ passed/);
    expect(r.out).not.toMatch(/skipped|xfail|deselected/);
  }, 600_000);
});

describe.each(STACKS.filter((s) => s.acl))('Python stack: $name, as an ACL user', (stack) => {
  test('the whole suite again as an ACL user limited to the key prefix (-keys -flushall -flushdb)', async () => {
    // test_failopen.py makes its own servers and users for every fault: running it again as the ACL user adds nothing
    const r = await pytest(stack.env ? pythons[stack.env]! : '/usr/bin/python3', { GEN_TEST_ACL: '1' }, [
      '--ignore',
      'test/runtime/python/test_failopen.py',
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\d+ passed/);
    expect(r.out).not.toMatch(/skipped|xfail|deselected/);
  }, 600_000);
});
