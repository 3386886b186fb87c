import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO, copyExample, runGen } from '../helpers.js';

// The generated FastAPI project is tested with Debian's /usr/bin/python3 (redis-py 4.3, FastAPI 0.92) and
// pytest: against real redis-server processes, a real uvicorn, Celery in eager mode and openssl-made TLS.
let project: string;
let failed = false;

beforeAll(async () => {
  project = copyExample('fastapi', 'py-runtime');
  const r = await runGen(['add', 'module', 'redis', '--project', project, '--yes']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(fs.existsSync(path.join(project, 'app', 'redis_cache.py'))).toBe(true);
});

afterAll(() => {
  if (project && !failed) fs.rmSync(project, { recursive: true, force: true }); // kept for inspection on failure
});

async function pytest(extraEnv: Record<string, string>, extraArgs: string[] = []) {
  const r = await execa(
    '/usr/bin/python3',
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

test('pytest suite of the generated FastAPI runtime passes against a real redis-server', async () => {
  const r = await pytest({});
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/\d+ passed/);
  expect(r.out).not.toMatch(/skipped|xfail/);
}, 600_000);

test('the whole pytest suite again as an ACL user limited to the key prefix (-keys -flushall -flushdb)', async () => {
  // test_failopen.py makes its own servers and users for every fault: running it again as the ACL user adds nothing
  const r = await pytest({ GEN_TEST_ACL: '1' }, ['--ignore', 'test/runtime/python/test_failopen.py']);
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/\d+ passed/);
}, 600_000);
