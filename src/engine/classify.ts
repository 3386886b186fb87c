import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { listFiles } from '../util/files.js';
import { PRISTINE_DIR, VENDOR_ROOT } from '../util/paths.js';
import type { DesiredFile, FileKind } from './render.js';

/**
 * create / update / unchanged: what flush will do.
 * conflict: the user edited a file gen would now change (kept as is unless --force).
 * modified: the user edited a wrapper and gen has nothing new for it (kept, not an error).
 * delete: a stale file inside the snapshot folder that the current rendering no longer has.
 */
export type Action = 'create' | 'update' | 'unchanged' | 'conflict' | 'modified' | 'delete';

export interface PlannedFile {
  path: string;
  kind: FileKind;
  action: Action;
  /** New content (absent for delete). */
  content: Buffer | null;
  /** Content on disk before (null when the file does not exist). */
  previous: Buffer | null;
  snippets?: string[];
  reason?: string;
  forced?: boolean;
}

/** A regular file's bytes (links followed), or null when missing or not a file. */
export function readOrNull(abs: string): Buffer | null {
  try {
    // links were checked to stay inside the project (contain.ts) and are followed
    const st = fs.statSync(abs);
    if (!st.isFile()) return null;
    return fs.readFileSync(abs);
  } catch {
    return null;
  }
}

/**
 * The pristine rendering of a wrapper as gen last wrote it: from the same version's snapshot, else from the
 * newest older snapshot of the module that has one.
 */
export function findPristine(projectDir: string, moduleName: string, version: string, wrapperPath: string): Buffer | null {
  const root = path.join(projectDir, VENDOR_ROOT, moduleName);
  let versions: string[];
  try {
    versions = fs.readdirSync(root).filter((v) => semver.valid(v));
  } catch {
    return null;
  }
  const ordered = versions.filter((v) => semver.lte(v, version) || v === version).sort(semver.rcompare);
  for (const v of ordered) {
    const hit = readOrNull(path.join(root, v, PRISTINE_DIR, wrapperPath));
    if (hit) return hit;
  }
  return null;
}

export interface ClassifyInput {
  projectDir: string;
  moduleName: string;
  version: string;
  snapshotDir: string;
  desired: DesiredFile[];
  force: boolean;
}

/** Compares the in-memory tree with the disk. Reads only. */
export function classify({ projectDir, moduleName, version, snapshotDir, desired, force }: ClassifyInput): PlannedFile[] {
  const out: PlannedFile[] = [];
  for (const f of desired) {
    const abs = path.join(projectDir, f.path);
    const exists = fs.existsSync(abs);
    const previous = readOrNull(abs);
    const base = { path: f.path, kind: f.kind, content: f.content, previous, snippets: f.snippets };
    if (exists && previous === null) {
      out.push({ ...base, action: 'conflict', reason: 'a folder or special file is in the way' });
      continue;
    }
    if (previous === null) {
      out.push({ ...base, action: 'create' });
      continue;
    }
    if (previous.equals(f.content)) {
      out.push({ ...base, action: 'unchanged' });
      continue;
    }
    if (f.kind === 'vendor' || f.kind === 'snippet' || f.kind === 'lock') {
      out.push({ ...base, action: 'update' });
      continue;
    }
    // wrapper or extra copy: the user's file differs from what gen would write
    const pristine = f.kind === 'wrapper' ? findPristine(projectDir, moduleName, version, f.path) : null;
    if (pristine && pristine.equals(previous)) {
      out.push({ ...base, action: 'update' });
    } else if (force) {
      out.push({ ...base, action: 'update', forced: true, reason: 'overwritten (--force)' });
    } else if (pristine && pristine.equals(f.content)) {
      out.push({ ...base, action: 'modified', reason: 'edited by you; gen has no change for it' });
    } else {
      out.push({
        ...base,
        action: 'conflict',
        reason:
          f.kind === 'wrapper'
            ? 'edited by you and changed by gen; kept (use --force to overwrite)'
            : 'exists with other content; kept (use --force to overwrite)',
      });
    }
  }
  // stale files in the snapshot folder
  const snapAbs = path.join(projectDir, snapshotDir);
  if (fs.existsSync(snapAbs)) {
    const wanted = new Set(desired.map((d) => d.path));
    for (const rel of listFiles(snapAbs)) {
      const p = `${snapshotDir}/${rel}`;
      if (!wanted.has(p))
        out.push({ path: p, kind: 'vendor', action: 'delete', content: null, previous: fs.readFileSync(path.join(projectDir, p)) });
    }
  }
  return out;
}

/** Files flush must touch. */
export function changes(files: PlannedFile[]): PlannedFile[] {
  return files.filter((f) => f.action === 'create' || f.action === 'update' || f.action === 'delete');
}
