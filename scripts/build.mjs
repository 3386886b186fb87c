#!/usr/bin/env node
// Bundles the CLI (src/ → dist/): dist/cli.cjs, the whole CLI with its dependencies in one CommonJS file, and
// dist/hash-worker.cjs, the hashing worker. Start-up reads two files instead of resolving hundreds in node_modules,
// and commands still load lazily: esbuild wraps every module a dynamic `import()` reaches in an init function, so a
// command's modules (and commander, yaml, zod, …) run only when used. The build then makes the V8 code cache of
// dist/cli.cjs (dist/cli.cjs.cache) that bin/gen.cjs compiles it with: one file and its cache cost less at start-up
// than the ES module loader linking thirty chunks and V8 parsing each (docs/benchmarks.md).
// Type checking is `tsc --noEmit` (npm run typecheck), run by `npm run build` first.
import { build } from 'esbuild';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { copyExample } from './examples.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
/** What the bundles share: Node 20.19+, CommonJS, minified (V8 scans every byte of a file it compiles). */
const common = {
  absWorkingDir: root,
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  // jsonc-parser's "main" is a UMD build that requires its parts at run time; its "module" build bundles
  mainFields: ['module', 'main'],
  // the sources are ES modules: import.meta.url is this file's URL (from the CommonJS module's own __filename)
  define: { 'import.meta.url': '__genFileUrl' },
  banner: { js: "const __genFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  minify: process.env.GEN_BUILD_PLAIN !== '1',
  legalComments: 'none',
  logLevel: 'warning',
};
// the CLI, and the build's own precompile step
await build({ ...common, entryPoints: { cli: 'src/cli.ts', precompile: 'src/module/precompile.ts' } });
// the hashing worker (a worker thread boots a small CommonJS file soonest; it uses no import.meta)
await build({ ...common, entryPoints: { 'hash-worker': 'src/check/hash-worker.ts' }, define: {}, banner: {} });

// the shipped catalogue, parsed and validated by the same yaml + zod now rather than at every start of gen
const precompile = path.join(dist, 'precompile.cjs');
fs.writeFileSync(path.join(dist, 'definitions.json'), JSON.stringify(createRequire(import.meta.url)(precompile).precompileCatalogue(root)));
fs.rmSync(precompile);

// The code cache: the bundle compiled as bin/gen.cjs compiles it (same wrapper, file name and options), then run on
// a copy of examples/fastapi (gen add module redis, then gen modules verify-all) so that the cache also holds the
// functions V8 compiles lazily on the way (commander, yaml, zod, the engine, the checks): what any command runs
// first is then deserialized, not compiled. Cache and bundle carry the same build id (bin/gen.cjs uses no cache made
// for another bundle).
const cli = path.join(dist, 'cli.cjs');
let text = fs.readFileSync(cli, 'utf8');
const id = crypto.createHash('sha256').update(text).digest('hex');
text += `//# gen-build=${id}\n`;
fs.writeFileSync(cli, text);
const script = new vm.Script(Module.wrap(text), { filename: cli, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
const bundle = { exports: {} };
script.runInThisContext().call(bundle.exports, bundle.exports, createRequire(cli), bundle, cli, dist);
const sample = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-build-'));
const write = process.stdout.write;
try {
  copyExample('fastapi', sample);
  process.stdout.write = () => true; // (what the commands print)
  for (const words of [
    ['add', 'module', 'redis', '--yes'],
    ['modules', 'verify-all'],
  ]) {
    await bundle.exports.main(['node', 'gen', ...words, '--project', sample]);
    if (process.exitCode) throw new Error(`build: gen ${words.join(' ')} on a copy of examples/fastapi failed (${process.exitCode})`);
  }
} finally {
  process.stdout.write = write;
  fs.rmSync(sample, { recursive: true, force: true });
}
fs.writeFileSync(`${cli}.cache`, Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]));
// (the sample's hashing workers are idle and unreferenced: leave now rather than wait for them)
process.exit();
