import type { Command } from 'commander';
import * as z from '../util/zod.js';
import { parseOptions } from './options.js';
import { renderFlags, writeFlags } from './write-flags.js';
import { planPatches } from './diff.js';
import { recoverProject } from './recover.js';
import { ExitError } from '../errors.js';
import { loadCatalogue, loadModule } from '../module/load.js';
import { changes } from '../engine/classify.js';
import { applyPlan, planAdd, type AddPlan } from '../engine/pipeline.js';
import { confirm, isInteractive, spinner } from '../util/tty.js';
import { addReport, printSummary } from './add-report.js';

const optionsSchema = z.object({ framework: z.optional(z.string()), ...writeFlags, ...renderFlags });

/** `gen add module <name>`: flags, their schema (above) and the action. */
export function define(cmd: Command): void {
  cmd
    .argument('<name>', 'the module (gen modules list)')
    .option('-f, --framework <framework>', "one of the module's frameworks (gen modules info <name>); default: detected")
    .option('-p, --project <dir>', 'the project folder', '.')
    .option('--dry-run', 'show what would change; write nothing')
    .option('--diff [path]', 'print a unified diff of every change (or of one file); write nothing')
    .option('--json', 'print a JSON report (docs/cli.md)')
    .option('-y, --yes', 'never ask; keep files you edited (report them as conflicts)')
    .option('--force', 'overwrite files you edited')
    .option('--set <key=value>', 'set a module variable (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addHelpText('after', frameworksHelp)
    .action((name: string, opts: Record<string, unknown>) => addCommand(name, opts));
}

/** `--help` lists each module's frameworks from the catalogue (read only when help is shown). */
function frameworksHelp(): string {
  try {
    const lines = loadCatalogue().modules.map((m) => {
      const fws = Object.entries(loadModule(m.name).def.frameworks).map(([id, fw]) => `${id} (${fw.label})`);
      return `  ${m.name}: ${fws.join(', ')}`;
    });
    return `\nFrameworks (--framework; detected when omitted):\n${lines.join('\n')}`;
  } catch (err) {
    return `\nFrameworks: the catalogue could not be read (${err instanceof Error ? err.message : String(err)})`;
  }
}

export async function addCommand(name: string, raw: Record<string, unknown>): Promise<void> {
  const opts = parseOptions(optionsSchema, raw);
  recoverProject(opts.project);
  const preview = opts.dryRun || opts.diff !== undefined;
  const spin = await spinner(`Rendering module ${name}`, !opts.json);
  const req = { module: name, projectDir: opts.project, framework: opts.framework, sets: opts.set, force: opts.force };
  let plan: AddPlan;
  try {
    plan = planAdd(req);
  } catch (err) {
    spin.fail(`Could not render module ${name}`);
    throw err;
  }
  spin.stop();

  let conflicts = plan.files.filter((f) => f.action === 'conflict');
  if (conflicts.length > 0 && !preview && !opts.force && !opts.yes && isInteractive()) {
    printSummary(plan, { dryRun: true, applied: false });
    if (await confirm(`Overwrite ${conflicts.length} file(s) you edited?`)) {
      plan = planAdd({ ...req, force: true });
      conflicts = plan.files.filter((f) => f.action === 'conflict');
    }
  }

  if (opts.diff !== undefined) {
    printDiff(plan, typeof opts.diff === 'string' ? opts.diff : null, opts.json);
    return;
  }
  if (!preview) {
    const writing = await spinner(`Writing ${changes(plan.files).length} file(s)`, !opts.json);
    try {
      applyPlan(plan);
    } catch (err) {
      writing.fail('Nothing was written');
      throw err;
    }
    writing.stop();
  }
  if (opts.json)
    process.stdout.write(plan.redactor.redact(JSON.stringify(addReport(plan, { dryRun: preview, applied: !preview }), null, 2)) + '\n');
  else printSummary(plan, { dryRun: preview, applied: !preview });
  if (conflicts.length > 0 || plan.snippetConflicts.length > 0) throw new ExitError(1);
}

function printDiff(plan: AddPlan, only: string | null, json: boolean): void {
  const patches = planPatches(plan.files, only);
  if (json) {
    const report = { ...addReport(plan, { dryRun: true, applied: false }), diff: patches.join('') };
    process.stdout.write(plan.redactor.redact(JSON.stringify(report, null, 2)) + '\n');
  } else {
    process.stdout.write(plan.redactor.redact(patches.join('')) || `No changes${only ? ` to ${only}` : ''}.\n`);
  }
}
