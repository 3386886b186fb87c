import { z } from 'zod';
import { ExitError, UsageError } from '../errors.js';
import { loadCatalogue } from '../module/load.js';
import { vetModule } from '../lock/vet.js';

const optionsSchema = z.object({
  json: z.boolean().default(false),
  bump: z.enum(['patch', 'minor', 'major']).optional(),
  record: z.boolean().default(false),
});

export async function vetCommand(name: string | undefined, raw: Record<string, unknown>): Promise<void> {
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(`--bump: expected patch, minor or major`, { hint: 'Example: gen modules vet redis --bump patch' });
  const opts = parsed.data;
  if (opts.bump && opts.record) throw new UsageError('--bump and --record: choose one (--bump records the new version itself)');
  if (opts.bump && !name)
    throw new UsageError('--bump needs a module name: every bump is one explicit decision', {
      hint: 'Example: gen modules vet redis --bump patch',
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
