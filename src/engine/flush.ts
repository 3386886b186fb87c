import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GenError } from '../errors.js';
import type { PlannedFile } from './classify.js';

export interface FlushOp {
  path: string;
  /** New content; null deletes the file. */
  content: Buffer | null;
  /** Content before (null when the file did not exist). Used to roll back. */
  previous: Buffer | null;
}

/** Test hook: GEN_FAULT_AFTER=N makes the flush fail after N files were put in place (see docs/cli.md). */
function faultAfter(): number | null {
  const v = process.env.GEN_FAULT_AFTER;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/**
 * All-or-nothing write. Every new content is first staged in a folder on the project's filesystem, then renamed
 * into place (rename is atomic per file). On any error every file already placed gets its previous content
 * back, files and folders that did not exist are removed, and the staging folder is deleted: the project is
 * exactly as before.
 */
export function flush(projectDir: string, ops: FlushOp[]): void {
  if (ops.length === 0) return;
  const stage = path.join(projectDir, `.gen-staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  const createdDirs: string[] = [];
  const applied: FlushOp[] = [];
  const limit = faultAfter();
  const modes = new Map<string, number>();
  try {
    fs.mkdirSync(stage);
    ops.forEach((op, i) => {
      if (op.content !== null) fs.writeFileSync(path.join(stage, String(i)), op.content);
      try {
        modes.set(op.path, fs.statSync(path.join(projectDir, op.path)).mode);
      } catch {
        /* new file */
      }
    });
    ops.forEach((op, i) => {
      if (limit !== null && applied.length >= limit) throw new Error(`injected fault after ${limit} file(s) (GEN_FAULT_AFTER)`);
      const target = path.join(projectDir, op.path);
      if (op.content === null) {
        fs.rmSync(target, { force: true });
      } else {
        mkdirp(path.dirname(target), createdDirs);
        const staged = path.join(stage, String(i));
        const mode = modes.get(op.path);
        if (mode !== undefined) fs.chmodSync(staged, mode & 0o7777);
        fs.renameSync(staged, target);
      }
      applied.push(op);
    });
  } catch (err) {
    rollback(projectDir, applied, createdDirs, modes);
    fs.rmSync(stage, { recursive: true, force: true });
    throw new GenError(`writing failed, nothing was changed: ${err instanceof Error ? err.message : String(err)}`, {
      exitCode: 1,
      cause: err,
    });
  }
  fs.rmSync(stage, { recursive: true, force: true });
}

function mkdirp(dir: string, created: string[]): void {
  if (fs.existsSync(dir)) return;
  mkdirp(path.dirname(dir), created);
  fs.mkdirSync(dir);
  created.push(dir);
}

function rollback(projectDir: string, applied: FlushOp[], createdDirs: string[], modes: Map<string, number>): void {
  for (const op of [...applied].reverse()) {
    const target = path.join(projectDir, op.path);
    try {
      if (op.previous === null) fs.rmSync(target, { force: true });
      else {
        const tmp = `${target}.gen-restore-${process.pid}`;
        fs.writeFileSync(tmp, op.previous);
        const mode = modes.get(op.path);
        if (mode !== undefined) fs.chmodSync(tmp, mode & 0o7777);
        fs.renameSync(tmp, target);
      }
    } catch {
      /* keep restoring the others */
    }
  }
  for (const dir of [...createdDirs].reverse()) {
    try {
      fs.rmdirSync(dir);
    } catch {
      /* not empty: something else lives there */
    }
  }
}

export function opsFrom(files: PlannedFile[]): FlushOp[] {
  return files.map((f) => ({ path: f.path, content: f.action === 'delete' ? null : f.content, previous: f.previous }));
}
