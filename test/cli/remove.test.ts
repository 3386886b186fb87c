import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { LOCK, REPO, addTiny, gen, runGen, shaListing, snapshotTree, tempDir, tinyCatalogue, tinyProject } from '../helpers.js';

// gen remove module: what gen wrote goes, what you wrote stays. The built CLI on temp folders.

let cat: string;
beforeAll(async () => {
  cat = await tinyCatalogue();
}, 120_000);

/** The example as committed (git ls-files): no build output or earlier generation in the way. */
function committedExample(fw: string, label: string): string {
  const dest = tempDir(label);
  const files = execFileSync('git', ['ls-files', `examples/${fw}`], { cwd: REPO, encoding: 'utf8' })
    .trim()
    .split('\n');
  for (const f of files) {
    const to = path.join(dest, path.relative(`examples/${fw}`, f));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), to);
  }
  return dest;
}

async function removeJson(project: string, extra: string[] = []) {
  const r = await gen(cat, ['remove', 'module', 'tiny', '--project', project, '--json', '--yes', ...extra]);
  return { ...r, report: JSON.parse(r.stdout) as Record<string, any> };
}

describe('gen remove module on the fixture module', () => {
  test('add then remove leaves the tree byte for byte as it was (files, modes and folders)', async () => {
    const project = tinyProject('rm-roundtrip');
    fs.writeFileSync(path.join(project, 'README.md'), '# my project\n\nSome text.\n');
    const before = shaListing(project);
    await addTiny(cat, project);
    expect(fs.readFileSync(path.join(project, 'README.md'), 'utf8')).toContain('gen:tiny:readme');
    const r = await removeJson(project);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.report).toMatchObject({ command: 'remove', module: 'tiny', version: '1.0.0', applied: true });
    expect(shaListing(project)).toEqual(before);
  });

  test('an edited wrapper stops the removal: exit 1, nothing removed, the file named; --force removes it', async () => {
    const project = tinyProject('rm-edited');
    await addTiny(cat, project);
    fs.appendFileSync(path.join(project, 'src/tiny.js'), '// ours\n');
    const before = snapshotTree(project);
    const r = await removeJson(project);
    expect(r.code).toBe(1);
    expect(r.report.applied).toBe(false);
    expect(r.report.files).toContainEqual(expect.objectContaining({ path: 'src/tiny.js', status: 'kept', edited: true }));
    expect(snapshotTree(project)).toEqual(before);
    const text = await gen(cat, ['remove', 'module', 'tiny', '--project', project, '--yes']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('EDITED     src/tiny.js');
    expect(text.stdout).toContain('--force');
    const forced = await removeJson(project, ['--force']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(fs.existsSync(path.join(project, 'src'))).toBe(false);
    expect(fs.existsSync(path.join(project, '.rapidkit'))).toBe(false);
  });

  test('an edited snippet block is kept the same way', async () => {
    const project = tinyProject('rm-block');
    await addTiny(cat, project);
    const readme = path.join(project, 'README.md');
    fs.writeFileSync(readme, fs.readFileSync(readme, 'utf8').replace('## tiny', '## tiny, ours'));
    const r = await removeJson(project);
    expect(r.code).toBe(1);
    expect(r.report.files).toContainEqual(expect.objectContaining({ path: 'README.md', snippet: 'readme', status: 'kept', edited: true }));
  });

  test('.env values are yours: a block holding a value you gave is kept and said so (exit 0); defaults only go', async () => {
    const withToken = tinyProject('rm-env');
    await addTiny(cat, withToken, { RAPIDKIT_TINY_FORCE_TOKEN: 'tok-1234567890' });
    const r = await removeJson(withToken);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const env = r.report.files.find((f: any) => f.path === '.env' && f.snippet === 'env');
    expect(env).toMatchObject({ status: 'kept' });
    expect(env.reason).toContain('values you set');
    expect(fs.readFileSync(path.join(withToken, '.env'), 'utf8')).toContain('API_TOKEN=tok-1234567890');
    expect(r.stdout).not.toContain('tok-1234567890');
    expect(fs.existsSync(path.join(withToken, LOCK))).toBe(false);

    const defaults = tinyProject('rm-env-defaults');
    await addTiny(cat, defaults);
    const d = await removeJson(defaults);
    expect(d.code).toBe(0);
    expect(fs.existsSync(path.join(defaults, '.env'))).toBe(false);
  });

  test('a module this catalogue does not have: removed all the same, its .env block left and said so', async () => {
    const project = tinyProject('rm-unknown');
    await addTiny(cat, project);
    // the repository's own catalogue has no tiny
    const r = await runGen(['remove', 'module', 'tiny', '--project', project, '--json', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.warnings).toEqual([expect.stringContaining('.env blocks are left as they are')]);
    expect(fs.existsSync(path.join(project, 'src/tiny.js'))).toBe(false);
    expect(fs.existsSync(path.join(project, '.rapidkit'))).toBe(false);
    expect(fs.readFileSync(path.join(project, '.env'), 'utf8')).toContain('gen:tiny:env');
  });

  test('--dry-run writes nothing; a module that is not installed is exit 2', async () => {
    const project = tinyProject('rm-dry');
    const none = await removeJson(project);
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout)).toMatchObject({ code: 'NOT_INSTALLED' });
    await addTiny(cat, project);
    const before = snapshotTree(project);
    const dry = await removeJson(project, ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.report).toMatchObject({ dryRun: true, applied: false });
    expect(snapshotTree(project)).toEqual(before);
  });
});

describe('gen remove module redis on every bundled example', () => {
  for (const fw of fs.readdirSync(path.join(REPO, 'examples')).sort()) {
    test(`${fw}: add then remove restores the tree exactly, package.json included`, async () => {
      const project = committedExample(fw, `rm-${fw}`);
      // package.json without the dependency gen adds, so the removal has something to take out
      const pkgPath = path.join(project, 'package.json');
      if (fs.existsSync(pkgPath)) {
        const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
        delete pkg.dependencies?.ioredis;
        fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
      }
      const before = shaListing(project);
      const add = await runGen(['add', 'module', 'redis', '--project', project, '--yes']);
      expect(add.code, add.stdout + add.stderr).toBe(0);
      if (fs.existsSync(pkgPath)) {
        expect(JSON.parse(fs.readFileSync(pkgPath, 'utf8')).dependencies.ioredis).toBeDefined();
        expect(fs.readFileSync(path.join(project, LOCK), 'utf8')).toMatch(/dependencies:\n(\s+\S+: .*\n)*\s+ioredis:/);
      }
      const r = await runGen(['remove', 'module', 'redis', '--project', project, '--yes']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(shaListing(project)).toEqual(before);
    }, 60_000);
  }
});
