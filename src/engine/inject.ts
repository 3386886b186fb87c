import type { SnippetDef } from '../module/schema.js';
import { commentStyleFor, markerLines } from '../lock/markers.js';

export type InjectResult =
  { status: 'ok'; content: string } | { status: 'manual'; reason: string } | { status: 'conflict'; reason: string };

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Puts `block` between start/end markers in `content` (the host file's text, or null when it does not exist).
 * Idempotent: an existing marked block is replaced in place, so a second run changes nothing.
 */
export function injectSnippet(
  content: string | null,
  target: string,
  module: string,
  id: string,
  block: string,
  def: SnippetDef,
): InjectResult {
  const { start, end } = markerLines(module, id, commentStyleFor(target));
  const eol = content && content.includes('\r\n') ? '\r\n' : '\n';
  let body = block.replace(/\r?\n$/, '').split(/\r?\n/);
  if (def.skip_existing_keys && content !== null) {
    const defined = keysOutsideBlock(content, start, end);
    body = body.filter((l) => {
      const key = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(l)?.[1];
      return key === undefined || !defined.has(key);
    });
  }
  const make = (indent: string) => [start, ...body, end].map((l) => (l.trim() === '' ? '' : indent + l)).join(eol);

  if (content === null) {
    const created = def.header ? `${def.header}${eol}${make(def.indent ?? '')}${eol}` : `${make('')}${eol}`;
    return { status: 'ok', content: created };
  }

  const lines = content.split(/\r?\n/);
  const startRe = new RegExp(`^(\\s*)${escapeRe(start)}\\s*$`);
  const endRe = new RegExp(`^\\s*${escapeRe(end)}\\s*$`);
  const starts = lines.flatMap((l, i) => (startRe.test(l) ? [i] : []));
  const ends = lines.flatMap((l, i) => (endRe.test(l) ? [i] : []));
  if (starts.length > 0 || ends.length > 0) {
    if (starts.length !== 1 || ends.length !== 1 || ends[0]! < starts[0]!) {
      return {
        status: 'conflict',
        reason: `the gen:${module}:${id} markers in ${target} are broken (expected one start and one end marker)`,
      };
    }
    const indent = startRe.exec(lines[starts[0]!]!)![1]!;
    const next = [...lines.slice(0, starts[0]), make(indent), ...lines.slice(ends[0]! + 1)];
    return { status: 'ok', content: next.join(eol) };
  }

  if (def.anchor) {
    const re = new RegExp(def.anchor);
    const at = lines.findIndex((l) => re.test(l));
    if (at >= 0) {
      const indent = def.indent ?? /^(\s*)/.exec(lines[at]!)![1]!;
      const next = [...lines.slice(0, at + 1), make(indent), ...lines.slice(at + 1)];
      return { status: 'ok', content: next.join(eol) };
    }
  }
  if (def.append) {
    const trimmed = content.replace(/(\r?\n)*$/, '');
    const sep = trimmed === '' ? '' : `${eol}${eol}`;
    const head = def.header ? `${def.header}${eol}` : '';
    return { status: 'ok', content: `${trimmed}${sep}${head}${make(def.header ? (def.indent ?? '') : '')}${eol}` };
  }
  return { status: 'manual', reason: def.anchor ? `no line matching ${def.anchor} in ${target}` : `${target} has no place for it` };
}

/** Keys assigned (KEY=…) in a dotenv-style file, ignoring the lines inside our own marked block. */
function keysOutsideBlock(content: string, start: string, end: string): Set<string> {
  const keys = new Set<string>();
  let inside = false;
  for (const line of content.split(/\r?\n/)) {
    const t = line.trim();
    if (t === start) inside = true;
    else if (t === end) inside = false;
    else if (!inside) {
      const key = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
      if (key) keys.add(key);
    }
  }
  return keys;
}

/** Where one snippet's marked block sits in a file's lines (start and end marker line indexes), or null. */
function findBlock(lines: string[], module: string, id: string, target: string): { s: number; e: number; indent: string } | null {
  const { start, end } = markerLines(module, id, commentStyleFor(target));
  const s = lines.findIndex((l) => l.trim() === start);
  if (s < 0) return null;
  const e = lines.findIndex((l, i) => i > s && l.trim() === end);
  if (e < 0) return null;
  return { s, e, indent: /^(\s*)/.exec(lines[s]!)![1]! };
}

/**
 * The body of a marked block as its template rendered it: the lines between the markers without the block's
 * indentation, joined by `\n` (null when the block is not there). The form a 3-way merge of snippets works on.
 */
export function blockBody(content: string, target: string, module: string, id: string): string | null {
  const lines = content.split(/\r?\n/);
  const at = findBlock(lines, module, id, target);
  if (at === null) return null;
  return lines
    .slice(at.s + 1, at.e)
    .map((l) => (l.startsWith(at.indent) ? l.slice(at.indent.length) : l))
    .join('\n');
}

/**
 * True when a host file, its blocks taken out, holds nothing but blank lines and the section headers gen's snippets
 * write (`services:`): gen created it, and it goes with the last block (remove, and upgrade dropping a block).
 */
export function onlyGenHeaders(text: string, snippets: Record<string, SnippetDef>): boolean {
  const headers = new Set(Object.values(snippets).flatMap((s) => (s.header ? [s.header.trim()] : [])));
  return text.split(/\r?\n/).every((l) => l.trim() === '' || headers.has(l.trim()));
}

/**
 * The file without one snippet's marked block: the inverse of injectSnippet. The blank line an append put before
 * the block goes with it. Null when the block is not there.
 */
export function removeSnippet(content: string, target: string, module: string, id: string): string | null {
  const eol = content.includes('\r\n') ? '\r\n' : '\n';
  const lines = content.split(/\r?\n/);
  const at = findBlock(lines, module, id, target);
  if (at === null) return null;
  let from = at.s;
  const to = at.e + 1;
  const after = lines.slice(to);
  const blankAfter = after.length === 0 || after[0]!.trim() === '' || after.every((l) => l.trim() === '');
  if (from > 0 && lines[from - 1]!.trim() === '' && blankAfter) from--;
  return [...lines.slice(0, from), ...after].join(eol);
}

const KEY = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/**
 * A dotenv block body with the lines of the keys it lacks (defined nowhere in the file) appended: every value of
 * yours kept, none dropped.
 */
export function withMissingKeys(ours: string, theirs: string, fileText: string): string {
  const defined = new Set(fileText.split(/\r?\n/).flatMap((l) => KEY.exec(l)?.[1] ?? []));
  const fresh = theirs.split('\n').filter((l) => {
    const k = KEY.exec(l)?.[1];
    return k !== undefined && !defined.has(k);
  });
  return fresh.length === 0 ? ours : `${ours}\n${fresh.join('\n')}`;
}
