import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { lockReportSchema, verifyReportSchema, vetAllReportSchema, vetReportSchema } from '../../src/check/reports.js';
import { lockSchema } from '../../src/lock/schema.js';
import { aggregateDigest, readLock } from '../../src/lock/read.js';
import { REPO, addJson, copyExample, listAll, runGen, snapshotTree, tempDir, REDIS_SNAP, REDIS_VERSION } from '../helpers.js';

const SNAP = REDIS_SNAP;
const LOCK = '.rapidkit/modules.lock.yaml';
const NEXT_PATCH = REDIS_VERSION.replace(/\d+$/, (p) => String(Number(p) + 1)); // what --bump patch makes of it
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

async function verify(project: string, extra: string[] = []) {
  const r = await runGen(['modules', 'verify-all', '--project', project, '--json', ...extra]);
  return { ...r, report: verifyReportSchema.parse(JSON.parse(r.stdout)) };
}

async function installed(fw: 'fastapi' | 'nestjs' | 'fastify', env: Record<string, string> = {}) {
  const project = copyExample(fw, `lock-${fw}`);
  const r = await addJson(project, [], env);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return project;
}

test('add writes a deterministic lock: every owned file with sha256 and class, aggregate digest, options', async () => {
  const project = await installed('fastapi', { RAPIDKIT_REDIS_FORCE_TTL: '77' });
  const text = fs.readFileSync(path.join(project, LOCK), 'utf8');
  expect(text).toMatch(new RegExp(`^ {6}[0-9a-f]{64} {2}vendor {2}${SNAP.replace(/\./g, '\\.')}/python/rapidkit_redis/client\\.py$`, 'm'));
  const lock = lockSchema.parse(readLock(project));
  const entry = lock.modules.redis!;
  expect(entry).toMatchObject({ version: REDIS_VERSION, framework: 'fastapi', options: { cache_ttl: 77 } });
  const vendored = listAll(project, SNAP).map((p) => p.split(path.sep).join('/'));
  for (const p of vendored) expect(entry.files.get(p)?.class, p).toBe('vendor');
  expect(entry.files.get('app/redis_cache.py')?.class).toBe('wrapper');
  expect(entry.files.get('main.py')?.blocks).toHaveProperty('fastapi_wiring');
  const before = fs.readFileSync(path.join(project, LOCK));
  const again = await addJson(project, [], { RAPIDKIT_REDIS_FORCE_TTL: '77' });
  expect(again.json.files.find((f: any) => f.path === LOCK).action).toBe('unchanged');
  expect(fs.readFileSync(path.join(project, LOCK)).equals(before)).toBe(true);
  const v = await verify(project);
  expect(v.code, v.stdout).toBe(0);
  expect(v.report.ok).toBe(true);
});

test('changing one byte of each vendored file in turn is caught, naming module, file, both hashes and the remedy', async () => {
  const project = await installed('nestjs');
  const files = listAll(project, SNAP).map((p) => p.split(path.sep).join('/'));
  expect(files.length).toBeGreaterThan(10);
  for (const rel of files) {
    const abs = path.join(project, rel);
    const original = fs.readFileSync(abs);
    const changed = Buffer.from(original);
    changed[Math.floor(changed.length / 2)] ^= 0x01;
    fs.writeFileSync(abs, changed);
    const v = await verify(project);
    expect(v.code, rel).toBe(1);
    const p = v.report.problems.find((x) => x.path === rel);
    expect(p, rel).toMatchObject({ module: 'redis', status: 'changed', class: 'vendor' });
    expect(p!.expected).toMatch(/^[0-9a-f]{64}$/);
    expect(p!.actual).toMatch(/^[0-9a-f]{64}$/);
    expect(p!.expected).not.toBe(p!.actual);
    expect(p!.remedy).toContain('gen add module redis');
    fs.writeFileSync(abs, original);
  }
  const text = await runGen(['modules', 'verify-all', '--project', project]);
  expect(text.code).toBe(0);
}, 120_000);

