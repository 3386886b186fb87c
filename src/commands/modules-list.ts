import type { Command } from 'commander';
import * as z from '../util/zod.js';
import { parseOptions } from './options.js';
import { loadCatalogue, loadModule } from '../module/load.js';

const optionsSchema = z.object({ json: z._default(z.boolean(), false) });

export function define(cmd: Command): void {
  cmd.option('--json', 'print JSON').action((raw: Record<string, unknown>) => listCommand(raw));
}

export async function listCommand(raw: Record<string, unknown>): Promise<void> {
  const opts = parseOptions(optionsSchema, raw);
  const cat = loadCatalogue();
  const rows = cat.modules.map((m) => {
    const mod = loadModule(m.name);
    return { name: m.name, version: mod.def.version, description: mod.def.description, frameworks: Object.keys(mod.def.frameworks) };
  });
  if (opts.json) {
    process.stdout.write(JSON.stringify({ schemaVersion: 1, modules: rows }, null, 2) + '\n');
    return;
  }
  for (const r of rows)
    process.stdout.write(`${r.name.padEnd(12)} ${r.version.padEnd(8)} ${r.frameworks.join(', ').padEnd(24)} ${r.description}\n`);
}
