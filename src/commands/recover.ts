import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { recover } from '../engine/flush.js';

/**
 * Every command that takes a project checks `--project` names a folder, then finishes or undoes a write an earlier
 * gen process left unfinished (killed, power loss): see recover in engine/flush.ts. What it did goes to stderr
 * (stdout stays the command's).
 */
export function recoverProject(project: string): void {
  const dir = path.resolve(project);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir);
  } catch {
    st = undefined;
  }
  if (st === undefined) {
    throw new UsageError(`--project: folder '${project}' does not exist`, {
      code: 'NOT_FOUND',
      field: '--project',
      hint: 'Pass an existing folder with --project (default: the current folder).',
    });
  }
  if (!st.isDirectory()) {
    throw new UsageError(`--project '${project}' is a file, not a folder`, {
      field: '--project',
      hint: 'Pass the project folder (the one holding the file) with --project (default: the current folder).',
    });
  }
  const said = recover(dir);
  if (said) process.stderr.write(`${said}\n`);
}
