import { createTwoFilesPatch } from 'diff';
import { UsageError } from '../errors.js';
import type { PlannedFile } from '../engine/classify.js';

/** Unified diffs of what a plan writes (create, update, delete), or of one of its files: `--diff [PATH]` of add and upgrade. */
export function planPatches(files: PlannedFile[], only: string | null): string[] {
  const writes = (f: PlannedFile) => f.action === 'create' || f.action === 'update' || f.action === 'delete';
  const picked = only === null ? files.filter(writes) : files.filter((f) => f.path === only.replace(/^\.\//, ''));
  if (only !== null && picked.length === 0) {
    throw new UsageError(`--diff ${only}: gen does not write that file`, { hint: 'Run with --dry-run to list every file gen writes.' });
  }
  // one file asked for: its diff even when it is a conflict (what --force would write)
  return picked
    .filter((f) => f.action !== 'unchanged' && f.action !== 'modified')
    .map((f) =>
      createTwoFilesPatch(
        f.previous === null ? '/dev/null' : `a/${f.path}`,
        f.content === null ? '/dev/null' : `b/${f.path}`,
        f.previous?.toString('utf8') ?? '',
        f.content?.toString('utf8') ?? '',
        undefined,
        undefined,
        { context: 3 },
      ),
    );
}
