import type { Command } from 'commander';
import * as z from '../util/zod.js';
import { ExitError } from '../errors.js';
import { flush, opsFrom } from '../engine/flush.js';
import { planRemove, type RemovePlan } from '../engine/remove.js';
import { confirm, isInteractive, spinner } from '../util/tty.js';
import { parseOptions } from './options.js';
import { writeFlags } from './write-flags.js';
import { recoverProject } from './recover.js';

const optionsSchema = z.object(writeFlags);

/** `gen remove module <name>`: flags, their schema (above) and the action. */
export function define(cmd: Command): void {
  cmd
    .argument('<name>', 'an installed module')
    .option('-p, --project <dir>', 'the project folder', '.')
    .option('--dry-run', 'show what would be removed and what kept; write nothing')
    .option('--json', 'print a JSON report (docs/cli.md)')
    .option('-y, --yes', 'never ask (edited files then stop the removal, unless --force)')
    .option('--force', 'remove files and blocks you edited too, and .env blocks holding your values')
    .action((name: string, opts: Record<string, unknown>) => removeCommand(name, opts));
}

export async function removeCommand(name: string, raw: Record<string, unknown>): Promise<void> {
  const opts = parseOptions(optionsSchema, raw, 'gen remove module redis --dry-run');
  recoverProject(opts.project);
  let plan = planRemove({ module: name, projectDir: opts.project, force: opts.force });
  let edited = plan.items.some((i) => i.edited);
  if (edited && !opts.dryRun && !opts.yes && !opts.force && isInteractive()) {
    printRemove(plan, { dryRun: true, applied: false });
    if (await confirm('Remove the files and blocks you edited too?')) {
      plan = planRemove({ module: name, projectDir: opts.project, force: true });
      edited = false;
    }
  }
  // an edited wrapper or block stops the whole removal: half a module (a wrapper importing a deleted snapshot) is worse
  const apply = !opts.dryRun && !edited;
  if (apply) {
    const writing = await spinner(`Removing ${plan.files.length} file(s)`, !opts.json);
    try {
      flush(plan.projectDir, opsFrom(plan.files));
    } catch (err) {
      writing.fail('Nothing was changed');
      throw err;
    }
    writing.stop();
  }
  const state = { dryRun: opts.dryRun, applied: apply };
  if (opts.json) process.stdout.write(JSON.stringify(removeReport(plan, state), null, 2) + '\n');
  else printRemove(plan, state);
  if (edited) throw new ExitError(1);
}

/** The stable `--json` report of remove (docs/cli.md). */
export function removeReport(plan: RemovePlan, state: { dryRun: boolean; applied: boolean }) {
  return {
    schemaVersion: 1,
    command: 'remove',
    module: plan.module,
    version: plan.version,
    framework: plan.framework,
    project: plan.projectDir,
    dryRun: state.dryRun,
    applied: state.applied,
    files: plan.items,
    warnings: plan.warnings,
    summary: {
      removed: plan.items.filter((i) => i.status === 'removed').length,
      kept: plan.items.filter((i) => i.status === 'kept').length,
      edited: plan.items.filter((i) => i.edited).length,
    },
  };
}

function printRemove(plan: RemovePlan, state: { dryRun: boolean; applied: boolean }): void {
  const out = [
    `${state.dryRun ? 'Dry run: ' : ''}gen remove module ${plan.module} ${plan.version} (${plan.framework}) from ${plan.projectDir}`,
  ];
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  for (const i of plan.items) {
    const what =
      i.kind === 'package'
        ? `${i.path} dependencies`
        : `${i.path}${i.snippet ? ` [${i.snippet}]` : ''}${i.count !== undefined ? ` (${i.count} file${i.count === 1 ? '' : 's'})` : ''}`;
    out.push(`  ${(i.edited ? 'EDITED' : i.status).padEnd(10)} ${what}${i.reason ? `  (${i.reason})` : ''}`);
  }
  const edited = plan.items.filter((i) => i.edited).length;
  if (edited > 0 && !state.applied)
    out.push(
      `Nothing was removed: you edited ${edited} file(s)/block(s) gen wrote. Undo the edits, or re-run with --force to remove them too.`,
    );
  else if (state.applied) out.push(`Removed ${plan.module}. What gen kept is listed above.`);
  process.stdout.write(out.join('\n') + '\n');
}
