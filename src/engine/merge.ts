import { diff3Merge } from 'node-diff3';
import { CONFLICT_SEP, CONFLICT_START, conflictEnd } from '../lock/markers.js';

/** One conflicting hunk of a 3-way merge: what you have, what gen had, what gen has now (lines, no line ends). */
export interface ConflictHunk {
  /** 1-based line in your file where the hunk starts. */
  line: number;
  yours: string[];
  base: string[];
  theirs: string[];
}

export interface MergeOutcome {
  clean: boolean;
  /** The merged text; where it is not clean, each conflict between git-style markers. */
  text: string;
  hunks: ConflictHunk[];
}

/** Lines without their ends: LF and CRLF texts compare equal line by line. */
function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

/**
 * 3-way line merge (node-diff3: Khanna/Kunal/Pierce diff3): `yours` is the user's text, `base` gen's rendering the
 * user started from, `theirs` gen's new rendering. Line ends follow `yours` (LF or CRLF) in the result.
 */
export function merge3(yours: string, base: string, theirs: string, theirsLabel: string): MergeOutcome {
  const eol = yours.includes('\r\n') ? '\r\n' : '\n';
  const a = lines(yours);
  const o = lines(base);
  const b = lines(theirs);
  const regions = diff3Merge(a, o, b, { excludeFalseConflicts: true });
  const out: string[] = [];
  const hunks: ConflictHunk[] = [];
  for (const r of regions) {
    if (r.ok) {
      out.push(...r.ok);
    } else if (r.conflict) {
      const c = r.conflict;
      hunks.push({ line: c.aIndex + 1, yours: c.a, base: c.o, theirs: c.b });
      out.push(CONFLICT_START, ...c.a, CONFLICT_SEP, ...c.b, conflictEnd(theirsLabel));
    }
  }
  return { clean: hunks.length === 0, text: out.join(eol), hunks };
}
