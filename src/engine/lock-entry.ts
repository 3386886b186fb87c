import type { LoadedModule } from '../module/load.js';
import { aggregateDigest, markedBlock } from '../lock/read.js';
import type { FileEntry, ModuleEntry } from '../lock/schema.js';
import { sha256 } from '../util/sha256.js';
import { generatorVersion } from '../util/version.js';
import { recordedOptions, type ResolvedOptions } from './options.js';
import type { DesiredFile } from './render.js';

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
