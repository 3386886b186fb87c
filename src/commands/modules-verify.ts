import path from 'node:path';
import type { Command } from 'commander';
import { parseOptions } from './options.js';
import { recoverProject } from './recover.js';
import { beginVerify, cancelVerify, verifyProject, type StartedVerify } from '../check/verify.js';
import { ExitError } from '../errors.js';

export function define(cmd: Command): void {
  cmd
    .option('-p, --project <dir>', 'the project folder', '.')
    .option('--strict', 'also fail on edited wrappers and snippets')
    .option('--json', 'print JSON (docs/lock.md)')
    .action((raw: Record<string, unknown>) => verifyCommand(raw));
}

export async function verifyCommand(raw: Record<string, unknown>): Promise<void> {
  // The project commander parsed is recovered and its lock's files start hashing before zod loads to validate the
  // options; the errors still come in the order of the plain sequence (options, then project, then lock), because
  // a failed early start is rethrown only after the options have been validated.
  let started: StartedVerify | null = null;
  let failed: { err: unknown } | null = null;
  if (typeof raw.project === 'string') {
    try {
      recoverProject(raw.project);
      started = beginVerify(path.resolve(raw.project));
    } catch (err) {
      failed = { err };
    }
  }
  let opts;
  try {
    opts = parseOptions((await import('./modules-verify-options.js')).optionsSchema, raw);
  } catch (err) {
    if (started) cancelVerify(started);
    throw err;
  }
  if (failed) throw failed.err;
  if (!started) recoverProject(opts.project);
  const report = await verifyProject(path.resolve(opts.project), opts.strict, started ?? undefined);
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
