import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLockFast } from '../../src/lock/read.js';
import { parseLock } from '../../src/lock/lockfile.js';
import { splitFileBlocks } from '../../src/lock/scan.js';
import { loadModule } from '../../src/module/load.js';
import { isPlainCatalogue, loadRecordedModule } from '../../src/module/recorded.js';
import { catalogueSchema } from '../../src/module/schema.js';
import { REPO, addTiny, gen, LOCK, tinyCatalogue, tinyProject, verifyJson } from '../helpers.js';

// verify-all's fast paths: the definition recorded with a release instead of yaml + zod, the lock without yaml.
describe('the definition recorded with a release', () => {
  it('is what the full loader reads, for the shipped module (so verify-all of redis loads neither yaml nor zod)', () => {
    const fast = loadRecordedModule('redis', REPO);
    expect(fast).not.toBeNull();
    const full = loadModule('redis', REPO);
    expect(JSON.stringify(fast!.def)).toBe(JSON.stringify(full.def));
    const { state, ...located } = fast!;
    expect({ ...located, def: null }).toEqual({ ...full, def: null });
    expect(Object.keys(state.digests!['1.0.0']!).length).toBeGreaterThan(10); // the state comes along, parsed once
    expect(loadRecordedModule('nope', REPO)).toBeNull();
  });

  it('is not used once module.yaml differs from what was recorded, or without a record', async () => {
    const cat = await tinyCatalogue();
    expect(loadRecordedModule('tiny', cat)).not.toBeNull();
    const file = path.join(cat, 'modules/tiny/module.yaml');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace(/\n/g, '\r\n')); // line endings do not count
    expect(loadRecordedModule('tiny', cat)).not.toBeNull();
    fs.writeFileSync(file, text + '# a comment\n');
    expect(loadRecordedModule('tiny', cat)).toBeNull();
    fs.writeFileSync(file, text);
    const stateFile = path.join(cat, 'modules/tiny/.module-state.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    fs.writeFileSync(
      stateFile,
      JSON.stringify({ ...state, definitions: { '1.0.0': { ...state.definitions['1.0.0'], generator: '0.0.0-other' } } }),
    );
    expect(loadRecordedModule('tiny', cat)).toBeNull(); // validated by another gen's schema
  });

  it('verify-all gives the same verdicts on the slow path (no recorded definition, a lock outside the plain subset)', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const stateFile = path.join(cat, 'modules/tiny/.module-state.json');
    const { definitions: _, ...rest } = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    fs.writeFileSync(stateFile, JSON.stringify(rest));
    expect(loadRecordedModule('tiny', cat)).toBeNull();
    // a lock a person re-indented and reordered: valid YAML, the same content, not what gen writes
    const lockFile = path.join(project, LOCK);
    const text = fs.readFileSync(lockFile, 'utf8');
    const reordered = text
      .replace(
        /( {4}files: \|\n)((?: {6}.*\n)+)/,
        (_m, head: string, body: string) => head + body.trimEnd().split('\n').reverse().join('\n') + '\n',
      )
      .replace('lockVersion: 1', 'lockVersion: 1 # by hand');
    expect(parseLockFast(reordered)).toBeUndefined();
    fs.writeFileSync(lockFile, reordered);
    let v = await verifyJson(cat, project);
    expect(v.code, JSON.stringify(v.report.problems)).toBe(0);
    expect(v.report.modules[0]).toMatchObject({ name: 'tiny', regenerated: true, ok: true });
    // and still catches a change
    const victim = path.join(project, '.rapidkit/vendor/tiny/1.0.0/runtime/core.js');
    fs.appendFileSync(victim, '//');
    v = await verifyJson(cat, project);
    expect(v.code).toBe(1);
    expect(v.report.problems).toEqual([
      expect.objectContaining({ status: 'changed', path: '.rapidkit/vendor/tiny/1.0.0/runtime/core.js' }),
    ]);
  });

  it('the lock gen writes is read without yaml, to the same result', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project, {}, ['--set', 'greeting=hi, there']);
    let text = fs.readFileSync(path.join(project, LOCK), 'utf8');
    const canonical = new Map<string, string>();
    const fast = parseLockFast(text, splitFileBlocks(text), canonical);
    expect(fast).toBeDefined();
    expect(fast).toEqual(parseLock(text));
    expect([...canonical.keys()]).toEqual(['tiny']);
    expect((await gen(cat, ['modules', 'verify-all', '--project', project])).code).toBe(0);
    // an option value YAML must quote with a comment sign inside: the reader declines, yaml reads it
    await addTiny(cat, project, {}, ['--set', 'greeting=hi: "x" #1']);
    text = fs.readFileSync(path.join(project, LOCK), 'utf8');
    expect(parseLockFast(text)).toBeUndefined();
    expect(parseLock(text).modules.tiny!.options.greeting).toBe('hi: "x" #1');
    expect((await gen(cat, ['modules', 'verify-all', '--project', project])).code).toBe(0);
  });
});

