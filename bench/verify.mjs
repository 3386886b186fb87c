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
const gen = (...args) =>
  spawnSync(process.execPath, [path.join(REPO, 'bin', 'gen.cjs'), ...args], {
    env: { ...process.env, GEN_CATALOGUE: cat },
    encoding: 'utf8',
  });
const recorded = gen('modules', 'vet', 'bulk', '--record'); // a released module: content hash + template digests
if (recorded.status !== 0) throw new Error(recorded.stdout + recorded.stderr);
const added = gen('add', 'module', 'bulk', '--project', project, '--yes');
if (added.status !== 0) throw new Error(added.stdout + added.stderr);

const snap = path.join(project, '.rapidkit', 'vendor', 'bulk', '1.0.0');
const list = path.join(work, 'files.txt');
fs.writeFileSync(list, execFileSync('find', [snap, '-type', 'f', '-print0']));
const fileCount = execFileSync('bash', ['-c', `tr -cd '\\0' < ${list} | wc -c`])
  .toString()
  .trim();

const time = (fn) => {
  const s = performance.now();
  fn();
  return performance.now() - s;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// the files were just written: flush them first, so that writeback does not land in the timed rounds, and run
// each side once untimed (both then read from a warm page cache)
execFileSync('sync');
execFileSync('bash', ['-c', `xargs -0 sha256sum < ${list} > /dev/null`]);
gen('modules', 'verify-all', '--project', project);
const ROUNDS = 7;
const t = { sha: [], verify: [], node: [] };
let verifyOk = true;
for (let i = 0; i < ROUNDS; i++) {
  // interleaved, so load from anything else on the machine hits all three alike
  t.sha.push(time(() => execFileSync('bash', ['-c', `xargs -0 sha256sum < ${list} > /dev/null`])));
  t.verify.push(time(() => (verifyOk = gen('modules', 'verify-all', '--project', project).status === 0 && verifyOk)));
  t.node.push(time(() => execFileSync(process.execPath, ['-e', '0'])));
}
// the timed runs checked something: one flipped byte must fail
const victim = path.join(snap, 'files', 'd57', 'f5701.js');
fs.appendFileSync(victim, 'x');
const caught = gen('modules', 'verify-all', '--project', project, '--json');
const named =
  caught.status === 1 && JSON.parse(caught.stdout).problems.some((p) => p.path.endsWith('d57/f5701.js') && p.status === 'changed');

const sha = median(t.sha);
const verify = median(t.verify);
const node = median(t.node);
const ratio = verify / sha;
const ok = ratio <= 2 && verifyOk && named;
console.log(
  `${fileCount} vendored files (${(Number(execFileSync('du', ['-sk', snap]).toString().split('\t')[0]) / 1024).toFixed(1)} MiB), median of ${ROUNDS} interleaved rounds, whole process each, ${os.availableParallelism?.() ?? os.cpus().length} cores`,
);
console.log(`sha256sum (xargs, 1 process)   ${sha.toFixed(0).padStart(6)} ms  baseline`);
console.log(
  `gen modules verify-all         ${verify.toFixed(0).padStart(6)} ms  ${ratio.toFixed(2)}x  target <= 2x  ${ok ? 'ok' : 'MISSED'}  (lock parse + re-hash + regeneration + extra-file scan; a flipped byte ${named ? 'was' : 'was NOT'} caught)`,
);
console.log(
  `  of which Node start-up alone ${node.toFixed(0).padStart(6)} ms  ${(node / sha).toFixed(2)}x  (node -e 0: the floor of any Node CLI on this machine)`,
);
if (!process.env.KEEP) fs.rmSync(work, { recursive: true, force: true });
else console.log(work);
process.exitCode = ok ? 0 : 1;
