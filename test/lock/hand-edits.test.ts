import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLock } from '../../src/lock/read.js';
import { splitFileBlocks } from '../../src/lock/scan.js';
import { addTiny, gen, LOCK, tinyCatalogue, tinyProject, verifyJson } from '../helpers.js';

// A lock or catalogue that a person edited, and verify-all's own arguments.
describe('verify-all on hand-edited input', () => {
  it('a lock a person re-indented and reordered gives the same verdicts, and still catches a change', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    const lockFile = path.join(project, LOCK);
    const text = fs.readFileSync(lockFile, 'utf8');
    const reordered = text
      .replace(
        /( {4}files: \|\n)((?: {6}.*\n)+)/,
        (_m, head: string, body: string) => head + body.trimEnd().split('\n').reverse().join('\n') + '\n',
      )
      .replace('lockVersion: 1', 'lockVersion: 1 # by hand');
    const canonical = new Map<string, string>();
    expect(parseLock(reordered, splitFileBlocks(reordered), canonical)).toEqual(parseLock(text));
    expect(canonical.size).toBe(0); // not in gen's order: the digest is rebuilt from the entries
    fs.writeFileSync(lockFile, reordered);
    let v = await verifyJson(cat, project);
    expect(v.code, JSON.stringify(v.report.problems)).toBe(0);
    expect(v.report.modules[0]).toMatchObject({ name: 'tiny', regenerated: true, ok: true });
    fs.appendFileSync(path.join(project, '.rapidkit/vendor/tiny/1.0.0/runtime/core.js'), '//');
    v = await verifyJson(cat, project);
    expect(v.code).toBe(1);
    expect(v.report.problems).toEqual([
      expect.objectContaining({ status: 'changed', path: '.rapidkit/vendor/tiny/1.0.0/runtime/core.js' }),
    ]);
  });

  it('an option value YAML must quote (a comment sign inside) round-trips through the lock', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project, {}, ['--set', 'greeting=hi: "x" #1']);
    expect(parseLock(fs.readFileSync(path.join(project, LOCK), 'utf8')).modules.tiny!.options.greeting).toBe('hi: "x" #1');
    expect((await gen(cat, ['modules', 'verify-all', '--project', project])).code).toBe(0);
  });

  it('an invalid module.yaml is a usage error naming file and field; an unreadable state file only costs the digests', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    fs.writeFileSync(path.join(cat, 'modules/tiny/.module-state.json'), '{ not json');
    let r = await gen(cat, ['modules', 'verify-all', '--project', project]);
    expect(r.code, r.stderr).toBe(0); // integrity and drift still checked, templates read instead of recorded digests
    const yamlFile = path.join(cat, 'modules/tiny/module.yaml');
    fs.writeFileSync(yamlFile, fs.readFileSync(yamlFile, 'utf8').replace(/^version: .*$/m, 'version: one'));
    r = await gen(cat, ['modules', 'verify-all', '--project', project]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("modules/tiny/module.yaml: field 'version'");
    expect(r.stdout).toBe('');
  });

  it('every spelling of its flags gives the same report; a wrong flag is exit 2, in JSON with --json', async () => {
    const cat = await tinyCatalogue();
    const project = tinyProject();
    await addTiny(cat, project);
    fs.appendFileSync(path.join(project, '.rapidkit/vendor/tiny/1.0.0/runtime/core.js'), '//');
    const a = await gen(cat, ['modules', 'verify-all', '--project', project, '--json']);
    const b = await gen(cat, ['modules', 'verify-all', `--project=${project}`, '--json']);
    const c = await gen(cat, ['modules', 'verify-all', '--json', '-p', project]);
    expect([a.code, b.code, c.code]).toEqual([1, 1, 1]);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
    const bad = await gen(cat, ['modules', 'verify-all', '--project', project, '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--bogus'");
    const badJson = await gen(cat, ['modules', 'verify-all', '--project', project, '--bogus', '--json']);
    expect(badJson.code).toBe(2);
    expect(JSON.parse(badJson.stdout)).toMatchObject({ error: "unknown option '--bogus'", code: 'USAGE', exitCode: 2 });
  });
});
