import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { UsageError } from '../errors.js';
import { commentStyleFor, markerLines } from '../engine/comments.js';
import { recordedOptions, type DesiredFile } from '../engine/render.js';
import type { ResolvedOptions } from '../engine/options.js';
import type { LoadedModule } from '../module/load.js';
import { generatorVersion } from '../util/version.js';
import { BLOCK_PLACEHOLDER, LOCK_PATH, splitFileBlocks, type SplitLock } from './scan.js';

export { LOCK_PATH } from './scan.js';
const HEADER = '# Written by gen (gen add / gen modules lock); do not edit. Check it with: npx gen modules verify-all\n';

export interface FileEntry {
  class: 'vendor' | 'wrapper' | 'snippet';
  sha256: string;
  /** snippet entries: the marked blocks in that file, by snippet id */
  blocks?: Record<string, string>;
}

export interface ModuleEntry {
  version: string;
  framework: string;
  generator: string;
  templates: string;
  digest: string;
  options: Record<string, unknown>;
  /** by project-relative POSIX path, in the lock's order */
  files: Map<string, FileEntry>;
}

export interface Lock {
  lockVersion: 1;
  modules: Record<string, ModuleEntry>;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Go dirhash-style aggregate: sha256 over the sorted `hash  path` lines, so the lock diffs one line per module. */
export function aggregateDigest(files: Map<string, FileEntry>): string {
  const lines: string[] = [];
  for (const [p, e] of files) lines.push(`${e.sha256}  ${p}`);
  lines.sort();
  return `sha256:${sha256(lines.join('\n') + '\n')}`;
}

/** A snippet entry's sha256: over its `<block hash>  <snippet id>` lines. */
function snippetDigest(blocks: Record<string, string>): string {
  const ids = Object.keys(blocks).sort();
  return sha256(ids.map((id) => `${blocks[id]}  ${id}`).join('\n'));
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
export function fileEntries(module: string, desired: DesiredFile[], secretSnippets: ReadonlySet<string> = new Set()): Map<string, FileEntry> {
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
      files.set(f.path, { class: 'snippet', sha256: snippetDigest(blocks), blocks });
    }
  }
  return files;
}

const LINE = /^([0-9a-f]{64})  (vendor|wrapper|snippet)  (.+)$/;

/** `files` on disk: one `<sha256>  <class>  <path>[#<snippet id>]` line per entry (fast to parse, diffs by line). */
function filesToText(files: Map<string, FileEntry>): string {
  const lines: string[] = [];
  for (const [p, e] of files) {
    if (e.class === 'snippet') for (const [id, h] of Object.entries(e.blocks ?? {})) lines.push(`${h}  snippet  ${p}#${id}`);
    else lines.push(`${e.sha256}  ${e.class}  ${p}`);
  }
  return lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)).join('\n') + '\n';
}

function filesFromText(text: string, where: string): Map<string, FileEntry> {
  const files = new Map<string, FileEntry>();
  const lines = text.split('\n');
  const bad = (i: number, what: string): never => {
    throw new UsageError(`${LOCK_PATH}: ${where}.files line ${i + 1}: ${what}`, { file: LOCK_PATH, field: `${where}.files`, hint: 'Regenerate it: gen modules lock --overwrite' });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) bad(i, "expected '<sha256>  <vendor|wrapper|snippet>  <path>'");
    const hash = m![1]!;
    const cls = m![2] as FileEntry['class'];
    const target = m![3]!;
    if (cls === 'snippet') {
      const at = target.lastIndexOf('#');
      if (at <= 0 || at === target.length - 1) bad(i, "expected '<sha256>  snippet  <path>#<snippet id>'");
      const p = target.slice(0, at);
      if (!safePath(p)) bad(i, `'${p}' is not a relative path inside the project`);
      let entry = files.get(p);
      if (entry === undefined) files.set(p, (entry = { class: 'snippet', sha256: '', blocks: {} }));
      if (entry.class !== 'snippet' || entry.blocks![target.slice(at + 1)] !== undefined) bad(i, `${target} is listed twice`);
      entry.blocks![target.slice(at + 1)] = hash;
    } else {
      if (!safePath(target)) bad(i, `'${target}' is not a relative path inside the project`);
      if (files.has(target)) bad(i, `${target} is listed twice`);
      files.set(target, { class: cls, sha256: hash });
    }
  }
  for (const e of files.values()) if (e.class === 'snippet') e.sha256 = snippetDigest(e.blocks!);
  return files;
}

