import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { GenError } from '../errors.js';
import { isCacheEntry } from '../util/paths.js';

/** Python literal for a JSON-like value. */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'None';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x)}`)
      .join(', ')}}`;
  return JSON.stringify(String(v));
}

let instance: typeof import('handlebars') | undefined;

/** Handlebars, loaded on first use (verify and help never pay for it). */
function hbs(): typeof import('handlebars') {
  if (!instance) {
    instance = (createRequire(import.meta.url)('handlebars') as typeof import('handlebars')).create();
    instance.registerHelper('json', (v: unknown) => JSON.stringify(v ?? null));
    instance.registerHelper('py', (v: unknown) => pyLiteral(v));
  }
  return instance;
}

const cache = new Map<string, HandlebarsTemplateDelegate>();

/** Compiles a template in strict mode (a missing variable is an error), without HTML escaping. */
export function compileTemplate(source: string, key: string): HandlebarsTemplateDelegate {
  let t = cache.get(key);
  if (!t) {
    t = hbs().compile(source, { strict: true, noEscape: true, knownHelpers: { json: true, py: true }, knownHelpersOnly: false });
    cache.set(key, t);
  }
  return t;
}

/** Renders one template file; errors name the template and what was missing. */
export function renderTemplateFile(absPath: string, shown: string, context: object): string {
  const src = fs.readFileSync(absPath, 'utf8');
  try {
    return compileTemplate(src, absPath)(context);
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n').filter(Boolean).join(' / ') : String(err);
    throw new GenError(`template ${shown}: ${msg}`, {
      exitCode: 2,
      file: shown,
      hint: 'Every variable a template uses must be declared in module.yaml (see docs/authoring.md); run `gen modules vet`.',
    });
  }
}

/** Handlebars' parsed form, for static checks (used by vet). */
export function parseTemplate(source: string): hbs.AST.Program {
  return hbs().parse(source);
}

/** Lists every file below dir (POSIX, relative, sorted), following no symlinks. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (isCacheEntry(e.name)) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk(dir, '');
  return out;
}
