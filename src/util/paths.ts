import path from 'node:path';

/** Where gen keeps vendored snapshots, project-relative. */
export const VENDOR_ROOT = '.rapidkit/vendor';

/** The snapshot folder of one module version, project-relative POSIX. */
export function vendorDir(moduleName: string, version: string): string {
  return `${VENDOR_ROOT}/${moduleName}/${version}`;
}

/** Caches tools write next to source (Python bytecode, Finder metadata): never content of a module or snapshot. */
export function isCacheEntry(name: string): boolean {
  return name === '__pycache__' || name === '.DS_Store' || name.endsWith('.pyc');
}

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
