// The launcher (bin/gen.cjs): it compiles the bundle with the code cache the build made for it. A missing bundle is
// a usage error; a cache that is missing, from another build or refused by V8 only costs start-up time.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect, test } from 'vitest';
import { REPO, tempDir } from '../helpers.js';

/** A copy of the built package (launcher, bundle, catalogue) to change freely. */
function packageCopy(): string {
  const dir = tempDir('launcher');
  for (const f of ['bin', 'dist', 'package.json', 'module.yaml', 'modules'])
    fs.cpSync(path.join(REPO, f), path.join(dir, f), { recursive: true });
  return dir;
}
const gen = (dir: string, ...args: string[]) => execa('node', [path.join(dir, 'bin', 'gen.cjs'), ...args], { reject: false });

test('an unbuilt package is exit 2 with the command that builds it', async () => {
  const dir = packageCopy();
  fs.rmSync(path.join(dir, 'dist'), { recursive: true });
  const r = await gen(dir, '--version');
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('gen is not built yet: run `npm ci && npm run build`');
});

test('a code cache from another build, one V8 refuses, or none: gen answers the same', async () => {
  const dir = packageCopy();
  const cache = path.join(dir, 'dist', 'cli.cjs.cache');
  const built = fs.readFileSync(cache);
  const expected = await gen(dir, 'modules', 'list', '--json');
  expect(expected.exitCode, expected.stderr).toBe(0);
  expect(JSON.parse(expected.stdout)).toBeTruthy();
  const other = Buffer.from(built);
  other[0] = other[0] === 0x30 ? 0x31 : 0x30; // another build id
  const refused = Buffer.concat([built.subarray(0, 64), Buffer.alloc(4096, 7)]); // this build's id, not a V8 cache
  for (const [label, content] of [
    ['another build', other],
    ['refused by V8', refused],
    ['none', null],
  ] as const) {
    if (content) fs.writeFileSync(cache, content);
    else fs.rmSync(cache);
    const r = await gen(dir, 'modules', 'list', '--json');
    expect({ code: r.exitCode, stdout: r.stdout, stderr: r.stderr }, label).toEqual({ code: 0, stdout: expected.stdout, stderr: '' });
  }
});
