// CLI start-up against bare `node -e 0`, in the same run: wall time for `gen --version` (commands load lazily, so
// it should stay near bare node) and CPU time (user + system, every thread) for `gen add module redis --dry-run`
// on a copy of examples/fastapi (the whole add pipeline: load, resolve, render, classify, no write).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './lib.mjs';

const gen = path.join(REPO, 'bin', 'gen.cjs');
// each process reports its own CPU time (getrusage of the whole process) on fd 3 when it exits
const REPORT = `data:text/javascript,import fs from "node:fs";process.on("exit",()=>{const u=process.cpuUsage();fs.writeSync(3,String((u.user+u.system)/1000))})`;

function run(args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', REPORT, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { wall, cpu: Number(r.output[3].toString()) };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const project = fs.mkdtempSync(path.join(REPO, '.tmp', 'bench-startup-'));
fs.cpSync(path.join(REPO, 'examples', 'fastapi'), project, { recursive: true });
const cases = {
  bare: ['-e', '0'],
  version: [gen, '--version'],
  help: [gen, 'add', 'module', '--help'],
  dryRun: [gen, 'add', 'module', 'redis', '--dry-run', '--project', project],
};
const t = Object.fromEntries(Object.keys(cases).map((k) => [k, { wall: [], cpu: [] }]));
for (const args of Object.values(cases)) run(args); // warm the page cache
for (let i = 0; i < 15; i++) {
  // interleaved: load from anything else on the machine hits every case alike
  for (const [k, args] of Object.entries(cases)) {
    const r = run(args);
    t[k].wall.push(r.wall);
    t[k].cpu.push(r.cpu);
  }
}
fs.rmSync(project, { recursive: true, force: true });

const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { wall: median(v.wall), cpu: median(v.cpu) }]));
let ok = true;
const line = (label, value, base, target, unit) => {
  const ratio = value / base;
  const pass = target === null || ratio <= target;
  ok &&= pass;
  const goal = target === null ? '' : `  target <= ${target}x  ${pass ? 'ok' : 'MISSED'}`;
  console.log(`${label.padEnd(40)} ${value.toFixed(1).padStart(7)} ms ${unit}  ${ratio.toFixed(2)}x${goal}`);
};
console.log(`${'node -e 0'.padEnd(40)} ${m.bare.wall.toFixed(1).padStart(7)} ms wall, ${m.bare.cpu.toFixed(1)} ms cpu (baseline)`);
line('gen --version', m.version.wall, m.bare.wall, 1.5, 'wall');
line('gen add module --help', m.help.wall, m.bare.wall, null, 'wall');
line('gen add module redis --dry-run', m.dryRun.cpu, m.bare.cpu, 4, 'cpu ');
process.exitCode = ok ? 0 : 1;
