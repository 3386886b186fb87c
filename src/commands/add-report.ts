import type { Action } from '../engine/classify.js';
import type { AddPlan } from '../engine/pipeline.js';
import { vendorDir } from '../util/paths.js';

const ACTIONS: Action[] = ['create', 'update', 'delete', 'unchanged', 'modified', 'conflict'];

/** The stable `--json` report of add (schema documented in docs/cli.md). */
export function addReport(plan: AddPlan, state: { dryRun: boolean; applied: boolean }) {
  const summary = Object.fromEntries(ACTIONS.map((a) => [a, plan.files.filter((f) => f.action === a).length])) as Record<Action, number>;
  return {
    schemaVersion: 1,
    command: 'add',
    module: plan.mod.def.name,
    version: plan.mod.def.version,
    framework: plan.framework,
    project: plan.projectDir,
    dryRun: state.dryRun,
    applied: state.applied,
    files: plan.files.map((f) => ({
      path: f.path,
      kind: f.kind,
      action: f.action,
      ...(f.snippets ? { snippets: f.snippets } : {}),
      ...(f.reason ? { reason: f.reason } : {}),
    })),
    manual: plan.manual,
    conflicts: plan.snippetConflicts,
    modifiedBlocks: plan.modifiedBlocks,
    warnings: plan.warnings,
    summary,
  };
}

const VERB: Record<Action, string> = {
  create: 'create',
  update: 'update',
  delete: 'delete',
  unchanged: 'unchanged',
  modified: 'modified',
  conflict: 'CONFLICT',
};

export function printSummary(plan: AddPlan, state: { dryRun: boolean; applied: boolean }): void {
  const out: string[] = [];
  const r = plan.redactor;
  out.push(
    `${state.dryRun ? 'Dry run: ' : ''}gen add module ${plan.mod.def.name} ${plan.mod.def.version} (${plan.framework}) in ${plan.projectDir}`,
  );
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  const vendor = plan.files.filter((f) => f.kind === 'vendor');
  const snap = `${vendorDir(plan.mod.def.name, plan.mod.def.version)}/`;
  for (const a of ACTIONS) {
    const n = vendor.filter((f) => f.action === a).length;
    if (n > 0) out.push(`  ${VERB[a].padEnd(10)} ${snap} (${n} vendored file${n === 1 ? '' : 's'})`);
  }
  for (const f of plan.files.filter((x) => x.kind !== 'vendor')) {
    const extra = f.snippets ? ` [${f.snippets.join(', ')}]` : '';
    out.push(`  ${VERB[f.action].padEnd(10)} ${f.path}${extra}${f.reason ? `  (${f.reason})` : ''}`);
  }
  for (const c of plan.modifiedBlocks) out.push(`  modified   ${c.target} [${c.snippet}]  (${c.reason})`);
  for (const c of plan.snippetConflicts) out.push(`  CONFLICT   ${c.target} [${c.snippet}]  (${c.reason})`);
  if (plan.manual.length > 0) {
    out.push('Manual steps (gen found no anchor for these):');
    for (const m of plan.manual) out.push(`  - ${m.target}: ${m.step}  (${m.reason})`);
  }
  const count = (a: Action) => plan.files.filter((f) => f.action === a).length;
  const verbs = state.applied ? ['created', 'updated', 'deleted'] : ['to create', 'to update', 'to delete'];
  out.push(
    `Summary: ${count('create')} ${verbs[0]}, ${count('update')} ${verbs[1]}, ${count('delete')} ${verbs[2]}, ${count('unchanged')} unchanged, ${count('modified')} modified (kept), ${count('conflict') + plan.snippetConflicts.length} conflict(s)`,
  );
  if (count('conflict') > 0) out.push('hint: files you edited were kept; re-run with --force to overwrite them (see --diff first).');
  process.stdout.write(r.redact(out.join('\n')) + '\n');
}
