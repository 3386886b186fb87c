import path from 'node:path';

export interface CommentStyle {
  open: string;
  close: string;
}

const HASH: CommentStyle = { open: '#', close: '' };
const SLASH: CommentStyle = { open: '//', close: '' };
const HTML: CommentStyle = { open: '<!--', close: '-->' };

/** Comment syntax by file name or extension: data, so a new kind of host file is one line. */
const BY_NAME: Record<string, CommentStyle> = { Dockerfile: HASH, Makefile: HASH, '.gitignore': HASH, '.dockerignore': HASH };
const BY_EXT: Record<string, CommentStyle> = {
  '.py': HASH,
  '.yml': HASH,
  '.yaml': HASH,
  '.toml': HASH,
  '.sh': HASH,
  '.txt': HASH,
  '.cfg': HASH,
  '.ini': HASH,
  '.conf': HASH,
  '.ts': SLASH,
  '.tsx': SLASH,
  '.js': SLASH,
  '.mjs': SLASH,
  '.cjs': SLASH,
  '.jsx': SLASH,
  '.md': HTML,
  '.html': HTML,
  '.xml': HTML,
};

export function commentStyleFor(file: string): CommentStyle {
  const base = path.posix.basename(file);
  if (BY_NAME[base]) return BY_NAME[base];
  if (base.startsWith('.env')) return HASH;
  return BY_EXT[path.posix.extname(base)] ?? HASH;
}

export function markerLines(module: string, id: string, style: CommentStyle): { start: string; end: string } {
  const wrap = (s: string) => (style.close ? `${style.open} ${s} ${style.close}` : `${style.open} ${s}`);
  return { start: wrap(`>>> gen:${module}:${id} >>>`), end: wrap(`<<< gen:${module}:${id} <<<`) };
}

/** The marker lines gen writes around a conflict (`--conflict markers`); verify-all fails while one is left. */
export const CONFLICT_START = '<<<<<<< yours';
export const CONFLICT_SEP = '=======';
export function conflictEnd(theirsLabel: string): string {
  return `>>>>>>> ${theirsLabel}`;
}

/** True when a text still holds a conflict gen wrote (a start, separator and end marker line, in order). */
export function hasConflictMarkers(text: string): boolean {
  const all = text.split(/\r?\n/).map((l) => l.trim());
  const s = all.indexOf(CONFLICT_START);
  const m = s < 0 ? -1 : all.indexOf(CONFLICT_SEP, s + 1);
  return m > s && all.findIndex((l, i) => i > m && l.startsWith('>>>>>>> gen ')) > m;
}
