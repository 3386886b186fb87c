import path from 'node:path';

/** POSIX form of a relative path (what gen prints and records). */
export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Relative POSIX path from folder `fromDir` to `to`, both project-relative; '.' when equal. */
export function relPosix(fromDir: string, to: string): string {
  const r = path.posix.relative(fromDir === '' ? '.' : fromDir, to === '' ? '.' : to);
  return r === '' ? '.' : r;
}

/** True when a project-relative path stays inside the project (no absolute, no `..` escape). */
export function isInside(rel: string): boolean {
  if (rel === '' || path.isAbsolute(rel) || path.win32.isAbsolute(rel)) return false;
  const norm = path.posix.normalize(rel.split('\\').join('/'));
  return norm !== '..' && !norm.startsWith('../') && norm !== '.';
}
