import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePlainYaml } from '../util/plain-yaml.js';
import { generatorVersion } from '../util/version.js';
import type { LoadedModule } from './load.js';
import { isRelPath, NAME } from './rules.js';
import type { Catalogue } from './schema.js';
import { definitionSource, readState, type ModuleState } from './state.js';

// verify-all reads a released module from the definition recorded with it (state.ts: RecordedDefinition), so that it
// loads neither `yaml` nor `zod` (together ~80 ms, more than hashing 10,000 files on two cores).

/** The folder holding the top-level module.yaml: GEN_CATALOGUE, else the gen package itself. */
export function catalogueRoot(): string {
  const fromEnv = process.env.GEN_CATALOGUE;
  if (fromEnv) return path.resolve(fromEnv);
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * True only for what `catalogueSchema` (./schema.ts) accepts; anything else goes to the full loader, which reports
 * it (test/unit/recorded.test.ts holds the two together).
 */
export function isPlainCatalogue(raw: unknown): raw is Catalogue {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const c = raw as Record<string, unknown>;
  if (
    Object.keys(c).some((k) => k !== 'catalogue' && k !== 'modules') ||
    c.catalogue !== 1 ||
    !Array.isArray(c.modules) ||
    c.modules.length === 0
  )
    return false;
  return c.modules.every((m: unknown) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
    const e = m as Record<string, unknown>;
    return (
      Object.keys(e).every((k) => k === 'name' || k === 'path' || k === 'summary') &&
      typeof e.name === 'string' &&
      NAME.test(e.name) &&
      isRelPath(e.path) &&
      (e.summary === undefined || typeof e.summary === 'string')
    );
  });
}

/**
 * The module `name` from the definition recorded with its release, when module.yaml is byte for byte (line
 * endings aside) what was recorded and this gen version recorded it; otherwise null (then use `loadModule`).
 */
export function loadRecordedModule(name: string, root = catalogueRoot()): (LoadedModule & { state: ModuleState }) | null {
  try {
    const cat = parsePlainYaml(fs.readFileSync(path.join(root, 'module.yaml'), 'utf8'));
    if (!isPlainCatalogue(cat)) return null;
    const entry = cat.modules.find((m) => m.name === name);
    if (!entry) return null;
    const file = path.join(root, entry.path);
    const source = definitionSource(fs.readFileSync(file, 'utf8'));
    const state = readState({ file });
    const generator = generatorVersion();
    const recorded = Object.values(state.definitions ?? {}).find((d) => d.source === source && d.generator === generator);
    if (!recorded || recorded.def?.name !== name || typeof recorded.def.templates !== 'string') return null;
    // the state comes along: it holds the template digests the caller needs next (one parse of a large file)
    return { def: recorded.def, file, shown: entry.path, root, templatesDir: path.join(root, recorded.def.templates), state };
  } catch {
    return null; // anything unreadable: the full loader reports it properly
  }
}
