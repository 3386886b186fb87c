import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { UsageError } from '../errors.js';
import { recordedOptions, type DesiredFile } from '../engine/render.js';
import type { ResolvedOptions } from '../engine/options.js';
import type { LoadedModule } from '../module/load.js';
import { generatorVersion } from '../util/version.js';
import {
  aggregateDigest,
  filesText,
  HINT,
  markedBlock,
  parseLockFast,
  sha256,
  validateLock,
  type FileEntry,
  type Lock,
  type ModuleEntry,
} from './read.js';
import { LOCK_PATH, splitFileBlocks, type SplitLock } from './scan.js';

export { aggregateDigest, markedBlock, sha256, validateLock, type FileEntry, type Lock, type ModuleEntry } from './read.js';

export { LOCK_PATH } from './scan.js';
const HEADER = '# Written by gen (gen add / gen modules lock); do not edit. Check it with: npx gen modules verify-all\n';

/**
 * Lock entries for what gen produced: vendor and wrapper files by content, snippet files by their marked blocks.
 * Blocks of snippets that carry secrets (.env) are never recorded: even a hash of them could be brute-forced.
 */
export function fileEntries(
  module: string,
  desired: DesiredFile[],
  secretSnippets: ReadonlySet<string> = new Set(),
): Map<string, FileEntry> {
  const files = new Map<string, FileEntry>();
  for (const f of [...desired].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (f.kind === 'vendor' || f.kind === 'wrapper') {
      files.set(f.path, { class: f.kind, sha256: sha256(f.content) });
    } else if (f.kind === 'snippet') {
      const text = f.content.toString('utf8');
      const blocks: Record<string, string> = {};
      for (const id of f.snippets ?? []) {
        if (secretSnippets.has(id)) continue;
        const block = markedBlock(text, f.path, module, id);
        if (block !== null) blocks[id] = sha256(block);
      }
      if (Object.keys(blocks).length === 0) continue; // e.g. package.json: dependencies, no marked block
      files.set(f.path, { class: 'snippet', blocks });
    }
  }
  return files;
}

/** Parses lock text (the `files` blocks on the fast path of ./scan.ts); malformed → UsageError (exit 2). */
export function parseLock(text: string, split: SplitLock = splitFileBlocks(text)): Lock {
  const fast = parseLockFast(text, split);
  if (fast) return fast;
  let raw: unknown;
  try {
    raw = parse(split.rest);
  } catch (e) {
    throw new UsageError(`${LOCK_PATH}: invalid YAML (${e instanceof Error ? e.message.split('\n')[0] : e})`, {
      file: LOCK_PATH,
      hint: HINT,
    });
  }
  return validateLock(raw, split.blocks);
}

export function readLock(projectDir: string): Lock | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(projectDir, LOCK_PATH), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return parseLock(text);
}

/** Deterministic YAML (sorted modules and files, no timestamps): a no-op re-run writes identical bytes. */
export function renderLock(lock: Lock): string {
  const modules = Object.fromEntries(
    Object.entries(lock.modules)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      // field by field, in the documented order (an entry read from a lock carries its files text too)
      .map(([name, m]) => [
        name,
        {
          version: m.version,
          framework: m.framework,
          generator: m.generator,
          templates: m.templates,
          digest: m.digest,
          options: m.options,
          files: filesText(m.files),
        },
      ]),
  );
  return HEADER + stringify({ lockVersion: 1, modules }, { lineWidth: 0, blockQuote: 'literal' });
}

export function withModule(lock: Lock | null, name: string, entry: ModuleEntry): Lock {
  return { lockVersion: 1, modules: { ...(lock?.modules ?? {}), [name]: entry } };
}

export interface EntryInput {
  mod: LoadedModule;
  framework: string;
  options: ResolvedOptions;
  desired: DesiredFile[];
  templatesHash: string;
}

/** One module's lock entry, from what gen renders (shared by add and `gen modules lock`). */
export function buildModuleEntry({ mod, framework, options, desired, templatesHash }: EntryInput): ModuleEntry {
  const secretSnippets = new Set(
    Object.entries(mod.def.snippets)
      .filter(([, s]) => s.secrets)
      .map(([id]) => id),
  );
  const files = fileEntries(mod.def.name, desired, secretSnippets);
  return {
    version: mod.def.version,
    framework,
    generator: generatorVersion(),
    templates: templatesHash,
    digest: aggregateDigest(files),
    options: recordedOptions(options),
    files,
  };
}
