import type { Command } from 'commander';
import * as z from '../util/zod.js';
import { ExitError } from '../errors.js';
import { changes } from '../engine/classify.js';
import { applyPlan } from '../engine/pipeline.js';
import { planUpgrade, type UpgradePlan, type UpgradeStatus } from '../engine/upgrade.js';
import { confirm, isInteractive, spinner } from '../util/tty.js';
import { parseOptions } from './options.js';
import { renderFlags, writeFlags } from './write-flags.js';
import { planPatches } from './diff.js';
import { recoverProject } from './recover.js';

const optionsSchema = z.object({
  to: z.optional(z.string()),
  ...writeFlags,
  ...renderFlags,
  conflict: z._default(z.enum(['abort', 'markers'], { error: 'expected abort or markers' }), 'abort'),
});

/** `gen upgrade module <name>`: flags, their schema (above) and the action. */
export function define(cmd: Command): void {
  cmd
    .argument('<name>', 'an installed module')
    .option('--to <version>', "the version to move to (default: the catalogue's; it must be one the catalogue renders)")
    .option('-p, --project <dir>', 'the project folder', '.')
    .option('--dry-run', 'show what would change, conflicts included; write nothing')
    .option('--diff [path]', 'print a unified diff of every change (or of one file); write nothing')
    .option('--json', 'print a JSON report (docs/cli.md)')
    .option('-y, --yes', 'never ask (a conflict then writes nothing, unless --conflict markers)')
    .option('--force', 'allow a downgrade; files with conflicts take the new version (your edits there are lost)')
    .option('--conflict <mode>', 'abort: a conflict writes nothing (default); markers: write conflicting files with git-style markers')
    .option('--set <key=value>', 'set a module variable (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action((name: string, opts: Record<string, unknown>) => upgradeCommand(name, opts));
}

export async function upgradeCommand(name: string, raw: Record<string, unknown>): Promise<void> {
  const opts = parseOptions(optionsSchema, raw, 'gen upgrade module redis --dry-run');
  recoverProject(opts.project);
  const preview = opts.dryRun || opts.diff !== undefined;
  const req = { module: name, projectDir: opts.project, to: opts.to, sets: opts.set, force: opts.force, conflict: opts.conflict };
  const spin = await spinner(`Planning the upgrade of ${name}`, !opts.json);
  let plan: UpgradePlan;
  try {
    plan = planUpgrade(req);
  } catch (err) {
    spin.fail(`Could not plan the upgrade of ${name}`);
    throw err;
  }
  spin.stop();

  // by default a conflict anywhere (a wrapper or a snippet block) writes nothing at all
  const blocks = (p: UpgradePlan) => p.conflictMode === 'abort' && conflicted(p);
  let blocked = blocks(plan);
  if (blocked && !preview && !opts.yes && isInteractive()) {
    printUpgrade(plan, { dryRun: true, applied: false });
    if (await confirm('Write the conflicting files with conflict markers to resolve them yourself?')) {
      plan = planUpgrade({ ...req, conflict: 'markers' });
      blocked = blocks(plan);
    }
  }
  if (opts.diff !== undefined) {
    printDiff(plan, typeof opts.diff === 'string' ? opts.diff : null, opts.json);
    if (conflicted(plan)) throw new ExitError(1);
    return;
  }
  const apply = !preview && !blocked && !plan.upToDate;
  if (apply) {
    const writing = await spinner(`Writing ${changes(plan.files).length} file(s)`, !opts.json);
    try {
      applyPlan(plan);
    } catch (err) {
      writing.fail('Nothing was written');
      throw err;
    }
    writing.stop();
  }
  const state = { dryRun: preview, applied: apply };
  if (opts.json) process.stdout.write(plan.redactor.redact(JSON.stringify(upgradeReport(plan, state), null, 2)) + '\n');
  else printUpgrade(plan, state);
  if (conflicted(plan) || plan.snippetConflicts.length > 0) throw new ExitError(1);
}

function conflicted(plan: UpgradePlan): boolean {
  return plan.items.some((i) => i.status === 'conflict');
}

const STATUSES: UpgradeStatus[] = ['created', 'updated', 'merged', 'conflict', 'unchanged', 'removed', 'kept'];

/** The stable `--json` report of upgrade (docs/cli.md). */
export function upgradeReport(plan: UpgradePlan, state: { dryRun: boolean; applied: boolean }) {
  return {
    schemaVersion: 1,
    command: 'upgrade',
    module: plan.mod.def.name,
    from: plan.from,
    to: plan.to,
    framework: plan.framework,
    project: plan.projectDir,
    dryRun: state.dryRun,
    applied: state.applied,
    upToDate: plan.upToDate,
    conflictMode: plan.conflictMode,
    files: plan.items,
    changelog: plan.changelog,
    manual: plan.manual,
    conflicts: plan.snippetConflicts,
    warnings: plan.warnings,
    summary: Object.fromEntries(STATUSES.map((s) => [s, plan.items.filter((i) => i.status === s).length])),
  };
}

function printUpgrade(plan: UpgradePlan, state: { dryRun: boolean; applied: boolean }): void {
  const name = plan.mod.def.name;
  const out: string[] = [];
  if (plan.upToDate) {
    out.push(`${name} ${plan.to} is installed already: nothing to upgrade (gen add module ${name} re-renders it).`);
    process.stdout.write(out.join('\n') + '\n');
    return;
  }
  out.push(
    `${state.dryRun ? 'Dry run: ' : ''}gen upgrade module ${name} ${plan.from} → ${plan.to} (${plan.framework}) in ${plan.projectDir}`,
  );
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  for (const i of plan.items) {
    const what = `${i.path}${i.snippet ? ` [${i.snippet}]` : ''}${i.count !== undefined ? ` (${i.count} file${i.count === 1 ? '' : 's'})` : ''}`;
    out.push(`  ${(i.status === 'conflict' ? 'CONFLICT' : i.status).padEnd(10)} ${what}${i.reason ? `  (${i.reason})` : ''}`);
    for (const h of i.hunks ?? []) {
      out.push(`      at line ${h.line}:`);
      for (const l of h.yours) out.push(`      - yours | ${l}`);
      for (const l of h.theirs) out.push(`      + gen   | ${l}`);
    }
  }
  for (const c of plan.snippetConflicts) out.push(`  CONFLICT   ${c.target} [${c.snippet}]  (${c.reason})`);
  if (plan.manual.length > 0) {
    out.push('Manual steps (gen found no anchor for these):');
    for (const m of plan.manual) out.push(`  - ${m.target}: ${m.step}  (${m.reason})`);
  }
  if (plan.changelog.length > 0) {
    out.push(`Changes in ${name} since ${plan.from}:`);
    for (const c of plan.changelog) out.push(`  ${c.version} (${c.date}): ${c.summary}`);
  }
  const n = (s: UpgradeStatus) => plan.items.filter((i) => i.status === s).length;
  out.push(
    `Summary: ${n('created')} created, ${n('updated')} updated, ${n('merged')} merged, ${n('conflict')} conflict(s), ${n('unchanged')} unchanged, ${n('removed')} removed, ${n('kept')} kept`,
  );
  if (n('conflict') > 0 && !state.applied)
    out.push(
      "Nothing was written. Resolve: undo or adapt your edit, or re-run with --conflict markers to merge by hand (verify-all fails until the markers are gone), or --force to take gen's version.",
    );
  else if (n('conflict') > 0)
    out.push('Written with conflict markers: resolve each <<<<<<< yours / >>>>>>> block, then run gen modules verify-all.');
  else if (state.applied) out.push(`Upgraded ${name} to ${plan.to}. Review with git diff; gen modules verify-all checks the result.`);
  process.stdout.write(plan.redactor.redact(out.join('\n')) + '\n');
}

function printDiff(plan: UpgradePlan, only: string | null, json: boolean): void {
  const patches = planPatches(plan.files, only);
  if (json) {
    const report = { ...upgradeReport(plan, { dryRun: true, applied: false }), diff: patches.join('') };
    process.stdout.write(plan.redactor.redact(JSON.stringify(report, null, 2)) + '\n');
  } else {
    process.stdout.write(plan.redactor.redact(patches.join('')) || `No changes${only ? ` to ${only}` : ''}.\n`);
  }
}