test('a deleted file, an extra file, and a pinned version missing on disk fail', async () => {
  const project = await installed('fastapi');
  const victim = `${SNAP}/python/rapidkit_redis/breaker.py`;
  fs.rmSync(path.join(project, victim));
  let v = await verify(project);
  expect(v.code).toBe(1);
  expect(v.report.problems).toContainEqual(expect.objectContaining({ path: victim, status: 'missing' }));

  expect((await runGen(['add', 'module', 'redis', '--project', project])).code).toBe(0); // restores it
  fs.writeFileSync(path.join(project, SNAP, 'python', 'rapidkit_redis', 'backdoor.py'), 'print("hi")\n');
  v = await verify(project);
  expect(v.code).toBe(1);
  expect(v.report.problems).toContainEqual(expect.objectContaining({ path: `${SNAP}/python/rapidkit_redis/backdoor.py`, status: 'extra' }));
  fs.rmSync(path.join(project, SNAP, 'python', 'rapidkit_redis', 'backdoor.py'));

  const wrapper = path.join(project, 'app', 'redis_cache.py');
  fs.writeFileSync(wrapper, fs.readFileSync(wrapper, 'utf8').replace(`VENDOR_VERSION = "${REDIS_VERSION}"`, 'VENDOR_VERSION = "9.9.9"'));
  v = await verify(project);
  expect(v.code).toBe(1);
  expect(v.report.problems).toContainEqual(
    expect.objectContaining({ path: 'app/redis_cache.py', status: 'pinned-missing', expected: '9.9.9' }),
  );
  expect(v.report.problems.find((p) => p.status === 'pinned-missing')!.message).toContain('.rapidkit/vendor/redis/9.9.9');
});

test('an edited wrapper or snippet is "modified (allowed)", and fails under --strict', async () => {
  const project = await installed('fastify');
  fs.appendFileSync(path.join(project, 'src/plugins/redis.ts'), '\n// my tweak\n');
  let v = await verify(project);
  expect(v.code).toBe(0);
  expect(v.report.modified).toContainEqual(expect.objectContaining({ path: 'src/plugins/redis.ts', status: 'modified', fails: false }));
  const text = await runGen(['modules', 'verify-all', '--project', project]);
  expect(text.stdout).toContain('wrapper src/plugins/redis.ts modified (allowed)');
  v = await verify(project, ['--strict']);
  expect(v.code).toBe(1);
  expect(v.report.problems).toContainEqual(expect.objectContaining({ path: 'src/plugins/redis.ts', status: 'modified', fails: true }));

  const compose = path.join(project, 'docker-compose.yml');
  fs.writeFileSync(compose, fs.readFileSync(compose, 'utf8').replace('allkeys-lru', 'noeviction'));
  v = await verify(project, ['--strict']);
  expect(v.report.problems).toContainEqual(expect.objectContaining({ path: 'docker-compose.yml', class: 'snippet', status: 'modified' }));
});

test('drift: a vendored file rewritten together with its lock line (and even the digest) is still caught by regeneration', async () => {
  const project = await installed('fastapi');
  const rel = `${SNAP}/python/rapidkit_redis/serialization.py`;
  const tampered = fs.readFileSync(path.join(project, rel), 'utf8') + '\n# tampered\n';
  fs.writeFileSync(path.join(project, rel), tampered);
  const lockFile = path.join(project, LOCK);
  const original = readLock(project)!.modules.redis!;
  const forged = createHash('sha256').update(tampered).digest('hex');
  let text = fs.readFileSync(lockFile, 'utf8').replace(original.files.get(rel)!.sha256, forged);
  fs.writeFileSync(lockFile, text);
  // the lock line alone: the lock's own aggregate digest no longer matches its lines
  let v = await verify(project);
  expect(v.code).toBe(1);
  expect(v.report.problems).toContainEqual(
    expect.objectContaining({ path: LOCK, class: 'module', status: 'changed', expected: original.digest }),
  );
  expect(v.report.problems.some((p) => p.class === 'vendor' && p.status === 'changed')).toBe(false); // the re-hash alone is fooled
  // a forger who also recomputes the digest: regeneration from the lock's options still disagrees
  const files = new Map(original.files);
  files.set(rel, { class: 'vendor', sha256: forged });
  text = text.replace(original.digest, aggregateDigest(files));
  fs.writeFileSync(lockFile, text);
  v = await verify(project);
  expect(v.code).toBe(1);
  expect(v.report.problems.some((p) => p.class === 'module')).toBe(false);
  expect(v.report.problems).toEqual([expect.objectContaining({ path: rel, class: 'vendor', status: 'drift', expected: forged })]);
});

