// gen --version against bare `node -e 0`: commands load lazily, so start-up should stay near bare node.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const gen = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'gen.js');
function median(cmd, args, n = 15) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed`);
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(n / 2)];
}
const bare = median(process.execPath, ['-e', '0']);
const version = median(process.execPath, [gen, '--version']);
const help = median(process.execPath, [gen, 'add', 'module', '--help']);
console.log(`node -e 0             ${bare.toFixed(1)} ms (baseline)`);
console.log(`gen --version         ${version.toFixed(1)} ms  ${(version / bare).toFixed(2)}x`);
console.log(`gen add module --help ${help.toFixed(1)} ms  ${(help / bare).toFixed(2)}x`);
