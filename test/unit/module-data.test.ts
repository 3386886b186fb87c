// Generic module data the engine honours: `when` on wrappers and snippets, string `choices`, detect rules without
// `contains` and `fallback` frameworks. Checked on an in-memory module definition (no module named in src/engine).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { detectFrameworks } from '../../src/engine/detect.js';
import { resolveOptions } from '../../src/engine/options.js';
import { activeWrappers, isActive } from '../../src/engine/render.js';
import { moduleSchema, type ModuleDef } from '../../src/module/schema.js';

const def: ModuleDef = moduleSchema.parse({
  name: 'demo',
  version: '1.0.0',
  description: 'demo',
  templates: 'templates/demo',
  compatibility: {},
  variables: { compat: { type: 'string', default: 'none', choices: ['none', 'alpha', 'beta'] } },
  frameworks: {
    web: {
      label: 'Web',
      language: 'node',
      detect: [{ file: 'package.json', contains: '"web"' }],
      vendor: [{ from: 'a', to: 'a' }],
      wrappers: [],
      snippets: [],
    },
    plain: {
      label: 'Plain',
      language: 'node',
      fallback: true,
      detect: [{ file: 'package.json' }],
      vendor: [{ from: 'a', to: 'a' }],
      wrappers: [
        { template: 'w.hbs', path: 'src/w.ts' },
        { template: 'alpha.hbs', path: 'src/alpha.ts', when: { compat: 'alpha' } },
        { template: 'ab.hbs', path: 'src/ab.ts', when: { compat: ['alpha', 'beta'] } },
      ],
      snippets: [],
    },
  },
  snippets: {},
  documentation: {},
  changelog: [{ version: '1.0.0', date: '2026-11-30', summary: 'x' }],
});

const project = (pkg: object | null) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-data-'));
  if (pkg) fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  return dir;
};

describe('module data', () => {
  test('a fallback framework is detected only when nothing more specific is', () => {
    expect(detectFrameworks(def, project({ dependencies: { web: '1' } }))).toEqual(['web']);
    expect(detectFrameworks(def, project({ dependencies: { other: '1' } }))).toEqual(['plain']);
    expect(detectFrameworks(def, project(null))).toEqual([]);
  });

  test('wrappers render only when their `when` matches the resolved variables', () => {
    const fw = def.frameworks.plain!;
    const paths = (compat: string) =>
      activeWrappers(fw, resolveOptions({ def, projectDir: project(null), sets: [`compat=${compat}`], env: {} })).map((w) => w.path);
    expect(paths('none')).toEqual(['src/w.ts']);
    expect(paths('alpha')).toEqual(['src/w.ts', 'src/alpha.ts', 'src/ab.ts']);
    expect(paths('beta')).toEqual(['src/w.ts', 'src/ab.ts']);
    expect(isActive(undefined, {})).toBe(true);
  });

  test('a string variable with choices refuses anything else, naming the flag and the choices', () => {
    expect(() => resolveOptions({ def, projectDir: project(null), sets: ['compat=gamma'], env: {} })).toThrow(
      /--set compat: expected one of none, alpha, beta/,
    );
  });

  test('the schema refuses a `when` on an undeclared variable and a default outside the choices', () => {
    const bad = structuredClone(def) as any;
    bad.frameworks.plain.wrappers[1].when = { nope: 'x' };
    bad.variables.compat.default = 'gamma';
    const r = moduleSchema.safeParse(bad);
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['frameworks.plain.wrappers.1.when.nope', 'variables.compat.default']));
  });
});

describe('definitions validated at build time (dist/definitions.json)', () => {
  test('hold exactly what yaml + zod give for the shipped catalogue, keyed by content', async () => {
    const { definitionKey, parseYaml, PRECOMPILED } = await import('../../src/module/load.js');
    const { catalogueSchema: cat } = await import('../../src/module/schema.js');
    const root = path.resolve(__dirname, '..', '..');
    const built = JSON.parse(fs.readFileSync(path.join(root, PRECOMPILED), 'utf8'));
    const catText = fs.readFileSync(path.join(root, 'module.yaml'), 'utf8');
    expect(built[definitionKey('catalogue', catText)]).toEqual(parseYaml(catText, cat, 'module.yaml'));
    const modText = fs.readFileSync(path.join(root, 'modules/redis/module.yaml'), 'utf8');
    expect(built[definitionKey('module', modText)]).toEqual(parseYaml(modText, moduleSchema, 'modules/redis/module.yaml'));
    // any other text (an edited copy) is not in it: it is parsed and validated, and its errors reported
    expect(built[definitionKey('module', modText + '\n# edited\n')]).toBeUndefined();
  });
});