describe('isPlainCatalogue', () => {
  it('accepts exactly what catalogueSchema accepts', () => {
    const ok = { catalogue: 1, modules: [{ name: 'redis', path: 'modules/redis/module.yaml', summary: 's' }] };
    const cases: unknown[] = [
      ok,
      { ...ok, modules: [{ name: 'a-1', path: 'm.yaml' }] },
      { ...ok, extra: 1 },
      { ...ok, catalogue: 2 },
      { ...ok, modules: [] },
      { ...ok, modules: [{ name: 'Redis', path: 'm.yaml' }] },
      { ...ok, modules: [{ name: 'r', path: '/abs.yaml' }] },
      { ...ok, modules: [{ name: 'r', path: '../up.yaml' }] },
      { ...ok, modules: [{ name: 'r', path: '' }] },
      { ...ok, modules: [{ name: 'r', path: 'm.yaml', summary: 3 }] },
      { ...ok, modules: [{ name: 'r', path: 'm.yaml', other: 'x' }] },
      { ...ok, modules: [{ name: 'r' }] },
      { ...ok, modules: [null] },
      { ...ok, modules: {} },
      null,
      [],
      'catalogue',
    ];
    for (const c of cases) expect(isPlainCatalogue(c), JSON.stringify(c)).toBe(catalogueSchema.safeParse(c).success);
  });
});

describe('plainVerifyArgs (verify-all without commander)', () => {
  it('takes only the plain spelling of its own flags, each once; everything else goes to commander', async () => {
    const { plainVerifyArgs } = await import('../../src/cli.js');
    expect(plainVerifyArgs([])).toEqual({});
    expect(plainVerifyArgs(['--json', '--strict', '-p', 'x'])).toEqual({ json: true, strict: true, project: 'x' });
    expect(plainVerifyArgs(['--project', 'a b'])).toEqual({ project: 'a b' });
    for (const args of [
      ['--project=x'],
      ['--json', '--json'],
      ['-p'],
      ['-p', '--json'],
      ['--bogus'],
      ['-h'],
      ['--help'],
      ['x'],
      ['-p', 'a', '-p', 'b'],
      ['--jsonx'],
    ]) {
      expect(plainVerifyArgs(args), args.join(' ')).toBeNull();
    }
  });

  it('gives the same report as the commander path', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    fs.appendFileSync(path.join(project, '.rapidkit/vendor/tiny/1.0.0/runtime/core.js'), '//');
    const plain = await gen(cat, ['modules', 'verify-all', '--project', project, '--json']);
    const viaCommander = await gen(cat, ['modules', 'verify-all', `--project=${project}`, '--json']);
    expect(plain.code).toBe(1);
    expect(viaCommander.code).toBe(1);
    expect(plain.stdout).toBe(viaCommander.stdout);
    const bad = await gen(cat, ['modules', 'verify-all', '--project', project, '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--bogus'");
  });
});

describe('verify-all with a broken catalogue', () => {
  it('an invalid module.yaml is a usage error naming file and field; an unreadable state file only costs the fast path', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const stateFile = path.join(cat, 'modules/tiny/.module-state.json');
    fs.writeFileSync(stateFile, '{ not json');
    expect(loadRecordedModule('tiny', cat)).toBeNull();
    let r = await gen(cat, ['modules', 'verify-all', '--project', project]);
    expect(r.code, r.stderr).toBe(0); // integrity and drift still checked, from module.yaml itself
    const yamlFile = path.join(cat, 'modules/tiny/module.yaml');
    fs.writeFileSync(yamlFile, fs.readFileSync(yamlFile, 'utf8').replace(/^version: .*$/m, 'version: one'));
    r = await gen(cat, ['modules', 'verify-all', '--project', project]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("modules/tiny/module.yaml: field 'version'");
    expect(r.stdout).toBe('');
  });
});
