// The lock and verify-all on the small fixture module (test/fixtures/catalogue): fast and independent of the
// real redis templates, which other work changes. test/lock/lock.test.ts runs the same checks on redis.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { aggregateDigest, readLock } from '../../src/lock/read.js';
import { lockReportSchema } from '../../src/check/reports.js';
import { lockSchema } from '../../src/lock/schema.js';
import { listAll, addTiny, gen, LOCK, TINY_SNAP, tinyCatalogue, tinyProject, verifyJson } from '../helpers.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('the lock written by add', () => {
  test('every owned file with its sha256 and class, options (secrets by reference), one aggregate; byte-identical on a no-op re-run', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    const env = { RAPIDKIT_TINY_GREETING: 'hi there', RAPIDKIT_TINY_FORCE_TOKEN: 'tok-0123456789' };
    await addTiny(cat, project, env);
    const text = fs.readFileSync(path.join(project, LOCK), 'utf8');
    const lock = lockSchema.parse(readLock(project));
    const entry = lock.modules.tiny!;
    expect(entry).toMatchObject({ version: '1.0.0', framework: 'plain', generator: expect.any(String) });
    expect(entry.options).toEqual({
      api_token: { secret: true, env: 'API_TOKEN' },
      greeting: 'hi there',
      project_name: path.basename(project),
    });
    const state = JSON.parse(fs.readFileSync(path.join(cat, 'modules/tiny/.module-state.json'), 'utf8'));
    expect(entry.templates).toBe(state.versions['1.0.0']);

    // every file of the snapshot is a vendor entry with the sha256 of its bytes, and nothing else is
    const snapshot = listAll(path.join(project, TINY_SNAP)).map((p) => `${TINY_SNAP}/${p}`);
    expect(snapshot).toEqual(
      [
        '_gen.json',
        '_pristine/_snippets/readme',
        '_pristine/src/tiny.js',
        'runtime/config.js',
        'runtime/core.js',
        'runtime/lib/util.js',
      ].map((p) => `${TINY_SNAP}/${p}`),
    );
    for (const p of snapshot)
      expect(entry.files.get(p), p).toEqual({ class: 'vendor', sha256: sha(fs.readFileSync(path.join(project, p))) });
    expect(entry.files.get('src/tiny.js')).toEqual({ class: 'wrapper', sha256: sha(fs.readFileSync(path.join(project, 'src/tiny.js'))) });
    // the pristine copy is gen's rendering of the wrapper: the base of a later 3-way merge
    expect(entry.files.get(`${TINY_SNAP}/_pristine/src/tiny.js`)!.sha256).toBe(entry.files.get('src/tiny.js')!.sha256);
    // snippets by their marked block; the secrets snippet (.env) is not hashed at all
    expect(entry.files.get('README.md')).toMatchObject({ class: 'snippet', blocks: { readme: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(entry.files.has('.env')).toBe(false);
    expect([...entry.files.keys()].filter((p) => !p.startsWith(TINY_SNAP)).sort()).toEqual(['README.md', 'src/tiny.js']);
    // aggregate: sha256 over the module's files block exactly as written (what `sha256sum` of it prints)
    const block = /^ {4}files: \|\n((?: {6}.*\n)+)/m.exec(text)![1]!.replace(/^ {6}/gm, '');
    expect(entry.digest).toBe(`sha256:${sha(block)}`);
    expect(aggregateDigest(entry.files)).toBe(entry.digest);
    // one line per file, sorted, no timestamp
    expect(text).toMatch(/^ {6}[0-9a-f]{64} {2}wrapper {2}src\/tiny\.js$/m);
    expect(text).not.toMatch(/20\d\d-\d\d-\d\dT/);

    const again = await gen(cat, ['add', 'module', 'tiny', '--project', project, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).files.every((f: { action: string }) => f.action === 'unchanged')).toBe(true);
    expect(fs.readFileSync(path.join(project, LOCK), 'utf8')).toBe(text);
  });

  test('written in the same all-or-nothing flush: a failed add leaves the previous lock byte for byte', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    const first = await gen(cat, ['add', 'module', 'tiny', '--project', project], { GEN_FAULT_AFTER: '3' });
    expect(first.code).not.toBe(0);
    expect(fs.existsSync(path.join(project, LOCK))).toBe(false);
    await addTiny(cat, project);
    const before = fs.readFileSync(path.join(project, LOCK));
    for (const after of ['0', '1', '2', '3']) {
      // retries=9 changes config.js, _gen.json, README.md and the lock
      const r = await gen(cat, ['add', 'module', 'tiny', '--project', project, '--set', 'retries=9'], { GEN_FAULT_AFTER: after });
      expect(r.code, after).not.toBe(0);
      expect(fs.readFileSync(path.join(project, LOCK)).equals(before), after).toBe(true);
      expect((await verifyJson(cat, project)).code, after).toBe(0);
    }
    await addTiny(cat, project, {}, ['--set', 'retries=9']);
    expect(readLock(project)!.modules.tiny!.options.retries).toBe(9);
    expect((await verifyJson(cat, project)).code).toBe(0);
  });

  test('no secret anywhere but .env: not in the lock, the snapshot, the wrapper, or any output', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    const secret = 'Fixture-S3cret-Token-77';
    const env = { RAPIDKIT_TINY_FORCE_TOKEN: secret };
    const outputs: string[] = [];
    for (const args of [
      ['add', 'module', 'tiny', '--project', project, '--dry-run', '--json'],
      ['add', 'module', 'tiny', '--project', project, '--diff'],
      ['add', 'module', 'tiny', '--project', project, '--yes'],
      ['add', 'module', 'tiny', '--project', project, '--json'],
      ['modules', 'verify-all', '--project', project],
      ['modules', 'verify-all', '--project', project, '--json', '--strict'],
      ['modules', 'lock', '--project', project, '--overwrite', '--json'],
      ['modules', 'lock', '--project', project, '--overwrite'],
    ]) {
      const r = await gen(cat, args, env);
      outputs.push(r.stdout, r.stderr);
    }
    for (const o of outputs) expect(o).not.toContain(secret);
    expect(fs.readFileSync(path.join(project, '.env'), 'utf8')).toContain(`API_TOKEN=${secret}`);
    for (const p of listAll(project)) if (p !== '.env') expect(fs.readFileSync(path.join(project, p), 'utf8'), p).not.toContain(secret);
    expect(fs.readFileSync(path.join(project, LOCK), 'utf8')).toContain('env: API_TOKEN');
  });
});

