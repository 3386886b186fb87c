import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../errors.js';
import { describeIssue } from '../util/issues.js';
import { LOCK_PATH } from '../util/paths.js';
import { sha256 } from '../util/sha256.js';
import { commentStyleFor, markerLines } from './markers.js';
import { BLOCK_PLACEHOLDER, splitFileBlocks, type SplitLock } from './scan.js';
import { rawLockSchema, type FileEntry, type Lock, type ModuleEntry } from './schema.js';

// Reading the lock: the `files` blocks are cut out first (./scan.ts: a 10,000-line block is our own line format,
// not YAML worth parsing), the rest goes through `yaml` and the zod schema, then each block is parsed by line.

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

/**
 * One `files` line, `<sha256>  <class>  <path>`, matched where it starts (sticky) and required to reach the line's end:
 * the block is never split into 10,000 strings and no capture is made; the parts are cut by position.
 */
const LINE = /[0-9a-f]{64}  (?:vendor|wrapper|snippet)  [^ \n].*/y;
const CLASS_AT = 66; // where `vendor`, `wrapper` or `snippet` starts: they differ in their first letter
const CLASSES: Record<number, FileEntry['class']> = { 118: 'vendor', 119: 'wrapper', 115: 'snippet' };

/** The entries of a `files` text, and whether the text is canonical (what `filesText` would write for them). */
function filesFromText(text: string, where: string): { files: Map<string, FileEntry>; canonical: boolean } {
  const files = new Map<string, FileEntry>();
  // canonical: strictly ascending by class then target, no empty line but the final newline
  let canonical = text.endsWith('\n');
  let prevClass = '';
  let prevTarget = '';
  const bad = (i: number, what: string): never => {
    throw new UsageError(`${LOCK_PATH}: ${where}.files line ${i + 1}: ${what}`, {
      code: 'INVALID_LOCK',
      file: LOCK_PATH,
      field: `${where}.files`,
      hint: HINT,
    });
  };
  for (let at = 0, i = 0; at <= text.length; i++) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const from = at;
    at = end + 1;
    if (from === end) {
      if (end !== text.length) canonical = false; // an empty line before the last
      continue;
    }
    LINE.lastIndex = from;
    if (!LINE.test(text) || LINE.lastIndex !== end) bad(i, "expected '<sha256>  <vendor|wrapper|snippet>  <path>'");
    const hash = text.slice(from, from + 64);
    const cls = CLASSES[text.charCodeAt(from + CLASS_AT)]!;
    const target = text.slice(from + CLASS_AT + cls.length + 2, end);
    // the classes differ in their first letter, so this is the order of `<class>  <target>`
    if (canonical && (cls < prevClass || (cls === prevClass && !(prevTarget < target)))) canonical = false;
    prevClass = cls;
    prevTarget = target;
    if (cls === 'snippet') {
      const sharp = target.lastIndexOf('#');
      if (sharp <= 0 || sharp === target.length - 1) bad(i, "expected '<sha256>  snippet  <path>#<snippet id>'");
      const p = target.slice(0, sharp);
      if (!safePath(p)) bad(i, `'${p}' is not a relative path inside the project`);
      let entry = files.get(p);
      if (entry === undefined) files.set(p, (entry = { class: 'snippet', blocks: {} }));
      if (entry.class !== 'snippet' || entry.blocks[target.slice(sharp + 1)] !== undefined) bad(i, `${target} is listed twice`);
      else entry.blocks[target.slice(sharp + 1)] = hash;
    } else {
      if (!safePath(target)) bad(i, `'${target}' is not a relative path inside the project`);
      // (one lookup: a path listed twice does not grow the map)
      const size = files.size;
      if (files.set(target, { class: cls, sha256: hash }).size === size) bad(i, `${target} is listed twice`);
    }
  }
  return { files, canonical };
}

/** Relative, POSIX, without `..` segments or a drive letter: a lock can never point gen outside the project. */
function safePath(p: string): boolean {
  // (by character: this runs once per lock line)
  if (p.charCodeAt(0) === 47 /* / */ || p.includes('\\') || (p.charCodeAt(1) === 58 /* : */ && /[A-Za-z]/.test(p[0]!))) return false;
  return !p.includes('..') || !p.split('/').includes('..');
}

export const HINT = 'Regenerate it: gen modules lock --overwrite';

/**
 * Parses lock text; malformed → UsageError (exit 2) naming the field. `canonical`, when given, receives each module
 * whose `files` text is exactly what `filesText` writes for it, with that text (its digest then needs no rebuilding).
 */
export function parseLock(text: string, split: SplitLock = splitFileBlocks(text), canonical?: Map<string, string>): Lock {
  let raw: unknown;
  try {
    raw = parse(split.rest);
  } catch (e) {
    throw new UsageError(`${LOCK_PATH}: invalid YAML (${e instanceof Error ? e.message.split('\n')[0] : e})`, {
      code: 'INVALID_LOCK',
      file: LOCK_PATH,
      hint: HINT,
    });
  }
  const result = rawLockSchema.safeParse(raw);
  if (!result.success) {
    const { field, message } = describeIssue(result.error.issues[0]!);
    throw new UsageError(`${LOCK_PATH}: field '${field}': ${message}`, { code: 'INVALID_LOCK', file: LOCK_PATH, field, hint: HINT });
  }
  const modules: Record<string, ModuleEntry> = {};
  for (const [name, m] of Object.entries(result.data.modules)) {
    const at = `modules.${name}`;
    let files = m.files;
    if (files.startsWith(BLOCK_PLACEHOLDER)) files = split.blocks[Number(files.slice(BLOCK_PLACEHOLDER.length))] ?? '';
    const read = filesFromText(files, at);
    modules[name] = { ...m, files: read.files };
    if (read.canonical) canonical?.set(name, files);
  }
  return { lockVersion: 1, modules };
}

/** The project's lock, or null when it has none. */
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
