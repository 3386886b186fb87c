#!/usr/bin/env node
// `npm run demo -- <fastapi|nestjs|fastify|express>`: the main job on a bundled example. Copies examples/<fw> to
// .tmp/demo-<fw> (so the repository stays clean), runs `gen add module redis` on it, runs it again to show
// that nothing changes, and prints how to start the app.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyExample } from './examples.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fw = process.argv[2] ?? 'fastapi';
const src = path.join(repo, 'examples', fw);
if (!fs.existsSync(src)) {
  console.error(`unknown example '${fw}': choose fastapi, nestjs, fastify or express`);
  process.exit(2);
}
const dest = path.join(repo, '.tmp', `demo-${fw}`);
fs.rmSync(dest, { recursive: true, force: true });
copyExample(fw, dest);
const gen = (...args) => {
  console.log(`\n$ gen ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'gen.cjs'), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
gen('add', 'module', 'redis', '--project', path.relative(process.cwd(), dest) || '.');
gen('add', 'module', 'redis', '--project', path.relative(process.cwd(), dest) || '.', '--dry-run');
const start = fw === 'fastapi' ? 'PORT=8000 /usr/bin/python3 main.py' : 'npm run build && PORT=3000 npm start';
console.log(`\nDone. Start it (with a Redis on localhost:6379, or REDIS_URL set):\n  cd ${path.relative(process.cwd(), dest)} && ${start}`);
