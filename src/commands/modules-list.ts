import { loadCatalogue, loadModule } from '../module/load.js';

export async function listCommand(opts: Record<string, unknown>): Promise<void> {
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
