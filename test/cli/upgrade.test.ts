import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { LOCK, addTiny, gen, runGen, snapshotTree, tinyCatalogue, tinyProject, verifyJson } from '../helpers.js';

// gen upgrade module on the fixture catalogue in two versions: tiny 1.0.0 (test/fixtures/catalogue) and tiny 1.1.0
// (test/fixtures/catalogue-v2: a changed and a dropped vendor file, a new wrapper, a changed and a new snippet, a new
// variable and a removed one). The built CLI runs on temp folders; GEN_CATALOGUE picks the version, as installing
// a newer gen would.

let v1: string;
let v2: string;
const OLD = '.rapidkit/vendor/tiny/1.0.0';
const NEW = '.rapidkit/vendor/tiny/1.1.0';

beforeAll(async () => {
  v1 = await tinyCatalogue();
  v2 = await tinyCatalogue(true, 'catalogue-v2');
}, 120_000);

function read(project: string, rel: string): string {
  return fs.readFileSync(path.join(project, rel), 'utf8');
}

function edit(project: string, rel: string, fn: (text: string) => string): void {
  fs.writeFileSync(path.join(project, rel), fn(read(project, rel)));
}

/** A project at tiny 1.0.0 with retries=5 and a token, its wrapper, README block and .env edited by the user. */
async function installedAndEdited(label: string): Promise<string> {
  const project = tinyProject(label);
  await addTiny(v1, project, { RAPIDKIT_TINY_FORCE_TOKEN: 'tok-1234567890' }, ['--set', 'retries=5']);
  edit(project, 'src/tiny.js', (t) => `${t}\nexport const MINE = 'kept across upgrades';\n`);
  edit(project, 'README.md', (t) => t.replace('## tiny', '## tiny (our greeter)'));
  edit(project, '.env', (t) => t.replace('TINY_GREETING=hello', 'TINY_GREETING=hi-there'));
  return project;
}

async function upgradeJson(cat: string, project: string, extra: string[] = []) {
  const r = await gen(cat, ['upgrade', 'module', 'tiny', '--project', project, '--json', '--yes', ...extra]);
  return { ...r, report: JSON.parse(r.stdout) as Record<string, any> };
}

const status = (report: Record<string, any>, p: string, snippet?: string) =>
  (report.files as { path: string; snippet?: string; status: string }[]).find((f) => f.path === p && f.snippet === snippet)?.status;

