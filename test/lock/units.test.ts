// In-process unit tests: hashing, the lock's block split, and rendering from release digests vs reading the templates.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { resolveOptions } from '../../src/engine/options.js';
import { renderedHash, renderModuleFileMap, renderModuleFiles } from '../../src/engine/render.js';
import { hashFileSync, prewarmHashing, startHashing, type Digests } from '../../src/check/hash.js';
import { parseLock } from '../../src/lock/read.js';
import { splitFileBlocks, vendorPaths } from '../../src/lock/scan.js';
import { lockSchema, type Lock } from '../../src/lock/schema.js';
import { renderLock } from '../../src/lock/write.js';
import { loadModule } from '../../src/module/load.js';
import { digestLines, readState, templateDigests } from '../../src/module/state.js';
import { REPO, tempDir } from '../helpers.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('hashing', () => {
  test('many files on worker threads and this thread: every digest right, missing/folder/link → null', async () => {
    const dir = tempDir('hash');
    const files: string[] = [];
    const expected: Array<string | null> = [];
    for (let i = 0; i < 700; i++) {
      const f = path.join(dir, `f${i}.txt`);
      const body = Buffer.alloc(i * 37, String(i % 10));
      fs.writeFileSync(f, body);
      files.push(f);
      expected.push(sha(body));
    }
    const big = path.join(dir, 'big.bin'); // larger than the 1 MiB read buffer: read in chunks
    const bigBody = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    fs.writeFileSync(big, bigBody);
    fs.mkdirSync(path.join(dir, 'folder'));
    fs.symlinkSync(files[0]!, path.join(dir, 'link'));
    fs.symlinkSync('/dev', path.join(dir, 'devices')); // a linked folder is followed, but a device is never read to its (absent) end
    files.push(big, path.join(dir, 'missing'), path.join(dir, 'folder'), path.join(dir, 'link'), path.join(dir, 'devices', 'zero'));
    expected.push(sha(bigBody), null, null, null, null);
    const all = (d: Digests) => Array.from({ length: d.length }, (_, i) => d.get(i));
    const threaded = await startHashing(files).finish();
    expect(all(threaded)).toEqual(expected);
    expect(all(await startHashing(files.slice(-7)).finish())).toEqual(expected.slice(-7)); // the inline path
    // compared in place: the right digest matches, any other (or none, for a file that did not hash) does not
    expect(expected.map((h, i) => threaded.is(i, h ?? sha('')))).toEqual(expected.map((h) => h !== null));
    expect(threaded.is(0, sha('other'))).toBe(false);
    expect(threaded.is(0, expected[0]!.slice(0, 63))).toBe(false);
    expect(hashFileSync(big)).toBe(sha(bigBody));
  });

  test('a warm worker that is gone before it gets its job is not given one: another hashes in its place', async () => {
    const gone = new Worker('', { eval: true }); // (a worker whose boot failed: it has exited)
    await new Promise((r) => gone.once('exit', r));
    prewarmHashing(gone);
    const files = Array.from({ length: 400 }, () => path.join(REPO, 'package.json'));
    const d = await startHashing(files).finish();
    expect(Array.from({ length: d.length }, (_, i) => d.get(i))).toEqual(files.map(() => sha(fs.readFileSync(files[0]!))));
  });

  test('a cancelled job leaves no unhandled rejection', async () => {
    const files = Array.from({ length: 400 }, (_, i) => path.join(REPO, 'package.json') + (i % 2 ? '' : '.missing'));
    const job = startHashing(files);
    job.cancel();
    await new Promise((r) => setTimeout(r, 50));
  });
});

