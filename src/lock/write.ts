import { stringify } from 'yaml';
import { filesText } from './read.js';
import type { Lock, ModuleEntry } from './schema.js';

const HEADER = '# Written by gen (gen add / gen modules lock); do not edit. Check it with: npx gen modules verify-all\n';

/** Deterministic YAML (sorted modules and files, no timestamps): a no-op re-run writes identical bytes. */
export function renderLock(lock: Lock): string {
  const modules = Object.fromEntries(
    Object.entries(lock.modules)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      // field by field, in the documented order (an entry read from a lock carries its files text too)
      .map(([name, m]) => [
        name,
        {
          version: m.version,
          framework: m.framework,
          generator: m.generator,
          templates: m.templates,
          digest: m.digest,
          options: m.options,
          ...(m.dependencies && Object.keys(m.dependencies).length > 0 ? { dependencies: sortedRecord(m.dependencies) } : {}),
          files: filesText(m.files),
        },
      ]),
  );
  return HEADER + stringify({ lockVersion: 1, modules }, { lineWidth: 0, blockQuote: 'literal' });
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The lock without one module's entry; null when no module is left (the lock file goes). */
export function withoutModule(lock: Lock, name: string): Lock | null {
  const modules = Object.fromEntries(Object.entries(lock.modules).filter(([n]) => n !== name));
  return Object.keys(modules).length === 0 ? null : { lockVersion: 1, modules };
}

/** The lock with one module's entry set (added or replaced). */
export function withModule(lock: Lock | null, name: string, entry: ModuleEntry): Lock {
  return { lockVersion: 1, modules: { ...(lock?.modules ?? {}), [name]: entry } };
}
