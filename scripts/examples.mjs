// The bundled examples (examples/<framework>), copied without what builds and gen add made in them: the build's
// code-cache run (scripts/build.mjs), the demo (scripts/demo.mjs) and the tests (test/helpers.ts) start from one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples');
/** Build outputs, installed dependencies, gen's snapshots and lock, Python's bytecode caches. */
const SKIP = new Set(['node_modules', 'dist', '.rapidkit', '__pycache__']);

/**
 * Copies examples/`name` into the folder `dest` (created) without its build outputs.
 * @param {string} name
 * @param {string} dest
 */
export function copyExample(name, dest) {
  fs.cpSync(path.join(EXAMPLES, name), dest, { recursive: true, filter: (src) => !SKIP.has(path.basename(src)) });
}