test('the lock and every output hold no secret', async () => {
  const secret = 'Lock-S3cret-Value-42';
  const project = copyExample('nestjs', 'lock-secret');
  fs.writeFileSync(path.join(project, '.env'), 'A=1\n');
  const outputs: string[] = [];
  const r = await addJson(project, [], { RAPIDKIT_REDIS_FORCE_PASSWORD: secret });
  outputs.push(r.stdout, r.stderr);
  expect(r.code).toBe(0);
  for (const args of [
    ['modules', 'verify-all', '--project', project],
    ['modules', 'verify-all', '--project', project, '--json'],
    ['modules', 'lock', '--project', project, '--overwrite', '--json'],
  ]) {
    const o = await runGen(args, { env: { RAPIDKIT_REDIS_FORCE_PASSWORD: secret } });
    outputs.push(o.stdout, o.stderr);
  }
  for (const o of outputs) expect(o).not.toContain(secret);
  for (const [p] of snapshotTree(project))
    if (p !== '.env') expect(fs.readFileSync(path.join(project, p), 'utf8'), p).not.toContain(secret);
  const lock = fs.readFileSync(path.join(project, LOCK), 'utf8');
  expect(lock).toContain('env: REDIS_PASSWORD');
  expect(lock).not.toContain('env:\n'); // the .env block (which holds the secret) is not hashed into the lock
});

