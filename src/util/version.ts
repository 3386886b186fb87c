import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** gen's own version, from its package.json. */
export function generatorVersion(): string {
  if (!cached) {
    const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
    cached = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
  }
  return cached;
}
