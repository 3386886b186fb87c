import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { ModuleDef } from '../module/schema.js';

/** Frameworks whose `detect` rules match the project (a file naming the framework). */
export function detectFrameworks(def: ModuleDef, projectDir: string): string[] {
  const found: string[] = [];
  for (const [id, fw] of Object.entries(def.frameworks)) {
    const hit = fw.detect.some((rule) => {
      let text: string;
      try {
        text = fs.readFileSync(path.join(projectDir, rule.file), 'utf8');
      } catch {
        return false;
      }
      const fold = (t: string) => (rule.ignore_case ? t.toLowerCase() : t);
      const has = (wanted: string | string[]) => [wanted].flat().some((w) => fold(text).includes(fold(w)));
      return (rule.contains === undefined || has(rule.contains)) && !(rule.unless !== undefined && has(rule.unless));
    });
    if (hit) found.push(id);
  }
  // a fallback framework (plain Node, plain Python) only when nothing more specific is detected
  const specific = found.filter((id) => !def.frameworks[id]!.fallback);
  return specific.length > 0 ? specific : found;
}

/** --framework, else detection. Unknown or undetectable is exit 2 with the list of frameworks. */
export function resolveFramework(def: ModuleDef, projectDir: string, requested: string | undefined): string {
  const available = Object.keys(def.frameworks);
  const list = `Available frameworks: ${available.join(', ')}`;
  if (requested !== undefined) {
    if (!available.includes(requested))
      throw new UsageError(`Unknown framework '${requested}'. ${list}`, {
        code: 'UNKNOWN_FRAMEWORK',
        hint: 'Pass one of them with --framework.',
      });
    return requested;
  }
  const found = detectFrameworks(def, projectDir);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new UsageError(`Could not detect the framework of ${projectDir}. ${list}`, {
      hint: `Pass --framework, or make sure the project matches one of: ${describeRules(def)}.`,
    });
  }
  throw new UsageError(`Several frameworks detected in ${projectDir}: ${found.join(', ')}. ${list}`, {
    hint: 'Choose one with --framework.',
  });
}

/** The detection rules in words, one entry per framework: `<id> (<file> contains <text>)`. */
function describeRules(def: ModuleDef): string {
  return Object.entries(def.frameworks)
    .map(([id, fw]) => {
      const words = (t: string | string[]) => [t].flat().join(' or ');
      const rules = fw.detect.map(
        (r) => `${r.file}${r.contains ? ` contains ${words(r.contains)}` : ' exists'}${r.unless ? ` without ${words(r.unless)}` : ''}`,
      );
      return `${id} (${rules.join(' or ')}${fw.fallback ? ', when no other framework matches' : ''})`;
    })
    .join('; ');
}