describe('verify-all', () => {
  test('a clean project passes; text and JSON agree', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const v = await verifyJson(cat, project);
    expect(v.code).toBe(0);
    expect(v.report).toMatchObject({
      ok: true,
      problems: [],
      modified: [],
      info: [],
      modules: [{ name: 'tiny', version: '1.0.0', framework: 'plain', latest: '1.0.0', files: 8, regenerated: true, ok: true }],
    });
    const t = await gen(cat, ['modules', 'verify-all', '--project', project]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('ok   tiny 1.0.0 (plain): 8 files checked, regenerated from the lock');
    expect(t.stdout).toContain('verify-all: everything matches the lock');
  });

  test('one changed byte in each vendored file in turn: caught, naming module, file, both hashes and the remedy', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const lock = readLock(project)!.modules.tiny!;
    const vendored = [...lock.files].filter(([, e]) => e.class === 'vendor').map(([p]) => p);
    expect(vendored).toHaveLength(6);
    for (const rel of vendored) {
      const abs = path.join(project, rel);
      const original = fs.readFileSync(abs);
      const changed = Buffer.from(original);
      changed[changed.length - 2] ^= 0x20;
      fs.writeFileSync(abs, changed);
      const v = await verifyJson(cat, project);
      expect(v.code, rel).toBe(1);
      expect(v.report.ok).toBe(false);
      expect(v.report.problems, rel).toEqual([
        {
          module: 'tiny',
          path: rel,
          class: 'vendor',
          status: 'changed',
          expected: lock.files.get(rel)!.sha256,
          actual: sha(changed),
          message: expect.stringContaining(rel),
          remedy: expect.stringContaining('gen add module tiny'),
          fails: true,
        },
      ]);
      const t = await gen(cat, ['modules', 'verify-all', '--project', project]);
      expect(t.code).toBe(1);
      expect(t.stdout).toContain(`CHANGED: tiny: vendored file ${rel} was changed`);
      expect(t.stdout).toContain(`expected: ${lock.files.get(rel)!.sha256}`);
      expect(t.stdout).toContain(`actual:   ${sha(changed)}`);
      expect(t.stdout).toContain('remedy:   vendored files are read-only; restore it with: gen add module tiny');
      fs.writeFileSync(abs, original);
    }
    expect((await verifyJson(cat, project)).code).toBe(0);
  });

  test('missing file, extra file, extra folder, a link in place of a file; add restores the snapshot', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const util = `${TINY_SNAP}/runtime/lib/util.js`;
    fs.rmSync(path.join(project, util));
    fs.writeFileSync(path.join(project, TINY_SNAP, 'runtime', 'evil.js'), 'steal()\n');
    fs.mkdirSync(path.join(project, TINY_SNAP, 'runtime', 'more'));
    fs.writeFileSync(path.join(project, TINY_SNAP, 'runtime', 'more', 'x.js'), '1\n');
    fs.mkdirSync(path.join(project, TINY_SNAP, 'runtime', '__pycache__')); // bytecode caches are not content
    fs.writeFileSync(path.join(project, TINY_SNAP, 'runtime', '__pycache__', 'core.cpython-312.pyc'), 'x');
    const core = path.join(project, TINY_SNAP, 'runtime/core.js');
    fs.renameSync(core, path.join(project, 'core-copy.js'));
    fs.symlinkSync(path.join(project, 'core-copy.js'), core); // same bytes, but not a regular file in the snapshot
    const v = await verifyJson(cat, project);
    expect(v.code).toBe(1);
    const by = (p: string) => v.report.problems.filter((x) => x.path === p).map((x) => x.status);
    expect(by(util)).toEqual(['missing']);
    expect(by(`${TINY_SNAP}/runtime/evil.js`)).toEqual(['extra']);
    expect(v.report.problems.find((x) => x.path === `${TINY_SNAP}/runtime/evil.js`)!.actual).toBe(sha('steal()\n'));
    expect(by(`${TINY_SNAP}/runtime/more`)).toEqual(['extra']);
    expect(by(`${TINY_SNAP}/runtime/core.js`)).toEqual(['missing']);
    expect(v.report.problems.some((x) => x.path.includes('__pycache__'))).toBe(false);

    fs.rmSync(core);
    fs.rmSync(path.join(project, TINY_SNAP, 'runtime', 'evil.js'));
    fs.rmSync(path.join(project, TINY_SNAP, 'runtime', 'more'), { recursive: true });
    await addTiny(cat, project);
    expect((await verifyJson(cat, project)).code).toBe(0);

    // a file renamed within its folder: the folder holds as many entries as the lock implies, and still the
    // missing name and the unknown one are both reported (the count shortcut applies only when all hashed)
    fs.renameSync(path.join(project, util), path.join(project, TINY_SNAP, 'runtime/lib/util2.js'));
    const renamed = await verifyJson(cat, project);
    expect(renamed.report.problems.map((x) => [x.path, x.status])).toEqual([
      [util, 'missing'],
      [`${TINY_SNAP}/runtime/lib/util2.js`, 'extra'],
    ]);
    fs.renameSync(path.join(project, TINY_SNAP, 'runtime/lib/util2.js'), path.join(project, util));

    // a committed link to a device never makes verify read forever
    fs.rmSync(path.join(project, 'src/tiny.js'));
    fs.symlinkSync('/dev/zero', path.join(project, 'src/tiny.js'));
    fs.rmSync(path.join(project, TINY_SNAP, 'runtime', 'lib'), { recursive: true });
    fs.symlinkSync('/dev', path.join(project, TINY_SNAP, 'runtime', 'lib'));
    const dev = await verifyJson(cat, project);
    expect(dev.code).toBe(1);
    expect(dev.report.problems).toContainEqual(expect.objectContaining({ path: 'src/tiny.js', class: 'wrapper', status: 'missing' }));
    expect(dev.report.problems).toContainEqual(expect.objectContaining({ path: util, status: 'missing' }));
    expect(dev.report.problems).toContainEqual(
      expect.objectContaining({ path: `${TINY_SNAP}/runtime/lib`, status: 'changed', message: expect.stringContaining('is not a folder') }),
    );
    expect(dev.report.problems.some((p) => p.path.includes('/lib/zero'))).toBe(false); // the link is not walked
    fs.rmSync(path.join(project, 'src/tiny.js'));
    fs.rmSync(path.join(project, TINY_SNAP, 'runtime', 'lib'));
    await addTiny(cat, project);

    fs.rmSync(path.join(project, TINY_SNAP), { recursive: true });
    const gone = await verifyJson(cat, project);
    expect(gone.code).toBe(1);
    expect(gone.report.problems).toContainEqual(expect.objectContaining({ path: TINY_SNAP, status: 'missing' }));
  });

  test('an edited wrapper or snippet is "modified (allowed)"; --strict fails on it', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    fs.appendFileSync(path.join(project, 'src/tiny.js'), 'export const mine = 1;\n');
    fs.writeFileSync(
      path.join(project, 'README.md'),
      fs.readFileSync(path.join(project, 'README.md'), 'utf8').replace('retries', 'attempts'),
    );
    let v = await verifyJson(cat, project);
    expect(v.code).toBe(0);
    expect(v.report.ok).toBe(true);
    expect(v.report.modified).toEqual([
      expect.objectContaining({ path: 'README.md', class: 'snippet', status: 'modified', fails: false }),
      expect.objectContaining({ path: 'src/tiny.js', class: 'wrapper', status: 'modified', fails: false, remedy: null }),
    ]);
    for (const c of v.report.modified)
      expect(Object.keys(c)).toEqual(['module', 'path', 'class', 'status', 'expected', 'actual', 'message', 'remedy', 'fails']);
    const t = await gen(cat, ['modules', 'verify-all', '--project', project]);
    expect(t.stdout).toContain('tiny: wrapper src/tiny.js modified (allowed)');
    expect(t.stdout).toContain('tiny: snippet readme in README.md was edited (allowed)');
    v = await verifyJson(cat, project, ['--strict']);
    expect(v.code).toBe(1);
    expect(v.report.strict).toBe(true);
    expect(v.report.problems.map((p) => [p.path, p.status, p.fails])).toEqual([
      ['README.md', 'modified', true],
      ['src/tiny.js', 'modified', true],
    ]);
    expect(v.report.problems[1]!.remedy).toContain(`${TINY_SNAP}/_pristine/src/tiny.js`);
  });

  test('a wrapper pinning a version that is not vendored fails; one pinning an unlocked snapshot fails too', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const wrapper = path.join(project, 'src/tiny.js');
    const original = fs.readFileSync(wrapper, 'utf8');
    fs.writeFileSync(wrapper, original.replace('VENDOR_VERSION = "1.0.0"', 'VENDOR_VERSION = "2.0.0"'));
    let v = await verifyJson(cat, project);
    expect(v.code).toBe(1);
    expect(v.report.problems).toContainEqual(
      expect.objectContaining({
        path: 'src/tiny.js',
        class: 'wrapper',
        status: 'pinned-missing',
        expected: '2.0.0',
        actual: null,
        message: expect.stringContaining('.rapidkit/vendor/tiny/2.0.0'),
      }),
    );
    // the pinned snapshot exists but the lock does not cover it: the code that runs would be unverified
    fs.cpSync(path.join(project, TINY_SNAP), path.join(project, '.rapidkit/vendor/tiny/2.0.0'), { recursive: true });
    v = await verifyJson(cat, project);
    expect(v.code).toBe(1);
    expect(v.report.problems).toContainEqual(
      expect.objectContaining({ path: 'src/tiny.js', status: 'drift', expected: '1.0.0', actual: '2.0.0' }),
    );
    expect(v.report.info).toContainEqual(expect.stringContaining('.rapidkit/vendor/tiny/2.0.0 not covered by the lock'));
  });

  test("drift: regeneration from the lock's options disagrees with a lock (and snapshot) forged consistently", async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const rel = `${TINY_SNAP}/runtime/config.js`;
    const forgedContent = fs.readFileSync(path.join(project, rel), 'utf8').replace('"hello"', '"evil"');
    fs.writeFileSync(path.join(project, rel), forgedContent);
    const lock = readLock(project)!.modules.tiny!;
    const files = new Map(lock.files);
    files.set(rel, { class: 'vendor', sha256: sha(forgedContent) });
    const lockFile = path.join(project, LOCK);
    fs.writeFileSync(
      lockFile,
      fs
        .readFileSync(lockFile, 'utf8')
        .replace(lock.files.get(rel)!.sha256, sha(forgedContent))
        .replace(lock.digest, aggregateDigest(files)),
    );
    const v = await verifyJson(cat, project);
    expect(v.code).toBe(1);
    expect(v.report.problems).toEqual([
      expect.objectContaining({
        path: rel,
        class: 'vendor',
        status: 'drift',
        expected: sha(forgedContent),
        actual: lock.files.get(rel)!.sha256,
      }),
    ]);

    // an option changed in the lock without re-rendering: the snapshot no longer matches what the lock describes
    await addTiny(cat, project); // restores config.js and the lock
    fs.writeFileSync(lockFile, fs.readFileSync(lockFile, 'utf8').replace(/^( {4}options:\n)/m, '$1      retries: 7\n'));
    const w = await verifyJson(cat, project);
    expect(w.code).toBe(1);
    expect(w.report.problems.map((p) => [p.path, p.status])).toEqual([
      [`${TINY_SNAP}/_gen.json`, 'drift'],
      [`${TINY_SNAP}/_pristine/_snippets/readme`, 'drift'],
      [`${TINY_SNAP}/runtime/config.js`, 'drift'],
    ]);
  });

  test('the lock is checked too: a hand-edited line fails its aggregate digest; a malformed lock is a usage error (2)', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const lockFile = path.join(project, LOCK);
    const good = fs.readFileSync(lockFile, 'utf8');
    const lock = readLock(project)!.modules.tiny!;
    const fake = 'f'.repeat(64);
    fs.writeFileSync(lockFile, good.replace(lock.files.get('src/tiny.js')!.sha256 + '  wrapper', `${fake}  wrapper`));
    const v = await verifyJson(cat, project);
    expect(v.code).toBe(1);
    expect(v.report.problems).toContainEqual(
      expect.objectContaining({ path: LOCK, class: 'module', status: 'changed', expected: lock.digest }),
    );

    const cases: Array<[string, string, string]> = [
      [good.replace('lockVersion: 1', 'lockVersion: 2'), 'lockVersion', "field 'lockVersion'"],
      [good.replace('    framework: plain\n', '    framework: plain\n    colour: blue\n'), 'modules.tiny.colour', 'unknown key'],
      [good.replace(/digest: sha256:[0-9a-f]+/, 'digest: sha256:xyz'), 'modules.tiny.digest', 'sha256:<64 hex digits>'],
      [good.replace('  wrapper  src/tiny.js', '  wrapper  ../outside.js'), 'modules.tiny.files', 'not a relative path inside the project'],
      [good.replace(/^( {6}[0-9a-f]{64} {2}wrapper {2}src\/tiny\.js)$/m, '$1\n$1'), 'modules.tiny.files', 'listed twice'],
      [good.replace('  wrapper  src/tiny.js', '  wrapped  src/tiny.js'), 'modules.tiny.files', "expected '<sha256>"],
      [good.replace('modules:', 'modules: [oops'), '', 'invalid YAML'],
    ];
    for (const [text, field, words] of cases) {
      fs.writeFileSync(lockFile, text);
      const r = await gen(cat, ['modules', 'verify-all', '--project', project, '--json']);
      expect(r.code, words).toBe(2);
      const err = JSON.parse(r.stdout);
      expect(err.error, words).toContain(words);
      if (field) expect(err.field).toBe(field);
      expect(err.hint).toContain('gen modules lock --overwrite');
    }
    fs.writeFileSync(lockFile, good);
    expect((await verifyJson(cat, project)).code).toBe(0);
  });

  test('a snapshot written before gen kept pristine snippet blocks (and its lock) verifies, and re-locks, as it is', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    // what an older gen wrote: no _pristine/_snippets folder, no lock line for it
    const blocks = `${TINY_SNAP}/_pristine/_snippets`;
    fs.rmSync(path.join(project, blocks), { recursive: true });
    const lock = readLock(project)!.modules.tiny!;
    const files = new Map([...lock.files].filter(([p]) => !p.startsWith(`${blocks}/`)));
    const lockFile = path.join(project, LOCK);
    const text = fs
      .readFileSync(lockFile, 'utf8')
      .split('\n')
      .filter((l) => !l.includes(`${blocks}/`))
      .join('\n')
      .replace(lock.digest, aggregateDigest(files));
    fs.writeFileSync(lockFile, text);
    const v = await verifyJson(cat, project);
    expect(v.code, v.stdout).toBe(0);
    expect(v.report.problems).toEqual([]);
    const relock = await gen(cat, ['modules', 'lock', '--project', project, '--overwrite']);
    expect(relock.code, relock.stderr).toBe(0);
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(text);
    // the folder back without a lock line for it: an extra folder, as any other
    fs.mkdirSync(path.join(project, blocks));
    fs.writeFileSync(path.join(project, blocks, 'readme'), 'x');
    const extra = await verifyJson(cat, project);
    expect(extra.code).toBe(1);
    expect(extra.report.problems.map((p) => [p.path, p.status])).toEqual([[blocks, 'extra']]);
  });

  test('a newer version in the catalogue is information, not a failure', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    fs.appendFileSync(path.join(cat, 'templates/tiny/runtime/core.js'), 'export const v2 = true;\n');
    const bump = await gen(cat, ['modules', 'vet', 'tiny', '--bump', 'minor']);
    expect(bump.code, bump.stdout).toBe(0);
    const v = await verifyJson(cat, project);
    expect(v.code).toBe(0);
    expect(v.report.modules).toEqual([
      expect.objectContaining({ name: 'tiny', version: '1.0.0', latest: '1.1.0', regenerated: false, ok: true }),
    ]);
    expect(v.report.info).toEqual([expect.stringContaining('tiny: 1.1.0 is available (installed 1.0.0')]);
    const t = await gen(cat, ['modules', 'verify-all', '--project', project]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('info: tiny: 1.1.0 is available');
    // integrity is still checked without regeneration
    fs.appendFileSync(path.join(project, TINY_SNAP, 'runtime/core.js'), '//\n');
    expect((await verifyJson(cat, project)).code).toBe(1);
  });

  test('no lock: usage error (2) naming the remedy; never prompts', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    const r = await gen(cat, ['modules', 'verify-all', '--project', project]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${LOCK} not found`);
    expect(r.stderr).toContain('gen modules lock');
  });
});

describe('gen modules lock', () => {
  test('refuses an existing lock without --overwrite (1); rebuilds the same bytes from the snapshot manifest', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project, { RAPIDKIT_TINY_RETRIES: '5', RAPIDKIT_TINY_FORCE_TOKEN: 'abcdefgh12345' });
    const lockFile = path.join(project, LOCK);
    const original = fs.readFileSync(lockFile, 'utf8');
    const refused = await gen(cat, ['modules', 'lock', '--project', project]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${LOCK} already exists`);
    expect(refused.stderr).toContain('--overwrite');
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(original);

    fs.rmSync(lockFile);
    const rebuilt = await gen(cat, ['modules', 'lock', '--project', project, '--json']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const report = lockReportSchema.parse(JSON.parse(rebuilt.stdout));
    expect(report).toMatchObject({ written: true, modules: [{ name: 'tiny', version: '1.0.0', framework: 'plain', files: 8 }] });
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(original);
    const again = await gen(cat, ['modules', 'lock', '--project', project, '--overwrite', '--json']);
    expect(lockReportSchema.parse(JSON.parse(again.stdout)).written).toBe(false);

    // re-locking never blesses an edited vendored file: the lock records what gen renders
    fs.appendFileSync(path.join(project, TINY_SNAP, 'runtime/core.js'), '// tampered\n');
    expect((await gen(cat, ['modules', 'lock', '--project', project, '--overwrite'])).code).toBe(0);
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(original);
    expect((await verifyJson(cat, project)).report.problems).toEqual([
      expect.objectContaining({ path: `${TINY_SNAP}/runtime/core.js`, status: 'changed' }),
    ]);
  });

  test('nothing installed, a broken manifest, or a catalogue changed without a bump: usage error (2), nothing written', async () => {
    const cat = await tinyCatalogue();
    const r = await gen(cat, ['modules', 'lock', '--project', tinyProject()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Run 'gen add module <name>' first");

    const project = tinyProject();
    await addTiny(cat, project);
    fs.rmSync(path.join(project, LOCK));
    const manifest = path.join(project, TINY_SNAP, '_gen.json');
    const good = fs.readFileSync(manifest, 'utf8');
    fs.writeFileSync(manifest, '{ not json');
    let b = await gen(cat, ['modules', 'lock', '--project', project, '--json']);
    expect(b.code).toBe(2);
    expect(JSON.parse(b.stdout)).toMatchObject({ file: `${TINY_SNAP}/_gen.json`, hint: 'Re-install it: gen add module tiny' });
    fs.writeFileSync(manifest, good.replace('"plain"', '42'));
    b = await gen(cat, ['modules', 'lock', '--project', project, '--json']);
    expect(b.code).toBe(2);
    expect(JSON.parse(b.stdout)).toMatchObject({ field: 'framework' });
    fs.writeFileSync(manifest, good);
    fs.appendFileSync(path.join(cat, 'templates/tiny/runtime/core.js'), '//\n');
    b = await gen(cat, ['modules', 'lock', '--project', project]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('gen modules vet tiny --bump patch');
    expect(fs.existsSync(path.join(project, LOCK))).toBe(false);
  });
});

describe('a module that does not declare project_name', () => {
  test('records the folder name it was rendered with, so a checkout under another name verifies (CI)', async () => {
    const cat = await tinyCatalogue(false);
    const yamlFile = path.join(cat, 'modules/tiny/module.yaml');
    fs.writeFileSync(yamlFile, fs.readFileSync(yamlFile, 'utf8').replace(/ {2}project_name:\n(?: {4}.*\n)+/, ''));
    expect(fs.readFileSync(yamlFile, 'utf8')).not.toContain('project_name');
    const r = await gen(cat, ['modules', 'vet', 'tiny', '--record']);
    expect(r.code, r.stdout).toBe(0);
    const project = tinyProject('shop-api');
    await addTiny(cat, project);
    const lock = readLock(project)!.modules.tiny!;
    expect(lock.options.project_name).toBe(path.basename(project));
    const checkout = path.join(path.dirname(project), `elsewhere-${path.basename(project)}`);
    fs.cpSync(project, checkout, { recursive: true, verbatimSymlinks: true });
    const v = await verifyJson(cat, checkout);
    expect(v.code, JSON.stringify(v.report.problems)).toBe(0);
    expect(v.report.modules[0]).toMatchObject({ regenerated: true, ok: true });
    // and a re-run of add there keeps the recorded name (nothing to change)
    const again = await gen(cat, ['add', 'module', 'tiny', '--project', checkout, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).files.every((f: { action: string }) => f.action === 'unchanged')).toBe(true);
  });
});
