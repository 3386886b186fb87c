// gen modules verify-all on a synthetic project with 10,000 vendored files, against `sha256sum` over the same files.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './lib.mjs';

const FILES = 10_000;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-bench-verify-'));
const cat = path.join(work, 'catalogue');
const project = path.join(work, 'project');
fs.mkdirSync(path.join(cat, 'modules', 'bulk'), { recursive: true });
fs.writeFileSync(path.join(cat, 'module.yaml'), 'catalogue: 1\nmodules:\n  - name: bulk\n    path: modules/bulk/module.yaml\n');
fs.writeFileSync(
  path.join(cat, 'modules', 'bulk', 'module.yaml'),
  `name: bulk
version: 1.0.0
description: Synthetic module with ${FILES} vendored files (benchmark)
templates: templates/bulk
compatibility: {}
variables: {}
frameworks:
  plain:
    label: Plain
    language: node
    detect: [{ file: marker.txt, contains: bulk }]
    vendor: [{ from: files, to: files }]
    wrappers: []
    snippets: []
snippets: {}
documentation: {}
changelog: [{ version: 1.0.0, date: 2026-11-23, summary: synthetic }]
`,
);
for (let i = 0; i < FILES; i++) {
  const dir = path.join(cat, 'templates', 'bulk', 'files', `d${Math.floor(i / 100)}`);
  if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `f${i}.js`), `// file ${i}\n${'x'.repeat(200 + (i % 1800))}\n`);
}
fs.mkdirSync(project);
fs.writeFileSync(path.join(project, 'marker.txt'), 'bulk\n');
const gen = (...args) => spawnSync(process.execPath, [path.join(REPO, 'bin', 'gen.js'), ...args], { env: { ...process.env, GEN_CATALOGUE: cat }, encoding: 'utf8' });
const recorded = gen('modules', 'vet', 'bulk', '--record'); // a released module: content hash + template digests
if (recorded.status !== 0) throw new Error(recorded.stdout + recorded.stderr);
const added = gen('add', 'module', 'bulk', '--project', project, '--yes');
if (added.status !== 0) throw new Error(added.stdout + added.stderr);

const snap = path.join(project, '.rapidkit', 'vendor', 'bulk', '1.0.0');
const list = path.join(work, 'files.txt');
fs.writeFileSync(list, execFileSync('find', [snap, '-type', 'f', '-print0']));
function median(fn, n = 5) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[Math.floor(n / 2)];
}
const shaTime = median(() => execFileSync('bash', ['-c', `xargs -0 sha256sum < ${list} > /dev/null`]));
let verifyOk = true;
const verifyTime = median(() => {
  const r = gen('modules', 'verify-all', '--project', project);
  verifyOk = verifyOk && r.status === 0;
});
const ratio = verifyTime / shaTime;
console.log(`${FILES} vendored files (${(Number(execFileSync('du', ['-sk', snap]).toString().split('\t')[0]) / 1024).toFixed(1)} MiB), median of 5 runs, whole process each`);
console.log(`sha256sum (xargs)          ${shaTime.toFixed(0).padStart(6)} ms (baseline)`);
console.log(`gen modules verify-all     ${verifyTime.toFixed(0).padStart(6)} ms  ${ratio.toFixed(2)}x  target <= 2x  ${ratio <= 2 && verifyOk ? 'ok' : 'MISSED'}  (re-hash + in-memory regeneration + extra-file scan)`);
if (!process.env.KEEP) fs.rmSync(work, { recursive: true, force: true }); else console.log(work);
process.exitCode = ratio <= 2 && verifyOk ? 0 : 1;
