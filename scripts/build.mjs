#!/usr/bin/env node
// Bundles the CLI (src/ → dist/): one file per entry (the CLI, the hashing worker), each command a chunk loaded only
// when it runs. Dependencies are bundled too: start-up reads a few files instead of resolving hundreds in
// node_modules. Type checking is `tsc --noEmit` (npm run typecheck), run by `npm run build` first.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', precompile: 'src/module/precompile.ts' },
  outdir: 'dist',
  // flat: the hashing worker is found next to the chunk that starts it
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // jsonc-parser's "main" is a UMD build that requires its parts at run time; its "module" build bundles
  mainFields: ['module', 'main'],
  target: 'node20.19',
  // bundled CommonJS packages (commander, handlebars, semver) call require() for Node's own modules
  banner: { js: "import { createRequire as __genRequire } from 'node:module'; const require = __genRequire(import.meta.url);" },
  // minified: V8 scans every byte of a chunk it loads, even of functions it never runs
  minify: process.env.GEN_BUILD_PLAIN !== '1',
  legalComments: 'none',
  logLevel: 'warning',
});

// the hashing worker: one CommonJS file (a worker thread boots it without the ES module loader, sooner)
await build({
  absWorkingDir: root,
  entryPoints: { 'hash-worker': 'src/check/hash-worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  minify: process.env.GEN_BUILD_PLAIN !== '1',
  legalComments: 'none',
  logLevel: 'warning',
});

// the shipped catalogue, parsed and validated by the same yaml + zod now rather than at every start of gen
const { precompileCatalogue } = await import(path.join(root, 'dist', 'precompile.js'));
fs.writeFileSync(path.join(root, 'dist', 'definitions.json'), JSON.stringify(precompileCatalogue(root)));
