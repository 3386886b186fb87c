import type { Command } from 'commander';
import * as z from '../util/zod.js';
import { parseOptions } from './options.js';
import { loadModule } from '../module/load.js';
import { readState } from '../module/state.js';

const optionsSchema = z.object({ json: z._default(z.boolean(), false) });

export function define(cmd: Command): void {
  cmd
    .argument('<name>', 'the module')
    .option('--json', 'print JSON')
    .action((name: string, raw: Record<string, unknown>) => infoCommand(name, raw));
}

export async function infoCommand(name: string, raw: Record<string, unknown>): Promise<void> {
  const opts = parseOptions(optionsSchema, raw);
  const mod = loadModule(name);
  const d = mod.def;
  const info = {
    schemaVersion: 1,
    name: d.name,
    version: d.version,
    description: d.description,
    releasedVersions: Object.keys(readState(mod).versions),
    compatibility: d.compatibility,
    frameworks: Object.fromEntries(
      Object.entries(d.frameworks).map(([id, fw]) => [
        id,
        {
          label: fw.label,
          language: fw.language,
          wrappers: fw.wrappers.map((w) => w.path),
          snippets: fw.snippets.map((s) => d.snippets[s]!.target),
        },
      ]),
    ),
    variables: Object.fromEntries(
      Object.entries(d.variables).map(([k, v]) => [
        k,
        { type: v.type, default: v.default, override: v.override ?? null, secret: v.secret ?? false, description: v.description ?? null },
      ]),
    ),
    documentation: d.documentation,
    changelog: d.changelog,
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return;
  }
  const out: string[] = [`${d.name} ${d.version} — ${d.description}`, '', 'Frameworks:'];
  for (const [id, fw] of Object.entries(info.frameworks))
    out.push(`  ${id.padEnd(9)} ${fw.label} (${fw.language}); wrappers: ${fw.wrappers.join(', ')}`);
  out.push('', 'Variables (default < RAPIDKIT_* override < --set):');
  for (const [k, v] of Object.entries(info.variables)) {
    out.push(
      `  ${k.padEnd(16)} ${v.type.padEnd(8)} default ${JSON.stringify(v.default)}${v.override ? `  env ${v.override}` : ''}${v.secret ? '  (secret: .env only)' : ''}`,
    );
  }
  out.push('', 'Documentation:');
  for (const [k, p] of Object.entries(d.documentation)) out.push(`  ${k.padEnd(14)} ${p}`);
  out.push(
    '',
    `Versions: ${info.releasedVersions.join(', ') || '(none released yet)'}; changelog: ${d.changelog.map((c) => c.version).join(', ')}`,
  );
  process.stdout.write(out.join('\n') + '\n');
}
