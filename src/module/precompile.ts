// Build step (scripts/build.mjs): the shipped catalogue's YAML parsed and validated once, for dist/definitions.json.
import fs from 'node:fs';
import path from 'node:path';
import { definitionKey, parseYaml } from './load.js';
import { catalogueSchema, moduleSchema } from './schema.js';

/** `<schema>:<sha256 of the text>` → the validated value, for the catalogue at `root` and every module it lists. */
export function precompileCatalogue(root: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const catText = fs.readFileSync(path.join(root, 'module.yaml'), 'utf8');
  const cat = parseYaml(catText, catalogueSchema, 'module.yaml');
  out[definitionKey('catalogue', catText)] = cat;
  for (const m of cat.modules) {
    const text = fs.readFileSync(path.join(root, m.path), 'utf8');
    out[definitionKey('module', text)] = parseYaml(text, moduleSchema, m.path);
  }
  return out;
}
