import fs from 'node:fs';
import path from 'node:path';
import type { LoadedModule } from './load.js';
import type { ModuleDef } from './schema.js';
import { listFiles } from '../util/files.js';
import { sha256 } from '../util/sha256.js';

/** Recorded content hash per released version: `modules/<name>/.module-state.json`. */
export interface ModuleState {
  versions: Record<string, string>;
  /**
   * Per released version: the sha256 of every template file (raw bytes) as `<sha256>  <path inside templates>` lines
   * sorted by path (what `sha256sum` prints; see `digestLines`). Lines, not a path → digest object: a 10,000-file
   * module reads them without a 10,000-key object, and verify finds a file's line by walking them in the lock's order.
   */
  digests?: Record<string, string[]>;
}

export const STATE_FILE = '.module-state.json';

export function statePath(mod: Pick<LoadedModule, 'file'>): string {
  return path.join(path.dirname(mod.file), STATE_FILE);
}

/** The state next to a module.yaml (empty when there is none or it is unreadable). */
export function readState(mod: Pick<LoadedModule, 'file'>): ModuleState {
  let parsed: { versions?: Record<string, string>; digests?: Record<string, unknown> };
  try {
    parsed = JSON.parse(fs.readFileSync(statePath(mod), 'utf8')) as typeof parsed;
  } catch {
    return { versions: {} };
  }
  const digests: Record<string, string[]> = {};
  for (const [version, recorded] of Object.entries(parsed.digests ?? {})) {
    const lines = recordedLines(recorded);
    if (lines) digests[version] = lines;
  }
  return { versions: parsed.versions ?? {}, digests };
}

/** Where a digest line's path starts: `<64 hex>  <path>` (see `ModuleState.digests`). */
export const DIGEST_PATH_AT = 66;

/**
 * One version's digests as recorded; null when they are not `<sha256>  <path>` lines (verify reads the templates
 * instead). A state file written before the lines holds a path → digest object: read the same. (Neither the hex nor
 * the order is checked here: a line whose digest is not one never matches a file's, and verify finds lines in any
 * order, only faster in the order written.)
 */
function recordedLines(recorded: unknown): string[] | null {
  if (recorded !== null && typeof recorded === 'object' && !Array.isArray(recorded))
    return recordedLines(Object.entries(recorded).map(([p, sha]) => (typeof sha === 'string' ? `${sha}  ${p}` : null)));
  if (!Array.isArray(recorded)) return null;
  for (const l of recorded as unknown[])
    if (typeof l !== 'string' || l.length <= DIGEST_PATH_AT || l.charCodeAt(64) !== 32 || l.charCodeAt(65) !== 32) return null;
  return recorded as string[];
}

/** `<sha256>  <path>` lines (see `ModuleState.digests`), sorted by path, from a path → sha256 record. */
export function digestLines(digests: Record<string, string>): string[] {
  return Object.entries(digests)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([p, sha]) => `${sha}  ${p}`);
}

export function writeState(mod: LoadedModule, state: ModuleState): void {
  const sorted = Object.fromEntries(Object.entries(state.versions).sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })));
  const byVersion = <T>(m: Record<string, T> | undefined) =>
    Object.fromEntries(
      Object.entries(m ?? {})
        .filter(([v]) => v in sorted)
        .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })),
    );
  fs.writeFileSync(statePath(mod), JSON.stringify({ versions: sorted, digests: byVersion(state.digests) }, null, 2) + '\n');
}

/** Records the current content hash and template digests as those of the current version. */
export function recordVersion(mod: LoadedModule): string {
  const state = readState(mod);
  const hash = moduleContentHash(mod);
  state.versions[mod.def.version] = hash;
  state.digests = { ...state.digests, [mod.def.version]: digestLines(templateDigests(mod)) };
  writeState(mod, state);
  return hash;
}

/** sha256 of every template file's raw bytes (what a verbatim vendor file is a copy of). */
export function templateDigests(mod: LoadedModule): Record<string, string> {
  // build outputs are included: they are what gets vendored
  const out: Record<string, string> = {};
  for (const rel of listFiles(mod.templatesDir)) {
    if (rel.includes('node_modules/')) continue;
    out[rel] = sha256(fs.readFileSync(path.join(mod.templatesDir, rel)));
  }
  return out;
}

/**
 * sha256 over the sorted `sha256  path` lines of the module folder and its templates (build outputs, caches
 * and the state file itself excluded; line endings normalised so a Windows checkout hashes the same). module.yaml
 * counts as its parsed definition without the changelog.
 */
export function moduleContentHash(mod: LoadedModule): string {
  const lines: string[] = [];
  const add = (dir: string, label: string, skip: (rel: string) => boolean) => {
    if (!fs.existsSync(dir)) return;
    for (const rel of listFiles(dir)) {
      if (skip(rel)) continue;
      if (label === 'module' && rel === path.basename(mod.file)) {
        // the definition, not its text: comments and the changelog's prose are not content (describing a bump after
        // `--bump` must not look like another change); the version is part of it
        lines.push(`${sha256(JSON.stringify({ ...mod.def, changelog: undefined }))}  ${label}/${rel}`);
        continue;
      }
      const data = fs.readFileSync(path.join(dir, rel));
      const norm = data.includes(0) ? data : Buffer.from(data.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
      lines.push(`${sha256(norm)}  ${label}/${rel}`);
    }
  };
  const outputs = mod.def.build?.outputs ?? [];
  add(path.dirname(mod.file), 'module', (rel) => rel === STATE_FILE);
  add(mod.templatesDir, 'templates', (rel) => outputs.some((o) => rel === o || rel.startsWith(`${o}/`)) || rel.includes('node_modules/'));
  lines.sort();
  return `sha256:${sha256(lines.join('\n') + '\n')}`;
}

export type DriftStatus =
  { status: 'ok'; hash: string } | { status: 'unrecorded'; hash: string } | { status: 'drift'; hash: string; recorded: string };

export function checkDrift(mod: LoadedModule): DriftStatus {
  const hash = moduleContentHash(mod);
  const recorded = readState(mod).versions[mod.def.version];
  if (recorded === undefined) return { status: 'unrecorded', hash };
  if (recorded !== hash) return { status: 'drift', hash, recorded };
  return { status: 'ok', hash };
}
