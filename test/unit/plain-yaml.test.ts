import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { parse as yamlParse, stringify } from 'yaml';
import { parsePlainYaml } from '../../src/util/plain-yaml.js';

const parse = (text: string) => yamlParse(text, { logLevel: 'error' });
const REPO = path.resolve(import.meta.dirname, '..', '..');

/** The contract: outside the subset → undefined; inside → exactly what `yaml` returns. */
function agrees(text: string): 'fast' | 'fallback' {
  const fast = parsePlainYaml(text);
  if (fast === undefined) return 'fallback';
  // node's deep equality: vitest's treats an own `constructor` key as the object's type
  expect(isDeepStrictEqual(fast, parse(text)), `${text}\n${JSON.stringify(fast)}\n${JSON.stringify(parse(text))}`).toBe(true);
  return 'fast';
}

// scalars on both sides of every rule the reader has
const TOKENS = [
  'a',
  'redis',
  '1.0.0',
  'sha256:abc',
  'http://h:1/x',
  'a:b',
  'a: b',
  'a:',
  ':a',
  '-a',
  '- a',
  '-',
  '--',
  '+a',
  '.a',
  '/x',
  '_x',
  '0',
  '1',
  '-1',
  '-0',
  '+1',
  '007',
  '12',
  '123456789012345',
  '1234567890123456',
  '1.5',
  '1.',
  '.5',
  '1e3',
  '1E-3',
  '0x1F',
  '0o17',
  '0b1',
  '.inf',
  '-.inf',
  '.nan',
  '.NaN',
  'inf',
  'nan',
  'null',
  'Null',
  'NULL',
  '~',
  'true',
  'True',
  'TRUE',
  'false',
  'tRue',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  '2026-11-23',
  '12:30',
  '1_000',
  '@a',
  '`a',
  '!a',
  '&a',
  '*a',
  '%a',
  '|',
  '>',
  '|-',
  '? a',
  '[a]',
  '{a: 1}',
  '{}',
  '[]',
  '[ ]',
  '{ }',
  '"a"',
  '"a b"',
  '"a\\nb"',
  '"a\\x41"',
  '"\\u00e9"',
  '"a" b',
  '"a',
  "'a'",
  "'it''s'",
  "'a' b",
  "'a",
  "''",
  '""',
  '"#"',
  'a#b',
  'a #b',
  'a=b',
  'a@b',
  'é',
  'a b',
  ' a',
  'a ',
  'a,b',
  'a]',
  'k.v',
  '__proto__',
  'constructor',
];
const KEYS = [
  'a',
  'redis',
  'x_y',
  'a.b',
  'a-b',
  '1',
  'true',
  'null',
  '1.0.0',
  '__proto__',
  'constructor',
  'A',
  '_k',
  '0x1',
  'a b',
  '"q"',
  'k:',
];

function rand(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('parsePlainYaml (the lock and catalogue fast path)', () => {
  it('reads every scalar exactly as yaml does, or declines', () => {
    let fast = 0;
    for (const t of TOKENS) {
      if (agrees(`k: ${t}\n`) === 'fast') fast++;
      agrees(`- ${t}\n`);
      agrees(`${t}: v\n`);
      agrees(`m:\n  - ${t}\n  - k: ${t}\n    j: ${t}\n`);
    }
    expect(fast).toBeGreaterThan(30); // it is a fast path, not a path that is never taken
  });

  it('agrees with yaml on random documents built from those pieces (or declines)', () => {
    const r = rand(42);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
    let fast = 0;
    for (let n = 0; n < 3000; n++) {
      const lines: string[] = [];
      const depth = () => '  '.repeat(Math.floor(r() * 3));
      for (let i = 0, m = 1 + Math.floor(r() * 6); i < m; i++) {
        const kind = r();
        if (kind < 0.45) lines.push(`${depth()}${pick(KEYS)}: ${pick(TOKENS)}`);
        else if (kind < 0.65) lines.push(`${depth()}${pick(KEYS)}:`);
        else if (kind < 0.8) lines.push(`${depth()}- ${pick(TOKENS)}`);
        else if (kind < 0.9) lines.push(`${depth()}- ${pick(KEYS)}: ${pick(TOKENS)}`);
        else lines.push(pick(['', '# c', '  # c', '---', '\t', 'k: v # c', 'k:  v', 'k: v ']));
      }
      let text = lines.join(r() < 0.2 ? '\r\n' : '\n') + '\n';
      if (!lines[0] || /^\s/.test(lines[0])) text = `root:\n${text}`;
      let ok = true;
      try {
        parse(text);
      } catch {
        ok = false; // invalid YAML must never be accepted
      }
      const got = parsePlainYaml(text);
      if (!ok) expect(got, text).toBeUndefined();
      else if (agrees(text) === 'fast') fast++;
    }
    expect(fast).toBeGreaterThan(200);
  });

  it('reads back what yaml.stringify writes for plain data', () => {
    const r = rand(7);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
    const leaf = () =>
      pick<unknown>([
        'a',
        'redis-cache',
        '1.0.0',
        'sha256:0f',
        7,
        -3,
        0,
        true,
        false,
        null,
        'true',
        '1',
        '1.5',
        'a b',
        "it's",
        'x:y',
        '',
        {},
        [],
      ]);
    const value = (d: number): unknown => {
      const k = r();
      if (d > 2 || k < 0.5) return leaf();
      if (k < 0.75) return Array.from({ length: 1 + Math.floor(r() * 3) }, () => value(d + 1));
      return Object.fromEntries(
        Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => [`${pick(['k', 'name', 'path', 'v'])}${i}`, value(d + 1)]),
      );
    };
    let fast = 0;
    for (let n = 0; n < 2000; n++) {
      const doc = Object.fromEntries(Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => [`key${i}`, value(0)]));
      const text = stringify(doc, { lineWidth: 0 });
      const got = parsePlainYaml(text);
      if (got !== undefined) {
        fast++;
        expect(isDeepStrictEqual(got, doc), text).toBe(true);
      }
    }
    expect(fast).toBeGreaterThan(1000);
  });

  it('takes the catalogue and a real lock on the fast path', () => {
    expect(agrees(fs.readFileSync(path.join(REPO, 'module.yaml'), 'utf8'))).toBe('fast');
    expect(agrees(fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'catalogue', 'module.yaml'), 'utf8'))).toBe('fast');
    const lockRest = [
      '# Written by gen',
      'lockVersion: 1',
      'modules:',
      '  redis:',
      '    version: 1.0.0',
      '    framework: fastapi',
      '    generator: 0.1.0',
      `    templates: sha256:${'a'.repeat(64)}`,
      '    options:',
      '      cache_ttl: 300',
      '      key_prefix: "app:"',
      '      redis_password:',
      '        secret: true',
      '        env: REDIS_PASSWORD',
      '      tls: false',
      '    files: "__gen_files_block_0"',
    ].join('\n');
    expect(agrees(lockRest)).toBe('fast');
  });

  it('declines what it does not read (then yaml decides)', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: |\n  x\n',
      'a: {b: 1}\n',
      'a: 1\na: 2\n',
      '  a: 1\n',
      'a:\n\tb: 1\n',
      '--- \na: 1\n',
      'a: 1.5\n',
      '"a": 1\n',
      'plain\n',
      '',
    ]) {
      expect(parsePlainYaml(text), text).toBeUndefined();
    }
  });
});
