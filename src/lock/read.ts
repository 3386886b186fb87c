import { sha256 } from '../util/sha256.js';
import { UsageError } from '../errors.js';
import { commentStyleFor, markerLines } from '../engine/comments.js';
import { parsePlainYaml } from '../util/plain-yaml.js';
import { BLOCK_PLACEHOLDER, LOCK_PATH, splitFileBlocks, type SplitLock } from './scan.js';

// Reading the lock: no YAML package, no zod, nothing from the engine but comment markers. verify-all loads this
// while its workers hash; the writer (./lockfile.ts) loads `yaml` only for what this reader declines.

/** A vendored file or wrapper by content; a snippet host file by the sha256 of each marked block, by snippet id. */
export type FileEntry = { class: 'vendor' | 'wrapper'; sha256: string } | { class: 'snippet'; blocks: Record<string, string> };

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

export { sha256 } from '../util/sha256.js';

/**
 * The `files` text of one module as the lock holds it: one `<sha256>  <class>  <path>[#<snippet id>]` line per
 * entry, sorted by class then path, each line ending in `\n`. A map read from a lock is usually in that order
 * already (then nothing is sorted).
 */
export function filesText(files: Map<string, FileEntry>): string {
  const lines: string[] = [];
  for (const [p, e] of files) {
    if (e.class === 'snippet') for (const id of Object.keys(e.blocks).sort()) lines.push(`${e.blocks[id]}  snippet  ${p}#${id}`);
    else lines.push(`${e.sha256}  ${e.class}  ${p}`);
  }
  let sorted = true;
  for (let i = 1; i < lines.length && sorted; i++) sorted = lines[i - 1]!.slice(66) < lines[i]!.slice(66);
  if (!sorted) lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
  return lines.join('\n') + '\n';
}

/**
 * One aggregate per module, `sha256:` over its `files` text (above): the lock changes by one line per module when
 * anything changes, and `sha256sum` over the block as written reproduces it.
 */
export function aggregateDigest(files: Map<string, FileEntry>, text: string = filesText(files)): string {
  return `sha256:${sha256(text)}`;
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

const LINE = /^([0-9a-f]{64})  (vendor|wrapper|snippet)  ([^ ].*)$/;

/** The entries of a `files` text, and whether the text is canonical (what `filesText` would write for them). */
function filesFromText(text: string, where: string): { files: Map<string, FileEntry>; canonical: boolean } {
  const files = new Map<string, FileEntry>();
  const lines = text.split('\n');
  // canonical: strictly ascending by class then target, no empty line but the final newline
  let canonical = text.endsWith('\n');
  let prevClass = '';
  let prevTarget = '';
  const bad = (i: number, what: string): never => {
    throw new UsageError(`${LOCK_PATH}: ${where}.files line ${i + 1}: ${what}`, { file: LOCK_PATH, field: `${where}.files`, hint: HINT });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') {
      if (i !== lines.length - 1) canonical = false;
      continue;
    }
    const m = LINE.exec(line);
    if (!m) bad(i, "expected '<sha256>  <vendor|wrapper|snippet>  <path>'");
    const hash = m![1]!;
    const cls = m![2] as FileEntry['class'];
    const target = m![3]!;
    // the classes differ in their first letter, so this is the order of `<class>  <target>`
    if (canonical && (cls < prevClass || (cls === prevClass && !(prevTarget < target)))) canonical = false;
    prevClass = cls;
    prevTarget = target;
    if (cls === 'snippet') {
      const at = target.lastIndexOf('#');
      if (at <= 0 || at === target.length - 1) bad(i, "expected '<sha256>  snippet  <path>#<snippet id>'");
      const p = target.slice(0, at);
      if (!safePath(p)) bad(i, `'${p}' is not a relative path inside the project`);
      let entry = files.get(p);
      if (entry === undefined) files.set(p, (entry = { class: 'snippet', blocks: {} }));
      if (entry.class !== 'snippet' || entry.blocks[target.slice(at + 1)] !== undefined) bad(i, `${target} is listed twice`);
      else entry.blocks[target.slice(at + 1)] = hash;
    } else {
      if (!safePath(target)) bad(i, `'${target}' is not a relative path inside the project`);
      if (files.has(target)) bad(i, `${target} is listed twice`);
      files.set(target, { class: cls, sha256: hash });
    }
  }
  return { files, canonical };
}

/** Relative, POSIX, without `..` segments or a drive letter: a lock can never point gen outside the project. */
function safePath(p: string): boolean {
  if (p.startsWith('/') || p.includes('\\') || /^[A-Za-z]:/.test(p)) return false;
  return !p.includes('..') || !p.split('/').includes('..');
}

export const HINT = 'Regenerate it: gen modules lock --overwrite';
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
export function validateLock(raw: unknown, blocks: string[] = [], canonical?: Map<string, string>): Lock {
  if (!isObject(raw)) invalid('(root)', 'a mapping with lockVersion and modules');
  for (const k of Object.keys(raw)) if (k !== 'lockVersion' && k !== 'modules') invalid(k, 'only lockVersion and modules (unknown key)');
  if (raw.lockVersion !== 1) invalid('lockVersion', '1');
  if (!isObject(raw.modules)) invalid('modules', 'a mapping of module name to entry');
  const modules: Record<string, ModuleEntry> = {};
  for (const [name, m] of Object.entries(raw.modules)) {
    const at = `modules.${name}`;
    if (!isObject(m)) invalid(at, 'a mapping');
    for (const k of Object.keys(m))
      if (!(MODULE_KEYS as readonly string[]).includes(k)) invalid(`${at}.${k}`, `only ${MODULE_KEYS.join(', ')} (unknown key)`);
    for (const k of ['version', 'framework', 'generator'] as const)
      if (typeof m[k] !== 'string' || m[k] === '') invalid(`${at}.${k}`, 'a string');
    for (const k of ['templates', 'digest'] as const)
      if (typeof m[k] !== 'string' || !DIGEST.test(m[k])) invalid(`${at}.${k}`, 'sha256:<64 hex digits>');
    if (!isObject(m.options)) invalid(`${at}.options`, 'a mapping of variable to value');
    let text = m.files;
    if (typeof text === 'string' && text.startsWith(BLOCK_PLACEHOLDER)) text = blocks[Number(text.slice(BLOCK_PLACEHOLDER.length))];
    if (typeof text !== 'string') invalid(`${at}.files`, "a block of '<sha256>  <vendor|wrapper|snippet>  <path>' lines");
    const read = filesFromText(text, at);
    modules[name] = {
      version: m.version as string,
      framework: m.framework as string,
      generator: m.generator as string,
      templates: m.templates as string,
      digest: m.digest as string,
      options: m.options,
      files: read.files,
    };
    if (read.canonical) canonical?.set(name, text);
  }
  return { lockVersion: 1, modules };
}

/**
 * Parses lock text when it is in the plain YAML subset gen writes (see util/plain-yaml.ts); else `undefined`.
 * `canonical`, when given, receives each module whose `files` text is exactly what `filesText` writes for it, with
 * that text (its digest then needs no rebuilding).
 */
export function parseLockFast(text: string, split: SplitLock = splitFileBlocks(text), canonical?: Map<string, string>): Lock | undefined {
  const raw = parsePlainYaml(split.rest);
  return raw === undefined ? undefined : validateLock(raw, split.blocks, canonical);
}
