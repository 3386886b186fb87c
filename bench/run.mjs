#!/usr/bin/env node
// `npm run bench [part...]`: every benchmark prints ratios against a baseline measured in the same run.
// `npm run bench peers`: the runtimes side by side with the peer libraries (Python and Node).
// Each part starts what it needs (loopback redis-server on a random port) and stops it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const parts = [
  ['CLI start-up', 'startup.mjs'],
  ['Python runtime', 'python.mjs'],
  ['Node runtime', 'node.mjs'],
  ['verify-all hashing', 'verify.mjs'],
  // opt-in (`npm run bench peers`): side by side with the libraries a user would otherwise choose
  ['Peers, Python (cashews, aiocache, raw redis-py)', 'peers-python.mjs', 'opt-in'],
  ['Peers, Node (@nestjs/cache-manager, bentocache, raw ioredis)', 'peers-node.mjs', 'opt-in'],
];
const only = process.argv.slice(2);
let failed = 0;
for (const [title, file, optIn] of parts) {
  if (only.length ? !only.some((o) => file.startsWith(o)) : optIn) continue;
  const p = path.join(here, file);
  if (!fs.existsSync(p)) {
    console.log(`\n== ${title}: bench/${file} missing`);
    failed++;
    continue;
  }
  console.log(`\n== ${title} (bench/${file})`);
  const r = spawnSync(process.execPath, [p], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
