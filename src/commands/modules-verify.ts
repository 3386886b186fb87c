import path from 'node:path';
import { ExitError } from '../errors.js';
import { verifyProject } from '../lock/verify.js';

// No zod here: verify-all is on CI's critical path and takes three flags, already typed (by commander, or by
// plainVerifyArgs in cli.ts for the plain form).
export async function verifyCommand(raw: Record<string, unknown>): Promise<void> {
  const opts = { strict: raw.strict === true, project: typeof raw.project === 'string' ? raw.project : '.', json: raw.json === true };
  const report = await verifyProject(path.resolve(opts.project), opts.strict);
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else {
    const out: string[] = [];
    for (const m of report.modules)
      out.push(
        `${m.ok ? 'ok  ' : 'FAIL'} ${m.name} ${m.version} (${m.framework}): ${m.files} files checked${m.regenerated ? ', regenerated from the lock' : ''}`,
      );
    for (const p of report.problems) {
      out.push(`  ${p.status.toUpperCase()}: ${p.message}`);
      if (p.expected || p.actual) out.push(`    expected: ${p.expected ?? '-'}\n    actual:   ${p.actual ?? '-'}`);
      if (p.remedy) out.push(`    remedy:   ${p.remedy}`);
    }
    for (const m of report.modified.filter((c) => !c.fails)) out.push(`  ${m.message}`);
    for (const i of report.info) out.push(`  info: ${i}`);
    out.push(report.ok ? 'verify-all: everything matches the lock' : `verify-all: ${report.problems.length} problem(s)`);
    process.stdout.write(out.join('\n') + '\n');
  }
  if (!report.ok) throw new ExitError(1);
}
