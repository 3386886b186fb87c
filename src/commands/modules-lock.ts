import path from 'node:path';
import type { Command } from 'commander';
import * as z from '../util/zod.js';
import { relock } from '../engine/relock.js';
import { LOCK_PATH } from '../util/paths.js';
import { parseOptions } from './options.js';
import { recoverProject } from './recover.js';

const optionsSchema = z.object({
  overwrite: z._default(z.boolean(), false),
  project: z._default(z.string(), '.'),
  json: z._default(z.boolean(), false),
});

export function define(cmd: Command): void {
  cmd
    .option('-p, --project <dir>', 'the project folder', '.')
    .option('--overwrite', 'replace an existing lock')
    .option('--json', 'print JSON')
    .action((raw: Record<string, unknown>) => lockCommand(raw));
}

export async function lockCommand(raw: Record<string, unknown>): Promise<void> {
  const opts = parseOptions(optionsSchema, raw);
  recoverProject(opts.project);
  const { lock, written } = relock(path.resolve(opts.project), { overwrite: opts.overwrite });
  const summary = Object.entries(lock.modules).map(([name, m]) => ({
    name,
    version: m.version,
    framework: m.framework,
    files: m.files.size,
    digest: m.digest,
  }));
  if (opts.json)
    process.stdout.write(JSON.stringify({ schemaVersion: 1, command: 'lock', lock: LOCK_PATH, written, modules: summary }, null, 2) + '\n');
  else {
    for (const m of summary) process.stdout.write(`${m.name} ${m.version} (${m.framework}): ${m.files} files, ${m.digest}\n`);
    process.stdout.write(`${written ? 'wrote' : 'unchanged'} ${LOCK_PATH}\n`);
  }
}
