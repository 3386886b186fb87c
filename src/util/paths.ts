import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Every project-layout name gen writes, in one place (project-relative POSIX paths).

/** gen's own folder in a project. */
export const GEN_DIR = '.rapidkit';
/** Where gen keeps vendored snapshots. */
export const VENDOR_ROOT = `${GEN_DIR}/vendor`;
/** The lock: what gen installed, with the sha256 of every file it produced. */
export const LOCK_PATH = `${GEN_DIR}/modules.lock.yaml`;
/** gen's transaction folder while a write is under way or was interrupted (0700; every file in it 0600). */
export const TXN_DIR = `${GEN_DIR}/txn`;
/** Inside a snapshot: gen's pristine rendering of each user-owned wrapper (the base of a 3-way upgrade). */
export const PRISTINE_DIR = '_pristine';
/**
 * Inside a snapshot: gen's pristine rendering of each snippet block (by snippet id; .env blocks, which hold secrets,
 * never), the base of a 3-way upgrade of the blocks. Snapshots written before gen kept them have none.
 */
export const PRISTINE_SNIPPETS = `${PRISTINE_DIR}/_snippets`;
/** Inside a snapshot: module, version, framework and options, so `gen modules lock` can rebuild the lock. */
export const MANIFEST = '_gen.json';

/** The gen package's own folder (holds package.json), whether gen runs from its bundle in dist/ or from src/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** The folder holding the top-level catalogue module.yaml: GEN_CATALOGUE, else the gen package itself. */
export function catalogueRoot(): string {
  const fromEnv = process.env.GEN_CATALOGUE;
  if (fromEnv) return path.resolve(fromEnv);
  return packageRoot();
}

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