test('gen modules lock: refuses an existing lock without --overwrite; rebuilds the same lock from the snapshot', async () => {
  const project = await installed('nestjs', { RAPIDKIT_REDIS_PROJECT_NAME: 'Shop API' });
  const original = fs.readFileSync(path.join(project, LOCK), 'utf8');
  const refused = await runGen(['modules', 'lock', '--project', project]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('--overwrite');
  // over a readable lock: the same bytes, the record of what gen added to package.json carried over
  const over = await runGen(['modules', 'lock', '--project', project, '--overwrite']);
  expect(over.code, over.stderr).toBe(0);
  expect(fs.readFileSync(path.join(project, LOCK), 'utf8')).toBe(original);
  // from nothing: the same lock but for that record, which only the lock held (remove then keeps those entries)
  expect(original).toMatch(/\n    dependencies:\n      ioredis: \^5\.4\.0\n/);
  fs.rmSync(path.join(project, LOCK));
  const rebuilt = await runGen(['modules', 'lock', '--project', project]);
  expect(rebuilt.code, rebuilt.stderr).toBe(0);
  expect(fs.readFileSync(path.join(project, LOCK), 'utf8')).toBe(original.replace(/\n    dependencies:\n      ioredis: \^5\.4\.0\n/, '\n'));
  const again = await runGen(['modules', 'lock', '--project', project, '--overwrite', '--json']);
  expect(JSON.parse(again.stdout)).toMatchObject({
    written: false,
    modules: [{ name: 'redis', version: REDIS_VERSION, framework: 'nestjs' }],
  });
});

describe('vet and version drift of the module definition', () => {
  function catalogueCopy(): string {
    const cat = tempDir('vet-cat');
    for (const p of ['module.yaml', 'modules', 'templates', 'docs'])
      fs.cpSync(path.join(REPO, p), path.join(cat, p), { recursive: true, filter: (s) => !s.includes('node_modules') });
    fs.rmSync(path.join(cat, 'modules/redis/.module-state.json'), { force: true });
    return cat;
  }

  test('the repository catalogue passes vet (schema, templates, variables, docs, changelog, recorded hash)', async () => {
    const r = await runGen(['modules', 'vet', '--json']);
    const all = vetAllReportSchema.parse(JSON.parse(r.stdout));
    expect(all.reports.flatMap((x) => x.problems)).toEqual([]);
    expect(all.ok).toBe(true);
    expect(r.code).toBe(0);
  });

  test('a template edited without a bump fails vet and add; --bump patch fixes both', async () => {
    const cat = catalogueCopy();
    const env = { GEN_CATALOGUE: cat };
    expect((await runGen(['modules', 'vet', 'redis', '--record'], { env })).code).toBe(0);
    fs.appendFileSync(path.join(cat, 'templates/redis/snippets/readme.md.hbs'), '\nMore docs.\n');
    const vet = await runGen(['modules', 'vet', 'redis', '--json'], { env });
    expect(vet.code).toBe(1);
    const report = vetReportSchema.parse(JSON.parse(vet.stdout));
    expect(report.problems).toContainEqual(
      expect.objectContaining({ check: 'version', remedy: expect.stringContaining('gen modules vet redis --bump patch') }),
    );
    const project = copyExample('fastapi', 'vet-add');
    const before = snapshotTree(project);
    const add = await runGen(['add', 'module', 'redis', '--project', project], { env });
    expect(add.code).toBe(2);
    expect(add.stderr).toContain('without a version bump');
    expect(add.stderr).toContain('gen modules vet redis --bump patch');
    expect(snapshotTree(project)).toEqual(before);

    const bump = await runGen(['modules', 'vet', 'redis', '--bump', 'patch', '--json'], { env });
    expect(bump.code, bump.stdout).toBe(0);
    const next = REDIS_VERSION.replace(/\d+$/, (patch) => String(Number(patch) + 1));
    expect(vetReportSchema.parse(JSON.parse(bump.stdout))).toMatchObject({ ok: true, bumped: next, version: next });
    const yaml = fs.readFileSync(path.join(cat, 'modules/redis/module.yaml'), 'utf8');
    expect(yaml).toMatch(new RegExp(`^version: ${next.replace(/\./g, '\\.')}$`, 'm'));
    expect(yaml).toContain(`- version: ${next}`);
    expect(yaml).toContain('# Canonical definition of the redis module'); // comments kept
    const ok = await addJson(project, [], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.version).toBe(next);
    expect(fs.existsSync(path.join(project, `.rapidkit/vendor/redis/${next}`))).toBe(true);
  });

  test('vet names undeclared variables and missing documentation', async () => {
    const cat = catalogueCopy();
    fs.appendFileSync(path.join(cat, 'templates/redis/wrappers/fastapi/snippet-wiring.py.hbs'), '# {{vars.colour}}\n');
    fs.rmSync(path.join(cat, 'docs/cache-contract.md'));
    const r = await runGen(['modules', 'vet', 'redis', '--json'], { env: { GEN_CATALOGUE: cat } });
    expect(r.code).toBe(1);
    const report = vetReportSchema.parse(JSON.parse(r.stdout));
    expect(report.problems).toContainEqual(
      expect.objectContaining({ check: 'variables', message: expect.stringContaining("'vars.colour'") }),
    );
    expect(report.problems).toContainEqual(expect.objectContaining({ check: 'documentation', file: 'docs/cache-contract.md' }));
  });
});

test('docs/ci.md gives a GitHub Actions job that runs verify-all', () => {
  const ci = fs.readFileSync(path.join(REPO, 'docs/ci.md'), 'utf8');
  expect(ci).toContain('npx gen modules verify-all');
  expect(ci).toMatch(/runs-on:/);
});

test('verify-all without a lock, or with a malformed one, is a usage error (exit 2) with the remedy', async () => {
  const empty = tempDir('no-lock');
  let r = await runGen(['modules', 'verify-all', '--project', empty]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('.rapidkit/modules.lock.yaml not found');
  expect(r.stderr).toContain('gen modules lock');
  const project = await installed('fastapi');
  const lockFile = path.join(project, LOCK);
  fs.writeFileSync(lockFile, fs.readFileSync(lockFile, 'utf8').replace(/vendor {2}\.rapidkit/, 'vendr  .rapidkit'));
  r = await runGen(['modules', 'verify-all', '--project', project, '--json']);
  expect(r.code).toBe(2);
  expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 2, file: LOCK, hint: expect.stringContaining('gen modules lock --overwrite') });
});