/** Relative, POSIX, without `..` segments or a drive letter: a lock can never point gen outside the project. */
function safePath(p: string): boolean {
  if (p.startsWith('/') || p.includes('\\') || /^[A-Za-z]:/.test(p)) return false;
  return !p.includes('..') || !p.split('/').includes('..');
}

const HINT = 'Regenerate it: gen modules lock --overwrite';
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MODULE_KEYS = ['version', 'framework', 'generator', 'templates', 'digest', 'options', 'files'] as const;

function invalid(field: string, expected: string): never {
  throw new UsageError(`${LOCK_PATH}: field '${field}': expected ${expected}`, { file: LOCK_PATH, field, hint: HINT });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the parsed YAML against the lock format (docs/lock.md; the same shape as `lockSchema` in ./schema.ts,
 * written out by hand so that verify-all does not pay for loading zod) and parses each `files` block.
 */
export function validateLock(raw: unknown, blocks: string[] = []): Lock {
  if (!isObject(raw)) invalid('(root)', 'a mapping with lockVersion and modules');
  for (const k of Object.keys(raw)) if (k !== 'lockVersion' && k !== 'modules') invalid(k, 'only lockVersion and modules (unknown key)');
  if (raw.lockVersion !== 1) invalid('lockVersion', '1');
  if (!isObject(raw.modules)) invalid('modules', 'a mapping of module name to entry');
  const modules: Record<string, ModuleEntry> = {};
  for (const [name, m] of Object.entries(raw.modules)) {
    const at = `modules.${name}`;
    if (!isObject(m)) invalid(at, 'a mapping');
    for (const k of Object.keys(m)) if (!(MODULE_KEYS as readonly string[]).includes(k)) invalid(`${at}.${k}`, `only ${MODULE_KEYS.join(', ')} (unknown key)`);
    for (const k of ['version', 'framework', 'generator'] as const) if (typeof m[k] !== 'string' || m[k] === '') invalid(`${at}.${k}`, 'a string');
    for (const k of ['templates', 'digest'] as const) if (typeof m[k] !== 'string' || !DIGEST.test(m[k])) invalid(`${at}.${k}`, 'sha256:<64 hex digits>');
    if (!isObject(m.options)) invalid(`${at}.options`, 'a mapping of variable to value');
    let text = m.files;
    if (typeof text === 'string' && text.startsWith(BLOCK_PLACEHOLDER)) text = blocks[Number(text.slice(BLOCK_PLACEHOLDER.length))];
    if (typeof text !== 'string') invalid(`${at}.files`, "a block of '<sha256>  <vendor|wrapper|snippet>  <path>' lines");
    modules[name] = {
      version: m.version as string,
      framework: m.framework as string,
      generator: m.generator as string,
      templates: m.templates as string,
      digest: m.digest as string,
      options: m.options,
      files: filesFromText(text, at),
    };
  }
  return { lockVersion: 1, modules };
}

/** Parses lock text (the `files` blocks on the fast path of ./scan.ts); malformed → UsageError (exit 2). */
export function parseLock(text: string, split: SplitLock = splitFileBlocks(text)): Lock {
  let raw: unknown;
  try {
    raw = parse(split.rest);
  } catch (e) {
    throw new UsageError(`${LOCK_PATH}: invalid YAML (${e instanceof Error ? e.message.split('\n')[0] : e})`, { file: LOCK_PATH, hint: HINT });
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
