// gen modules vet on the fixture catalogue: definition checks, content hash vs version, explicit --record/--bump.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { templatePaths } from '../../src/check/vet.js';
import { vetAllReportSchema, vetReportSchema } from '../../src/check/reports.js';
import { snapshotTree, gen, tinyCatalogue, tinyProject, verifyJson } from '../helpers.js';

async function vet(cat: string, extra: string[] = []) {
  const r = await gen(cat, ['modules', 'vet', 'tiny', '--json', ...extra]);
  return { ...r, report: vetReportSchema.parse(JSON.parse(r.stdout)) };
}
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const state = (cat: string) => JSON.parse(fs.readFileSync(path.join(cat, 'modules/tiny/.module-state.json'), 'utf8'));
const edit = (cat: string, rel: string, fn: (s: string) => string) =>
  fs.writeFileSync(path.join(cat, rel), fn(fs.readFileSync(path.join(cat, rel), 'utf8')));

describe('recording a version', () => {
  test('an unrecorded version fails with the remedy; --record records it once, with its template digests', async () => {
    const cat = await tinyCatalogue(false);
    let v = await vet(cat);
    expect(v.code).toBe(1);
    expect(v.report.problems).toEqual([
      expect.objectContaining({ check: 'version', remedy: 'record it once the module is ready: gen modules vet tiny --record' }),
    ]);
    v = await vet(cat, ['--record']);
    expect(v.code).toBe(0);
    expect(v.report).toMatchObject({
      ok: true,
      recorded: true,
      bumped: null,
      version: '1.0.0',
      hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(state(cat).versions).toEqual({ '1.0.0': v.report.hash });
    // `<sha256>  <path>` lines sorted by path, what sha256sum prints for the templates
    const lines: string[] = state(cat).digests['1.0.0'];
    expect(lines.map((l) => l.slice(66))).toEqual([
      'runtime/config.js.hbs',
      'runtime/core.js',
      'runtime/lib/util.js',
      'snippets/env.hbs',
      'snippets/readme.md.hbs',
      'wrappers/tiny.js.hbs',
    ]);
    const templates = path.join(cat, 'templates/tiny');
    for (const l of lines) expect(l.slice(0, 66)).toBe(`${sha256(fs.readFileSync(path.join(templates, l.slice(66))))}  `);
    v = await vet(cat, ['--record']);
    expect(v.report).toMatchObject({ ok: true, recorded: false });
  });

  test('--record never records a module that fails another check', async () => {
    const cat = await tinyCatalogue(false);
    fs.rmSync(path.join(cat, 'docs/tiny.md'));
    const v = await vet(cat, ['--record']);
    expect(v.code).toBe(1);
    expect(v.report.recorded).toBe(false);
    expect(v.report.problems.map((p) => p.check)).toEqual(['documentation', 'version']);
    expect(v.report.problems[1]!.message).toContain('not recorded: fix the problems above first');
    expect(fs.existsSync(path.join(cat, 'modules/tiny/.module-state.json'))).toBe(false);
  });
});

describe('content changed without a version bump', () => {
  test('fails vet and add with the exact remedy; --record does not bless it; --bump patch fixes both', async () => {
    const cat = await tinyCatalogue();
    const before = state(cat);
    edit(cat, 'modules/tiny/module.yaml', (s) => s.replace('version: 1.0.0', 'version: 1.0.0 # keep this comment'));
    // ^ a comment does not change the meaning, but it is content: recorded hashes cover the definition byte for byte
    edit(cat, 'templates/tiny/runtime/core.js', (s) => s + 'export const added = 1;\n');
    let v = await vet(cat);
    expect(v.code).toBe(1);
    const remedy = 'gen modules vet tiny --bump patch   (or minor/major), then describe the change in the changelog';
    expect(v.report.problems).toEqual([
      expect.objectContaining({
        check: 'version',
        file: 'modules/tiny/module.yaml',
        remedy,
        message: expect.stringContaining('without a version bump'),
      }),
    ]);
    expect(v.report.problems[0]!.message).toContain(before.versions['1.0.0']);
    v = await vet(cat, ['--record']);
    expect(v.code).toBe(1);
    expect(state(cat)).toEqual(before);

    const project = tinyProject();
    const tree = snapshotTree(project);
    const add = await gen(cat, ['add', 'module', 'tiny', '--project', project]);
    expect(add.code).toBe(2);
    expect(add.stderr).toContain("module 'tiny' changed since version 1.0.0 was recorded");
    expect(add.stderr).toContain('gen modules vet tiny --bump patch');
    expect(snapshotTree(project)).toEqual(tree);

    v = await vet(cat, ['--bump', 'patch']);
    expect(v.code, v.stdout).toBe(0);
    expect(v.report).toMatchObject({ ok: true, bumped: '1.0.1', version: '1.0.1', recorded: true, problems: [] });
    const yaml = fs.readFileSync(path.join(cat, 'modules/tiny/module.yaml'), 'utf8');
    expect(yaml).toMatch(/^version: 1\.0\.1 # keep this comment$/m);
    expect(yaml).toContain('# Fixture module (test/lock)'); // comments kept
    expect(yaml).toMatch(
      /^changelog:\n {2}- version: 1\.0\.1\n {4}date: \d{4}-\d\d-\d\d\n {4}summary: "TODO: describe what changed in 1\.0\.1"\n {2}- version: 1\.0\.0\n/m,
    );
    expect(state(cat).versions['1.0.0']).toBe(before.versions['1.0.0']); // a released version's hash never changes
    expect(state(cat).versions['1.0.1']).toBe(v.report.hash);
    // the stub must be written before the release is done; describing it is not a content change
    v = await vet(cat);
    expect(v.code).toBe(1);
    expect(v.report.problems).toEqual([
      expect.objectContaining({ check: 'changelog', remedy: expect.stringContaining('no bump or record needed') }),
    ]);
    edit(cat, 'modules/tiny/module.yaml', (s) => s.replace('TODO: describe what changed in 1.0.1', 'core.js: a trailing comment'));
    v = await vet(cat);
    expect(v.report).toMatchObject({ ok: true, recorded: false, problems: [] });
    expect(state(cat).versions['1.0.1']).toBe(v.report.hash); // describing the change is not a content change
    expect((await vet(cat)).code).toBe(0);

    const ok = await gen(cat, ['add', 'module', 'tiny', '--project', project, '--yes']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.existsSync(path.join(project, '.rapidkit/vendor/tiny/1.0.1/runtime/core.js'))).toBe(true);
    expect((await verifyJson(cat, project)).code).toBe(0);
  });

  test('--bump is explicit: refused when nothing changed, without a module, with --record, or onto a recorded version', async () => {
    const cat = await tinyCatalogue();
    let r = await gen(cat, ['modules', 'vet', 'tiny', '--bump', 'patch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing changed since it was recorded');
    edit(cat, 'templates/tiny/runtime/core.js', (s) => s + '//\n');
    r = await gen(cat, ['modules', 'vet', '--bump', 'patch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--bump needs a module name');
    r = await gen(cat, ['modules', 'vet', 'tiny', '--bump', 'tiny']);
    expect(r.code).toBe(2);
    r = await gen(cat, ['modules', 'vet', 'tiny', '--bump', 'patch', '--record']);
    expect(r.code).toBe(2);
    const s = state(cat);
    s.versions['1.0.1'] = 'sha256:' + '0'.repeat(64);
    fs.writeFileSync(path.join(cat, 'modules/tiny/.module-state.json'), JSON.stringify(s));
    r = await gen(cat, ['modules', 'vet', 'tiny', '--bump', 'patch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('1.0.1 is already recorded');
    expect(r.stderr).toContain('--bump minor');
    expect(fs.readFileSync(path.join(cat, 'modules/tiny/module.yaml'), 'utf8')).toMatch(/^version: 1\.0\.0$/m);
  });

  test('--bump is refused while another check fails (nothing is written)', async () => {
    const cat = await tinyCatalogue();
    edit(cat, 'templates/tiny/runtime/config.js.hbs', (s) => s + 'export const X = {{vars.nope}};\n');
    const yaml = fs.readFileSync(path.join(cat, 'modules/tiny/module.yaml'), 'utf8');
    const v = await vet(cat, ['--bump', 'patch']);
    expect(v.code).toBe(1);
    expect(v.report).toMatchObject({ bumped: null, recorded: false, version: '1.0.0' });
    expect(v.report.problems.map((p) => p.check)).toEqual(['variables', 'version']);
    expect(fs.readFileSync(path.join(cat, 'modules/tiny/module.yaml'), 'utf8')).toBe(yaml);
  });
});

describe('definition checks', () => {
  test('variables: undeclared, secret read as vars, secrets outside a secrets snippet; derived ones are fine', async () => {
    const cat = await tinyCatalogue(false);
    edit(
      cat,
      'templates/tiny/runtime/config.js.hbs',
      (s) =>
        s +
        'export const A = {{json vars.colour}};\nexport const B = {{json vars.api_token}};\nexport const C = {{json secrets.api_token}};\nexport const D = {{json vars.project_slug}} + {{json vars.project_name}} + {{json vars.has_api_token}};\n',
    );
    edit(cat, 'templates/tiny/wrappers/tiny.js.hbs', (s) => s + '// {{nothing.here}}\n');
    const v = await vet(cat);
    expect(v.code).toBe(1);
    const msgs = v.report.problems.filter((p) => p.check === 'variables').map((p) => [p.file, p.message]);
    expect(msgs).toEqual([
      [
        'templates/tiny/runtime/config.js.hbs',
        "templates/tiny/runtime/config.js.hbs uses 'vars.colour', which module.yaml does not declare",
      ],
      ['templates/tiny/runtime/config.js.hbs', "templates/tiny/runtime/config.js.hbs uses 'vars.api_token', but api_token is secret"],
      [
        'templates/tiny/runtime/config.js.hbs',
        "templates/tiny/runtime/config.js.hbs reads 'secrets.api_token' but only snippets marked secrets: true may read secret variables",
      ],
      [
        'templates/tiny/wrappers/tiny.js.hbs',
        "templates/tiny/wrappers/tiny.js.hbs uses 'nothing.here', which is not in the template context",
      ],
    ]);
    expect(v.report.problems.find((p) => p.message.includes('vars.colour'))!.remedy).toBe(
      "declare 'colour' under variables in modules/tiny/module.yaml",
    );
  });

  test('templates that do not exist or do not compile, a missing vendor folder, docs and changelog', async () => {
    const cat = await tinyCatalogue(false);
    edit(cat, 'templates/tiny/snippets/readme.md.hbs', (s) => s + '{{#if vars.greeting}}unclosed\n');
    fs.rmSync(path.join(cat, 'templates/tiny/snippets/env.hbs'));
    edit(cat, 'modules/tiny/module.yaml', (s) =>
      s
        .replace('{ from: runtime, to: runtime }', '{ from: runtime, to: runtime }\n      - { from: missing, to: extra }')
        .replace('  - version: 1.0.0', '  - version: 0.9.0'),
    );
    fs.rmSync(path.join(cat, 'docs/tiny.md'));
    const v = await vet(cat);
    expect(v.code).toBe(1);
    const got = v.report.problems.map((p) => [p.check, p.file, p.message.split(':')[0]]);
    expect(got).toEqual([
      ['templates', 'modules/tiny/module.yaml', 'frameworks.plain.vendor[1].from'],
      ['templates', 'templates/tiny/snippets/env.hbs', 'template templates/tiny/snippets/env.hbs does not exist'],
      ['templates', 'templates/tiny/snippets/readme.md.hbs', 'template templates/tiny/snippets/readme.md.hbs does not compile'],
      ['documentation', 'docs/tiny.md', 'documentation.overview'],
      ['changelog', 'modules/tiny/module.yaml', 'the changelog has no entry for 1.0.0'],
      ['version', 'modules/tiny/module.yaml', 'tiny 1.0.0 has no recorded content hash'],
    ]);
  });

  test('a module.yaml that breaks the schema names the field; vet without a module covers the catalogue', async () => {
    const cat = await tinyCatalogue();
    edit(cat, 'modules/tiny/module.yaml', (s) => s.replace('    language: node', '    language: cobol'));
    const r = await gen(cat, ['modules', 'vet', '--json']);
    expect(r.code).toBe(1);
    const all = vetAllReportSchema.parse(JSON.parse(r.stdout));
    expect(all.ok).toBe(false);
    expect(all.reports).toEqual([
      expect.objectContaining({
        module: 'tiny',
        version: null,
        problems: [
          expect.objectContaining({
            check: 'schema',
            file: 'modules/tiny/module.yaml',
            message: expect.stringContaining("field 'frameworks.plain.language'"),
          }),
        ],
      }),
    ]);
    const text = await gen(cat, ['modules', 'vet']);
    expect(text.stdout).toContain('FAIL tiny');
    expect(text.stdout).toContain('[schema]');
  });

  test('templatePaths: helpers, this, @data, #each/#with item paths are skipped; ../ and @root are resolved', () => {
    const src = [
      '{{vars.a}} {{json vars.b}} {{py (json vars.c)}} {{#if vars.d}}{{vars.e}}{{else}}{{vars.f}}{{/if}}',
      '{{#each vars.list}}{{this}} {{name}} {{@index}} {{../vars.g}} {{@root.vars.h}}{{/each}}',
      '{{#with module}}{{name}}{{/with}} {{file.toVendor}} {{../../too.far}}',
    ].join('\n');
    expect(templatePaths(src).sort()).toEqual(
      [
        '../../too.far',
        'file.toVendor',
        'module',
        'vars.a',
        'vars.b',
        'vars.c',
        'vars.d',
        'vars.e',
        'vars.f',
        'vars.g',
        'vars.h',
        'vars.list',
      ].sort(),
    );
  });
});
