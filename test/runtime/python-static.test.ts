import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, expect, test } from 'vitest';
import { REDIS_SNAP, REPO, copyExample, pythonEnvs, removeAfterSuccess, runGen } from '../helpers.js';

// Static checks of a generated FastAPI project, as its owner would run them: mypy --strict, pyright and ruff on
// the wrapper (app/redis_cache.py + its redis_cache.pyi stub), the vendored runtime and the example app using it.
// Tools: mypy + ruff from the `tools` venv (test/stacks/python-tools.txt, which also holds the latest redis-py,
// FastAPI and pydantic for the imports), pyright from npm (devDependency), all run with that venv's interpreter.
const PYRIGHT = path.join(REPO, 'node_modules', 'pyright', 'index.js');
let project: string;
let runtimeDir: string; // <project>/.rapidkit/vendor/redis/<v>/python
let python: string;
removeAfterSuccess(() => [project]);

beforeAll(async () => {
  ({ tools: python } = (await pythonEnvs(['tools'])) as { tools: string });
  project = copyExample('fastapi', 'py-static');
  const r = await runGen(['add', 'module', 'redis', '--project', project, '--yes']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  runtimeDir = path.join(project, REDIS_SNAP, 'python');
  fs.copyFileSync(path.join(REPO, 'test', 'stacks', 'ruff.toml'), path.join(project, 'ruff.toml'));
}, 600_000);

async function run(cmd: string, args: string[], cwd: string) {
  const r = await execa(cmd, args, {
    cwd,
    reject: false,
    all: true,
    timeout: 300_000,
    env: { MYPY_CACHE_DIR: path.join(cwd, '.mypy_cache') },
  });
  return { code: r.exitCode, out: String(r.all) };
}
const mypy = (args: string[], cwd = project) => run(python, ['-m', 'mypy', '--strict', '--python-executable', python, ...args], cwd);
/** pyright with a config written into `dir` (pyright skips dot-folders such as .rapidkit unless a config names them). */
function pyright(dir: string, config: Record<string, unknown>) {
  fs.writeFileSync(path.join(dir, 'pyrightconfig.json'), JSON.stringify({ pythonVersion: '3.11', ...config }));
  return run(process.execPath, [PYRIGHT, '--pythonpath', python, '--outputjson'], dir);
}

test('mypy --strict: the vendored runtime is clean', async () => {
  const r = await mypy(['-p', 'rapidkit_redis'], runtimeDir);
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/Success: no issues found in \d+ source files/);
}, 300_000);

test('mypy --strict: the example app and the wrapper (through its .pyi) are clean, and the stub matches the runtime (stubtest)', async () => {
  const r = await mypy(['app', 'main.py']);
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/Success: no issues found in 4 source files/); // main.py, app/__init__, catalog, redis_cache
  const stub = await run(python, ['-m', 'mypy.stubtest', 'app.redis_cache'], project);
  expect(stub.code, stub.out).toBe(0);
  expect(stub.out).toMatch(/Success: no issues found in 1 module/);
}, 300_000);

test('a misspelt method, a wrong argument type and a misused decorator are type errors (mypy and pyright)', async () => {
  const file = path.join(project, 'app', 'typos.py');
  fs.writeFileSync(
    file,
    [
      'from app.redis_cache import AsyncRedisClient, SyncRedisClient',
      '',
      '',
      'async def read(cache: AsyncRedisClient) -> None:',
      '    await cache.gett("k")',
      '',
      '',
      'def write(cache: SyncRedisClient) -> None:',
      '    cache.set("k", 1, ttl="soon")',
      '',
      '',
      'def price(cache: SyncRedisClient) -> int:',
      '    @cache.cached(ttl=60)',
      '    def cents(sku: str) -> int:',
      '        return len(sku)',
      '',
      '    return cents(42)',
      '',
    ].join('\n'),
  );
  try {
    const m = await mypy(['app/typos.py']);
    expect(m.code, m.out).toBe(1);
    expect(m.out).toContain('"AsyncRedisClient" has no attribute "gett"');
    expect(m.out).toMatch(/typos\.py:9: error: Argument "ttl" to "set" of "SyncRedisClient" has incompatible type "str"/);
    expect(m.out).toMatch(/typos\.py:17: error: Argument 1 .* has incompatible type "int"; expected "str"/);
    expect(m.out).toMatch(/Found 3 errors in 1 file/);
    const p = await pyright(project, { include: ['app/typos.py'] });
    const rules = (JSON.parse(p.out).generalDiagnostics as { rule?: string; range: { start: { line: number } } }[]).map(
      (d) => `${d.range.start.line + 1}:${d.rule}`,
    );
    expect(rules.sort()).toEqual(['17:reportArgumentType', '5:reportAttributeAccessIssue', '9:reportArgumentType']);
  } finally {
    fs.rmSync(file);
  }
}, 300_000);

test('pyright: strict on the example app and the wrapper, standard on the vendored runtime, no diagnostics', async () => {
  const app = await pyright(project, { include: ['app', 'main.py'], typeCheckingMode: 'strict' });
  const a = JSON.parse(app.out);
  expect(a.generalDiagnostics, app.out).toEqual([]);
  expect(a.summary.filesAnalyzed).toBeGreaterThanOrEqual(4);
  const rt = await pyright(runtimeDir, { include: ['rapidkit_redis'], typeCheckingMode: 'standard' });
  const r = JSON.parse(rt.out);
  expect(r.generalDiagnostics, rt.out).toEqual([]);
  expect(r.summary.filesAnalyzed).toBeGreaterThanOrEqual(8);
}, 300_000);

test('ruff (E, F, W, B, I; test/stacks/ruff.toml): the app, the wrapper and stub, and the vendored runtime are clean', async () => {
  const r = await run(
    path.join(path.dirname(python), 'ruff'),
    ['check', '--no-cache', 'app', 'main.py', path.relative(project, runtimeDir)],
    project,
  );
  expect(r.code, r.out).toBe(0);
  expect(r.out).toContain('All checks passed!');
}, 120_000);