describe('gen upgrade module: a clean upgrade keeps every edit', () => {
  let project: string;
  let report: Record<string, any>;

  beforeAll(async () => {
    project = await installedAndEdited('up-clean');
    const r = await upgradeJson(v2, project, ['--set', 'timeout_ms=900']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    report = r.report;
  }, 120_000);

  test('the report: from/to, per-file status, the changelog between the versions', () => {
    expect(report).toMatchObject({ command: 'upgrade', module: 'tiny', from: '1.0.0', to: '1.1.0', applied: true, dryRun: false });
    expect(status(report, 'src/tiny.js')).toBe('merged');
    expect(status(report, 'src/tiny-extra.js')).toBe('created');
    expect(status(report, 'README.md', 'readme')).toBe('merged');
    expect(status(report, 'NOTES.md', 'notes')).toBe('created');
    expect(status(report, '.env', 'env')).toBe('updated');
    expect(status(report, `${NEW}/`)).toBe('created');
    expect(status(report, `${OLD}/`)).toBe('removed');
    expect(report.changelog).toEqual([{ version: '1.1.0', date: '2026-11-30', summary: expect.stringContaining('timeout_ms') }]);
    expect(report.summary.conflict).toBe(0);
  });

  test('the new snapshot replaces the old one; the dropped vendor file is gone', () => {
    expect(fs.existsSync(path.join(project, OLD))).toBe(false);
    expect(fs.existsSync(path.join(project, '.rapidkit/vendor/tiny'))).toBe(true);
    expect(read(project, `${NEW}/runtime/core.js`)).toContain('farewell');
    expect(fs.existsSync(path.join(project, `${NEW}/runtime/lib/util.js`))).toBe(false);
    expect(fs.existsSync(path.join(project, `${NEW}/runtime/lib`))).toBe(false);
  });

  test('the wrapper pins the new version and keeps your line; the README block keeps your title and gets the new text', () => {
    const wrapper = read(project, 'src/tiny.js');
    expect(wrapper).toContain('export const VENDOR_VERSION = "1.1.0";');
    expect(wrapper).toContain("export const MINE = 'kept across upgrades';");
    const readme = read(project, 'README.md');
    expect(readme).toContain('## tiny (our greeter)');
    expect(readme).toContain('Times out after 900 ms.');
    expect(readme).not.toContain('retries');
  });

  test('.env gains the new key and keeps every value you set (the secret included)', () => {
    const env = read(project, '.env');
    expect(env).toContain('TINY_GREETING=hi-there');
    expect(env).toContain('TINY_TIMEOUT_MS=900');
    expect(env).toContain('API_TOKEN=tok-1234567890');
    expect(env).not.toContain('TINY_GREETING=hello');
  });

  test('options: the removed variable is dropped, the new one recorded, the secret by reference only', () => {
    const lock = read(project, LOCK);
    expect(lock).toContain('version: 1.1.0');
    expect(lock).toMatch(/timeout_ms: 900/);
    expect(lock).not.toMatch(/retries/);
    expect(lock).not.toContain('tok-1234567890');
    expect(read(project, `${NEW}/runtime/config.js`)).toContain('export const TIMEOUT_MS = 900;');
  });

  test('the snapshot keeps the pristine blocks (the base of the next upgrade), never the .env one', () => {
    expect(read(project, `${NEW}/_pristine/_snippets/readme`)).toContain('Times out after 900 ms.');
    expect(fs.existsSync(path.join(project, `${NEW}/_pristine/_snippets/env`))).toBe(false);
  });

  test('verify-all is green (your edits reported as allowed), and a following add changes nothing', async () => {
    const v = await verifyJson(v2, project);
    expect(v.code, v.stdout).toBe(0);
    const add = await gen(v2, ['add', 'module', 'tiny', '--project', project, '--json', '--yes']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const summary = JSON.parse(add.stdout).summary;
    expect(summary).toMatchObject({ create: 0, update: 0, delete: 0, conflict: 0 });
  });

  test('a second upgrade is a no-op that says so', async () => {
    const before = snapshotTree(project);
    const r = await upgradeJson(v2, project);
    expect(r.code).toBe(0);
    expect(r.report.upToDate).toBe(true);
    expect(snapshotTree(project)).toEqual(before);
  });
});

describe('gen upgrade module: conflicts are never silent', () => {
  const conflicting = async (label: string) => {
    const project = await installedAndEdited(label);
    // gen 1.1.0 changes this very line (the version pin)
    edit(project, 'src/tiny.js', (t) =>
      t.replace('export const VENDOR_VERSION = "1.0.0";', 'export const VENDOR_VERSION = "1.0.0"; // pinned by us'),
    );
    return project;
  };

  test('by default: exit 1, every conflicting hunk listed, nothing written', async () => {
    const project = await conflicting('up-conflict');
    const before = snapshotTree(project);
    const r = await upgradeJson(v2, project);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.report.applied).toBe(false);
    const wrapper = (r.report.files as any[]).find((f) => f.path === 'src/tiny.js');
    expect(wrapper.status).toBe('conflict');
    // the pin and the two import lines naming the snapshot change together: one hunk
    expect(wrapper.hunks).toHaveLength(1);
    expect(wrapper.hunks[0].line).toBe(2);
    expect(wrapper.hunks[0].yours[0]).toBe('export const VENDOR_VERSION = "1.0.0"; // pinned by us');
    expect(wrapper.hunks[0].theirs[0]).toBe('export const VENDOR_VERSION = "1.1.0";');
    expect(wrapper.hunks[0].theirs.join('\n')).toContain('vendor/tiny/1.1.0/runtime');
    expect(snapshotTree(project)).toEqual(before);
    // the text report names the file and the hunk too
    const text = await gen(v2, ['upgrade', 'module', 'tiny', '--project', project, '--yes']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('CONFLICT   src/tiny.js');
    expect(text.stdout).toContain('- yours | export const VENDOR_VERSION = "1.0.0"; // pinned by us');
    expect(text.stdout).toContain('Nothing was written');
  });

  test('--conflict markers: written with git-style markers, exit 1; verify-all red until they are resolved', async () => {
    const project = await conflicting('up-markers');
    const r = await upgradeJson(v2, project, ['--conflict', 'markers']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.report.applied).toBe(true);
    const wrapper = read(project, 'src/tiny.js');
    expect(wrapper).toMatch(
      /<<<<<<< yours\nexport const VENDOR_VERSION = "1\.0\.0"; \/\/ pinned by us\n(.*\n){2}=======\nexport const VENDOR_VERSION = "1\.1\.0";\n(.*\n){2}>>>>>>> gen tiny 1\.1\.0\n/,
    );
    expect(wrapper).toContain("export const MINE = 'kept across upgrades';");
    expect(fs.existsSync(path.join(project, OLD))).toBe(false);
    const red = await verifyJson(v2, project);
    expect(red.code).toBe(1);
    expect(red.report.problems.some((c) => c.path === 'src/tiny.js' && c.status === 'conflict' && c.fails)).toBe(true);
    // resolved: take gen's line, drop the markers
    edit(project, 'src/tiny.js', (t) => t.replace(/<<<<<<< yours\n(?:.*\n){3}=======\n((?:.*\n){3})>>>>>>> gen tiny 1\.1\.0\n/, '$1'));
    expect(read(project, 'src/tiny.js')).not.toContain('<<<<<<<');
    const green = await verifyJson(v2, project);
    expect(green.code, green.stdout).toBe(0);
  });

  test('a snippet block edited where gen changes it: a block-level conflict, with markers inside the block; verify-all red', async () => {
    const project = await installedAndEdited('up-block-conflict');
    edit(project, 'README.md', (t) => t.replace('Greets with "hello" (5 retries).', 'Greets our customers.'));
    expect(read(project, 'README.md')).toContain('Greets our customers.');
    const before = snapshotTree(project);
    const r = await upgradeJson(v2, project);
    expect(r.code).toBe(1);
    expect(r.report.applied).toBe(false);
    expect(snapshotTree(project)).toEqual(before); // a conflict in a block stops the whole upgrade too
    const block = (r.report.files as any[]).find((f) => f.path === 'README.md' && f.snippet === 'readme');
    expect(block.status).toBe('conflict');
    expect(block.hunks[0].yours).toContain('Greets our customers.');
    const marked = await upgradeJson(v2, project, ['--conflict', 'markers']);
    expect(marked.code).toBe(1);
    const readme = read(project, 'README.md');
    expect(readme).toMatch(
      /<!-- >>> gen:tiny:readme >>> -->[\s\S]*<<<<<<< yours\nGreets our customers\.\n[\s\S]*>>>>>>> gen tiny 1\.1\.0\n[\s\S]*<!-- <<< gen:tiny:readme <<< -->/,
    );
    const red = await verifyJson(v2, project);
    expect(red.code).toBe(1);
    expect(red.report.problems.some((c) => c.path === 'README.md' && c.class === 'snippet' && c.status === 'conflict')).toBe(true);
  });

  test('--force takes gen’s version of a conflicting file', async () => {
    const project = await conflicting('up-force');
    const r = await upgradeJson(v2, project, ['--force']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(read(project, 'src/tiny.js')).not.toContain('pinned by us');
  });
});

describe('gen upgrade module: preview and refusals', () => {
  test('--dry-run and --diff write nothing', async () => {
    const project = await installedAndEdited('up-preview');
    const before = snapshotTree(project);
    const dry = await upgradeJson(v2, project, ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.report).toMatchObject({ dryRun: true, applied: false });
    const diff = await gen(v2, ['upgrade', 'module', 'tiny', '--project', project, '--diff', 'src/tiny.js']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('-export const VENDOR_VERSION = "1.0.0";');
    expect(diff.stdout).toContain('+export const VENDOR_VERSION = "1.1.0";');
    expect(snapshotTree(project)).toEqual(before);
  });

  test('add on a project with an older version installed: exit 1, both versions and the upgrade command named', async () => {
    const project = tinyProject('up-add');
    await addTiny(v1, project);
    const before = snapshotTree(project);
    const r = await gen(v2, ['add', 'module', 'tiny', '--project', project, '--yes', '--json']);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout);
    expect(err).toMatchObject({ code: 'UPGRADE_REQUIRED', exitCode: 1 });
    expect(err.error).toContain('tiny 1.0.0 is installed');
    expect(err.error).toContain('1.1.0');
    expect(err.hint).toContain('gen upgrade module tiny');
    expect(snapshotTree(project)).toEqual(before);
  });

  test('a downgrade is refused unless forced; forced, the dropped blocks and wrappers go when untouched', async () => {
    const project = tinyProject('up-down');
    await addTiny(v2, project);
    const r = await upgradeJson(v1, project);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 'DOWNGRADE' });
    const forced = await upgradeJson(v1, project, ['--force']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(status(forced.report, 'src/tiny-extra.js')).toBe('removed');
    expect(status(forced.report, 'NOTES.md', 'notes')).toBe('removed');
    expect(fs.existsSync(path.join(project, 'src/tiny-extra.js'))).toBe(false);
    expect(fs.existsSync(path.join(project, 'NOTES.md'))).toBe(false);
    expect(read(project, LOCK)).toContain('version: 1.0.0');
    expect((await verifyJson(v1, project)).code).toBe(0);
  });

  test('an edited file the target version drops is kept, and is yours from then on', async () => {
    const project = tinyProject('up-drop-edited');
    await addTiny(v2, project);
    edit(project, 'src/tiny-extra.js', (t) => `${t}// ours\n`);
    const r = await upgradeJson(v1, project, ['--force']);
    expect(r.code).toBe(0);
    expect(status(r.report, 'src/tiny-extra.js')).toBe('kept');
    expect(read(project, 'src/tiny-extra.js')).toContain('// ours');
  });

  test('--to names a version this catalogue cannot render; not installed; bad --conflict; a lock version that is none: exit 2', async () => {
    const project = tinyProject('up-bad');
    const none = await upgradeJson(v2, project);
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout)).toMatchObject({ code: 'NOT_INSTALLED' });
    await addTiny(v1, project);
    const to = await upgradeJson(v2, project, ['--to', '9.9.9']);
    expect(to.code).toBe(2);
    expect(JSON.parse(to.stdout)).toMatchObject({ field: '--to' });
    expect(JSON.parse(to.stdout).error).toContain('1.1.0');
    const mode = await upgradeJson(v2, project, ['--conflict', 'theirs']);
    expect(mode.code).toBe(2);
    expect(JSON.parse(mode.stdout)).toMatchObject({ field: '--conflict' });
    // a module the catalogue does not have (the repository's own catalogue has no tiny)
    const unknown = await runGen(['upgrade', 'module', 'tiny', '--project', project, '--json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ code: 'UNKNOWN_MODULE' });
    edit(project, LOCK, (t) => t.replace('version: 1.0.0', 'version: banana'));
    const lock = await upgradeJson(v2, project);
    expect(lock.code).toBe(2);
    expect(JSON.parse(lock.stdout)).toMatchObject({ code: 'INVALID_LOCK', field: 'modules.tiny.version' });
  });
});
