import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { GenError } from '../errors.js';

type HandlebarsEnv = typeof import('handlebars');

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

let instance: HandlebarsEnv | undefined;

/**
 * gen's own Handlebars environment, loaded on first use (a module without templates, `--help` and most of verify
 * never pay for it; it stays out of the bundle for that reason) with its helpers registered.
 */
function hbs(): HandlebarsEnv {
  if (!instance) {
    // the library's own single-file build: one file to load instead of the ~30 modules of its CommonJS entry
    instance = (createRequire(import.meta.url)('handlebars/dist/handlebars.min.js') as HandlebarsEnv).create();
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
      code: 'INVALID_DEFINITION',
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
