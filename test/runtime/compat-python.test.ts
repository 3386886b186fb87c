import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect, test } from 'vitest';
import { REPO, copyExample, removeAfterSuccess, runGen } from '../helpers.js';

// `--set compat=<seed>`: the seeds' own example code (test/fixtures/seeds, copied unchanged from the seed documents)
// runs against the generated drop-in wrapper with Debian's /usr/bin/python3 (redis-py 4.3, FastAPI 0.92) and a
// real redis-server. One project and one pytest process per seed.
const SEEDS = { forge: 'app/core/redis.py', waardhaven: 'app/core/redis_client.py', rapidkit: 'rapidkit/runtime/cache/redis.py' } as const;
const made: string[] = [];
removeAfterSuccess(() => made);

test.each(Object.entries(SEEDS))(
  'compat=%s: the seed example code runs unchanged on %s',
  async (seed, wrapper) => {
    const project = copyExample('fastapi', `compat-${seed}`);
    made.push(project);
    // a Forge project's own .env: gen appends its compat block (password, unprefixed keys) and no REDIS_URL that
    // would shadow REDIS_CONNECTION_URL; the test's process environment (the real server) must win over this file
    if (seed === 'forge') fs.writeFileSync(path.join(project, '.env'), 'REDIS_CONNECTION_URL=redis://redis:6379\nREDIS_DEFAULT_TTL=300\n');
    const r = await runGen(['add', 'module', 'redis', '--project', project, '--yes', '--set', `compat=${seed}`]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(fs.existsSync(path.join(project, wrapper))).toBe(true);
    const example = fs.readFileSync(path.join(project, '.env.example'), 'utf8');
    expect(example).toContain(`compat=${seed}`);
    expect(example).toMatch(/^REDIS_KEY_PREFIX=$/m);
    expect(example).not.toMatch(/^REDIS_URL=/m);
    if (seed === 'forge') expect(fs.readFileSync(path.join(project, '.env'), 'utf8')).toContain('gen:redis:env_compat');
    for (const other of Object.values(SEEDS)) if (other !== wrapper) expect(fs.existsSync(path.join(project, other))).toBe(false);
    const py = await execa(
      '/usr/bin/python3',
      ['-m', 'pytest', `test/runtime/compat/test_${seed}.py`, '-q', '-p', 'no:cacheprovider', '-W', 'ignore::DeprecationWarning'],
      { cwd: REPO, env: { GEN_PROJECT_DIR: project, PYTHONDONTWRITEBYTECODE: '1' }, reject: false, timeout: 120_000, all: true },
    );
    expect(py.exitCode, String(py.all)).toBe(0);
    expect(String(py.all)).toMatch(/\d+ passed/);
    expect(String(py.all)).not.toMatch(/skipped|xfail/);
  },
  180_000,
);

test('without compat no drop-in wrapper is written', async () => {
  const project = copyExample('fastapi', 'compat-none');
  made.push(project);
  const r = await runGen(['add', 'module', 'redis', '--project', project, '--yes']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  for (const wrapper of Object.values(SEEDS)) expect(fs.existsSync(path.join(project, wrapper))).toBe(false);
  const refused = await runGen([
    'add',
    'module',
    'redis',
    '--project',
    copyExample('fastapi', 'compat-bad'),
    '--yes',
    '--set',
    'compat=django',
  ]);
  expect(refused.code).not.toBe(0);
  expect(refused.stdout + refused.stderr).toMatch(/forge/);
});
