import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { commentStyleFor, markerLines } from '../engine/comments.js';
import { recordedOptions, type DesiredFile } from '../engine/render.js';
import type { ResolvedOptions } from '../engine/options.js';
import type { LoadedModule } from '../module/load.js';
import { generatorVersion } from '../util/version.js';

export const LOCK_PATH = '.rapidkit/modules.lock.yaml';
const HEADER = '# Written by gen (gen add / gen modules lock); do not edit. Check it with: npx gen modules verify-all\n';

export const fileEntrySchema = z.strictObject({
  class: z.enum(['vendor', 'wrapper', 'snippet']),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** snippet entries: the marked blocks in that file, by snippet id */
  blocks: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)).optional(),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

export const moduleEntrySchema = z.strictObject({
  version: z.string(),
  framework: z.string(),
  generator: z.string(),
  templates: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  options: z.record(z.string(), z.unknown()),
  // each line was already checked by LINE while parsing; a per-entry zod pass costs ~40 ms on 10k files
  files: z.custom<Record<string, FileEntry>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'a list of "<sha256>  <class>  <path>" lines'),
});
export type ModuleEntry = z.infer<typeof moduleEntrySchema>;

export const lockSchema = z.strictObject({
  lockVersion: z.literal(1),
  modules: z.record(z.string(), moduleEntrySchema),
});
export type Lock = z.infer<typeof lockSchema>;

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Go dirhash-style aggregate: sha256 over the sorted `hash  path` lines, so the lock diffs one line per module. */
export function aggregateDigest(files: Record<string, FileEntry>): string {
  const lines = Object.entries(files)
    .map(([p, e]) => `${e.sha256}  ${p}`)
    .sort();
  return `sha256:${sha256(lines.join('\n') + '\n')}`;
}

/** The marked region (start marker line to end marker line) of one snippet in a file's text, or null. */
export function markedBlock(text: string, file: string, module: string, id: string): string | null {
  const { start, end } = markerLines(module, id, commentStyleFor(file));
  const lines = text.split(/\r?\n/);
  const s = lines.findIndex((l) => l.trim() === start);
  if (s < 0) return null;
  const e = lines.findIndex((l, i) => i > s && l.trim() === end);
  return e < 0 ? null : lines.slice(s, e + 1).join('\n');
}

/**
 * Lock entries for what gen produced: vendor and wrapper files by content, snippet files by their marked blocks.
 * Blocks of snippets that carry secrets (.env) are never recorded: even a hash of them could be brute-forced.
 */
export function fileEntries(module: string, desired: DesiredFile[], secretSnippets: ReadonlySet<string> = new Set()): Record<string, FileEntry> {
  const files: Record<string, FileEntry> = {};
  for (const f of [...desired].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (f.kind === 'vendor' || f.kind === 'wrapper') {
      files[f.path] = { class: f.kind, sha256: sha256(f.content) };
    } else if (f.kind === 'snippet') {
      const text = f.content.toString('utf8');
      const blocks: Record<string, string> = {};
      for (const id of f.snippets ?? []) {
        if (secretSnippets.has(id)) continue;
        const block = markedBlock(text, f.path, module, id);
        if (block !== null) blocks[id] = sha256(block);
      }
      if (Object.keys(blocks).length === 0) continue; // e.g. package.json: dependencies, no marked block
      files[f.path] = { class: 'snippet', sha256: sha256(Object.entries(blocks).map(([id, h]) => `${h}  ${id}`).join('\n')), blocks };
    }
  }
  return files;
}

const LINE = /^([0-9a-f]{64})  (vendor|wrapper|snippet)  (.+)$/;

/** `files` on disk: one `<sha256>  <class>  <path>[#<snippet id>]` line per entry (fast to parse, diffs by line). */
function filesToText(files: Record<string, FileEntry>): string {
  const lines: string[] = [];
  for (const [p, e] of Object.entries(files)) {
    if (e.class === 'snippet') for (const [id, h] of Object.entries(e.blocks ?? {})) lines.push(`${h}  snippet  ${p}#${id}`);
    else lines.push(`${e.sha256}  ${e.class}  ${p}`);
  }
  return lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)).join('\n') + '\n';
}

function filesFromText(text: string, where: string): Record<string, FileEntry> {
  const files: Record<string, FileEntry> = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) throw new UsageError(`${LOCK_PATH}: ${where}.files line ${i + 1}: expected '<sha256>  <vendor|wrapper|snippet>  <path>'`, { file: LOCK_PATH, field: `${where}.files`, hint: 'Regenerate it: gen modules lock --overwrite' });
    const [, hash, cls, target] = m as unknown as [string, string, FileEntry['class'], string];
    if (cls === 'snippet') {
      const at = target.lastIndexOf('#');
      const p = target.slice(0, at);
      const entry = (files[p] ??= { class: 'snippet', sha256: '', blocks: {} });
      entry.blocks![target.slice(at + 1)] = hash;
    } else files[target] = { class: cls, sha256: hash };
  }
  for (const e of Object.values(files)) {
    if (e.class === 'snippet') e.sha256 = sha256(Object.entries(e.blocks ?? {}).map(([id, h]) => `${h}  ${id}`).join('\n'));
  }
  return files;
}

export function readLock(projectDir: string): Lock | null {
  const file = path.join(projectDir, LOCK_PATH);
  if (!fs.existsSync(file)) return null;
  let raw: any;
  try {
    raw = parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${LOCK_PATH}: invalid YAML (${e instanceof Error ? e.message.split('\n')[0] : e})`, { file: LOCK_PATH, hint: 'Regenerate it: gen modules lock --overwrite' });
  }
  if (raw && typeof raw === 'object' && raw.modules && typeof raw.modules === 'object') {
    for (const [name, m] of Object.entries<any>(raw.modules)) {
      if (m && typeof m.files === 'string') m.files = filesFromText(m.files, `modules.${name}`);
    }
  }
  const res = lockSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    throw new UsageError(`${LOCK_PATH}: field '${issue.path.join('.')}': ${issue.message}`, { file: LOCK_PATH, field: issue.path.join('.'), hint: 'Regenerate it: gen modules lock --overwrite' });
  }
  return res.data;
}

/** Deterministic YAML (sorted modules and files, no timestamps): a no-op re-run writes identical bytes. */
export function renderLock(lock: Lock): string {
  const modules = Object.fromEntries(
    Object.entries(lock.modules)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, m]) => [name, { ...m, files: filesToText(m.files) }]),
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
  const secretSnippets = new Set(Object.entries(mod.def.snippets).filter(([, s]) => s.secrets).map(([id]) => id));
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
