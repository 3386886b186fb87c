#!/usr/bin/env node
'use strict';
// The launcher. The CLI is one CommonJS bundle, dist/cli.cjs (scripts/build.mjs), compiled here with the V8 code
// cache the build made for it (dist/cli.cjs.cache): V8 then deserializes the bundle's code instead of parsing it.
// Commands still load lazily: the bundle runs a command's modules only when that command runs.
// (Node 20 has no compile cache of its own: module.enableCompileCache is 22.1+, and it writes at run time, where gen
// writes nothing outside the project. A cache V8 does not accept, another Node or other flags, is simply unused.)
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire, wrap } = require('node:module');

const dist = path.join(__dirname, '..', 'dist');
// verify-all is CI's hot path: its hashing worker (check/hash.ts) boots, ~30 ms, while the CLI is read and compiled
const hashWorker = process.argv[2] === 'modules' && process.argv[3] === 'verify-all' ? startHashWorker() : undefined;
const file = path.join(dist, 'cli.cjs');
let source;
try {
  source = fs.readFileSync(file, 'utf8');
} catch {
  process.stderr.write('gen is not built yet: run `npm ci && npm run build` in the gen folder.\n');
  process.exit(2);
}
const script = new vm.Script(wrap(source), {
  filename: file,
  cachedData: codeCache(source),
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const cli = { exports: {} };
script.runInThisContext().call(cli.exports, cli.exports, createRequire(file), cli, file, path.dirname(file));
cli.exports.main(process.argv, { hashWorker }).then(() => {
  // The command is done (main has set process.exitCode): leave once what it printed is flushed, rather than wait for
  // idle worker threads to wind down and the heap to be torn down at leisure.
  process.stdout.write('', () => process.stderr.write('', () => process.exit()));
});

/**
 * The code cache made for exactly this bundle: the build ends the bundle with a `//# gen-build=<sha256>` line and
 * starts the cache with the same id, so a cache left from another build is never handed to V8.
 */
function codeCache(text) {
  try {
    const id = /\/\/# gen-build=([0-9a-f]{64})\s*$/.exec(text.slice(-100))?.[1];
    const data = fs.readFileSync(`${file}.cache`);
    return id !== undefined && data.toString('latin1', 0, 64) === id ? data.subarray(64) : undefined;
  } catch {
    return undefined;
  }
}

/** The hashing worker, started now; check/hash.ts gives it its job (and reports its errors then). */
function startHashWorker() {
  const worker = path.join(dist, 'hash-worker.cjs');
  if (!fs.existsSync(worker)) return undefined;
  const w = new (require('node:worker_threads').Worker)(worker);
  w.on('error', () => {});
  w.unref();
  return w;
}
