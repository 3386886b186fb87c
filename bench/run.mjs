#!/usr/bin/env node
// `npm run bench`: every benchmark prints ratios against a baseline measured in the same run.
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
];
const only = process.argv.slice(2);
let failed = 0;
for (const [title, file] of parts) {
  if (only.length && !only.some((o) => file.startsWith(o))) continue;
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