describe('lock text', () => {
  const lock: Lock = {
    lockVersion: 1,
    modules: {
      zeta: {
        version: '2.0.0',
        framework: 'fastify',
        generator: '0.1.0',
        templates: `sha256:${'a'.repeat(64)}`,
        digest: `sha256:${'b'.repeat(64)}`,
        options: { name: 'Shop: API #1', n: 3, ok: true, none: null, pw: { secret: true, env: 'PW' } },
        files: new Map([
          ['.rapidkit/vendor/zeta/2.0.0/a b.js', { class: 'vendor', sha256: 'c'.repeat(64) }],
          ['src/z.ts', { class: 'wrapper', sha256: 'd'.repeat(64) }],
          ['README.md', { class: 'snippet', blocks: { one: 'e'.repeat(64), two: 'f'.repeat(64) } }],
        ]),
      },
      alpha: {
        version: '1.0.0',
        framework: 'fastapi',
        generator: '0.1.0',
        templates: `sha256:${'1'.repeat(64)}`,
        digest: `sha256:${'2'.repeat(64)}`,
        options: {},
        files: new Map([['.rapidkit/vendor/alpha/1.0.0/x.py', { class: 'vendor', sha256: '3'.repeat(64) }]]),
      },
    },
  };

  test('render → parse round-trips, sorted, and the fast split reads exactly what a YAML parser reads', () => {
    const text = renderLock(lock);
    expect(text.indexOf('  alpha:')).toBeLessThan(text.indexOf('  zeta:'));
    const back = parseLock(text);
    lockSchema.parse(back);
    expect(back.modules.zeta!.options).toEqual(lock.modules.zeta!.options);
    expect([...back.modules.zeta!.files.keys()].sort()).toEqual([...lock.modules.zeta!.files.keys()].sort());
    expect(back.modules.zeta!.files.get('README.md')!.blocks).toEqual({ one: 'e'.repeat(64), two: 'f'.repeat(64) });
    expect(renderLock(back)).toBe(text);
    const split = splitFileBlocks(text);
    expect(split.blocks).toHaveLength(2);
    expect(split.blocks.flatMap(vendorPaths).sort()).toEqual(['.rapidkit/vendor/alpha/1.0.0/x.py', '.rapidkit/vendor/zeta/2.0.0/a b.js']);
  });

  test('each files line is read whole: a bad one is named by its number, an empty one or a new order is not canonical', () => {
    const text = renderLock(lock);
    const zeta = (edit: (block: string) => string) =>
      text.replace(/( {4}files: \|\n)((?: {6}.*\n)+)(?=(?: {4}\S.*\n)*$)/, (_, head: string, block: string) => head + edit(block));
    const canonical = new Map<string, string>();
    parseLock(text, splitFileBlocks(text), canonical);
    expect([...canonical.keys()].sort()).toEqual(['alpha', 'zeta']);
    const error = (t: string) => {
      try {
        parseLock(t);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    // zeta's block is sorted by class: README.md#one, README.md#two, the vendored file, then the wrapper (line 4)
    for (const bad of ['  wrappers  src/z.ts', '  wrapper   src/z.ts', '  wrapper  '])
      expect(error(zeta((b) => b.replace(/  wrapper  src\/z\.ts/, bad))), JSON.stringify(bad)).toContain(
        'modules.zeta.files line 4: expected',
      );
    expect(
      error(zeta((b) => b.replace(/^( {6}[0-9a-f]{64})  wrapper  src\/z\.ts$/m, '$1  wrapper  src/z.ts\n$1  wrapper  src/z.ts'))),
    ).toContain('modules.zeta.files line 5: src/z.ts is listed twice');
    expect(error(zeta((b) => b.replace(/#two\n/, '#\n')))).toMatch(/snippet  <path>#<snippet id>/);
    const gap = zeta((b) => b.replace(/\n/, '\n\n'));
    const read = new Map<string, string>();
    expect(parseLock(gap, splitFileBlocks(gap), read)).toEqual(parseLock(text));
    expect(read.has('zeta')).toBe(false); // an empty line inside: the digest is rebuilt from the entries
  });

  test('CRLF line endings and a re-indented block (hand edits) still parse the same', () => {
    const text = renderLock(lock);
    const expected = parseLock(text);
    expect(parseLock(text.replace(/\n/g, '\r\n'))).toEqual(expected);
    const reindented = text.replace(/^ {6}(?=[0-9a-f]{64})/gm, '        ');
    expect(splitFileBlocks(reindented).blocks).toHaveLength(0); // not the shape gen writes: left to the YAML parser
    expect(parseLock(reindented)).toEqual(expected);
  });
});

describe('rendering for verify (release digests, verbatim files by reference)', () => {
  test('gives exactly the files and hashes of a full rendering, for every framework of the real redis module', () => {
    const mod = loadModule('redis', REPO);
    const digests = digestLines(templateDigests(mod));
    for (const fw of Object.keys(mod.def.frameworks)) {
      const options = resolveOptions({
        def: mod.def,
        projectDir: path.join(REPO, 'examples', fw),
        sets: ['cache_ttl=90', 'redis_password=x'],
        env: {},
      });
      const rendered = new Map(renderModuleFiles(mod, fw, options).map((f) => [f.path, { kind: f.kind, sha256: sha(f.content) }]));
      const fromRelease = renderModuleFiles(mod, fw, options, { digests });
      expect(new Map(fromRelease.map((f) => [f.path, { kind: f.kind, sha256: renderedHash(f) }])), fw).toEqual(rendered);
      const byReference = renderModuleFiles(mod, fw, options, { verbatim: 'reference' });
      expect(byReference.map((f) => f.path).sort(), fw).toEqual([...rendered.keys()].sort());
      for (const f of byReference) expect(renderedHash(f) ?? sha(fs.readFileSync(f.source!)), f.path).toBe(rendered.get(f.path)!.sha256);
    }
  });
});

describe('release digests (.module-state.json)', () => {
  const record = { 'b/x.js': 'b'.repeat(64), 'a-b.js': 'a'.repeat(64), 'a/y.js.hbs': 'c'.repeat(64) };
  const stateOf = (digests: unknown) => {
    const dir = tempDir('state');
    fs.writeFileSync(path.join(dir, '.module-state.json'), JSON.stringify({ versions: { '1.0.0': 'sha256:x' }, digests }));
    return readState({ file: path.join(dir, 'module.yaml') });
  };

  test('are `<sha256>  <path>` lines sorted by path; a state file written as a path → digest object reads the same', () => {
    const lines = digestLines(record);
    expect(lines).toEqual([`${'a'.repeat(64)}  a-b.js`, `${'c'.repeat(64)}  a/y.js.hbs`, `${'b'.repeat(64)}  b/x.js`]);
    expect(stateOf({ '1.0.0': lines }).digests).toEqual({ '1.0.0': lines });
    expect(new Set(stateOf({ '1.0.0': record }).digests!['1.0.0'])).toEqual(new Set(lines));
  });

  test('a version whose lines are not all digest lines has none (verify reads its templates instead)', () => {
    expect(stateOf({ '1.0.0': [...digestLines(record), 'not a digest line'] }).digests).toEqual({});
    expect(stateOf({ '1.0.0': 'text' }).digests).toEqual({});
  });

  test('verify finds every released file by its path, in any order of lookup; what is not rendered is not found', () => {
    const mod = loadModule('redis', REPO);
    const digests = digestLines(templateDigests(mod));
    for (const fw of Object.keys(mod.def.frameworks)) {
      const options = resolveOptions({ def: mod.def, projectDir: path.join(REPO, 'examples', fw), sets: [], env: {} });
      const full = renderModuleFiles(mod, fw, options);
      const expected = full.map((f) => [f.path, sha(f.content)] as const);
      // in the lock's order (sorted), backwards, and shuffled: the cursor, then the index answers
      const sorted = [...expected].sort(([a], [b]) => (a < b ? -1 : 1));
      const shuffled = [...expected].sort(([a], [b]) => sha(a).localeCompare(sha(b)));
      // digest lines as written (sorted), or in another order (a state file edited by hand): the same answers
      for (const [order, lines] of [
        [sorted, digests],
        [[...sorted].reverse(), digests],
        [shuffled, digests],
        [sorted, [...digests].reverse()],
      ] as const) {
        const released = renderModuleFileMap(mod, fw, options, { digests: lines });
        expect(released.size, fw).toBe(full.length);
        for (const [p, hash] of order) expect(renderedHash(released.get(p)!), `${fw} ${p}`).toBe(hash);
        const snap = full
          .find((f) => f.kind === 'vendor')!
          .path.split('/')
          .slice(0, 4)
          .join('/');
        for (const p of [`${snap}/nope.js`, `${snap}/node/baked/defaults.js.hbs`, `${snap}/node/baked/defaults.js.hbs`.slice(0, -1)])
          expect(released.get(p), p).toBeUndefined();
      }
    }
  });
});
