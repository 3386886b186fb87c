import type { Command } from 'commander';
import * as z from '../util/zod.js';
import { parseOptions } from './options.js';
import { ExitError, UsageError } from '../errors.js';
import { loadCatalogue } from '../module/load.js';
import { vetModule } from '../check/vet.js';

const optionsSchema = z.object({
  json: z._default(z.boolean(), false),
  bump: z.optional(z.enum(['patch', 'minor', 'major'], { error: 'expected patch, minor or major' })),
  record: z._default(z.boolean(), false),
});

export function define(cmd: Command): void {
  cmd
    .argument('[module]', 'the module (default: every module of the catalogue)')
    .option('--bump <level>', 'bump the version (patch|minor|major), add a changelog stub, record the content hash')
    .option('--record', 'record a first release (content hash and template digests)')
    .option('--json', 'print JSON (docs/lock.md)')
    .action((name: string | undefined, raw: Record<string, unknown>) => vetCommand(name, raw));
}

export async function vetCommand(name: string | undefined, raw: Record<string, unknown>): Promise<void> {
  const opts = parseOptions(optionsSchema, raw, 'gen modules vet <module> --bump patch');
  if (opts.bump && opts.record) throw new UsageError('--bump and --record: choose one (--bump records the new version itself)');
  if (opts.bump && !name)
    throw new UsageError('--bump needs a module name: every bump is one explicit decision', {
      hint: 'Example: gen modules vet <module> --bump patch',
    });
  const names = name ? [name] : loadCatalogue().modules.map((m) => m.name);
  const reports = names.map((n) => vetModule(n, { bump: opts.bump, record: opts.record }));
  if (opts.json)
    process.stdout.write(
      JSON.stringify(name ? reports[0] : { schemaVersion: 1, command: 'vet', ok: reports.every((r) => r.ok), reports }, null, 2) + '\n',
    );
  else {
    for (const r of reports) {
      process.stdout.write(
        `${r.ok ? 'ok  ' : 'FAIL'} ${r.module} ${r.version ?? ''}${r.bumped ? ` (bumped to ${r.bumped}: describe the change in its changelog entry)` : ''}${r.recorded ? ' (content hash recorded)' : ''}\n`,
      );
      for (const p of r.problems) process.stdout.write(`  [${p.check}] ${p.message}\n    remedy: ${p.remedy}\n`);
    }
  }
  if (reports.some((r) => !r.ok)) throw new ExitError(1);
}
