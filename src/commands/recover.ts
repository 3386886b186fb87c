import path from 'node:path';
import { recover } from '../engine/flush.js';

/**
 * Every command that takes a project first finishes or undoes a write an earlier gen process left unfinished
 * (killed, power loss): see recover in engine/flush.ts. What it did goes to stderr (stdout stays the command's).
 */
export function recoverProject(project: string): void {
  const said = recover(path.resolve(project));
  if (said) process.stderr.write(`${said}\n`);
}
