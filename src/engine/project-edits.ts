import fs from 'node:fs';
import path from 'node:path';
import type { LoadedModule } from '../module/load.js';
import type { ResolvedOptions } from './options.js';
import { baseContext, fileContext, frameworkOf, isActive, type DesiredFile } from './render.js';
import { injectSnippet } from './inject.js';
import { renderTemplateFile } from './templates.js';

export interface ManualStep {
  snippet: string;
  target: string;
  step: string;
  reason: string;
}

export interface SnippetConflict {
  snippet: string;
  target: string;
  reason: string;
}

export interface ProjectEdits {
  files: DesiredFile[];
  manual: ManualStep[];
  conflicts: SnippetConflict[];
}

function readText(projectDir: string, rel: string): string | null {
  try {
    return fs.readFileSync(path.join(projectDir, rel), 'utf8');
  } catch {
    return null;
  }
}

/**
 * Edits of files the user owns: snippets between markers, package.json dependencies, the extra snippet copy.
 * Reads the project's current files; writes nothing.
 */
export function renderProjectEdits(mod: LoadedModule, frameworkId: string, opts: ResolvedOptions, projectDir: string): ProjectEdits {
  const fw = frameworkOf(mod, frameworkId);
  const base = baseContext(mod, frameworkId, opts);
  const hasSecret = Object.values(opts.secrets).some((s) => s !== null && s !== '');
  const manual: ManualStep[] = [];
  const conflicts: SnippetConflict[] = [];
  const edited = new Map<string, { content: string | null; original: string | null; ids: string[] }>();

  for (const id of fw.snippets) {
    const def = mod.def.snippets[id]!;
    if (!isActive(def.when, opts.vars)) continue;
    const state = edited.get(def.target) ?? {
      content: readText(projectDir, def.target),
      original: readText(projectDir, def.target),
      ids: [],
    };
    if (state.content === null && !def.create && !(def.when_exists && def.secrets && hasSecret)) {
      if (!def.when_exists)
        manual.push({
          snippet: id,
          target: def.target,
          step: def.manual ?? `Create ${def.target}`,
          reason: `${def.target} does not exist`,
        });
      continue;
    }
    const ctx = { ...fileContext(base, def.target), secrets: def.secrets ? opts.secrets : base.secrets };
    const block = renderTemplateFile(path.join(mod.templatesDir, def.template), `${mod.def.templates}/${def.template}`, ctx);
    const res = injectSnippet(state.content, def.target, mod.def.name, id, block, def);
    if (res.status === 'ok') {
      state.content = res.content;
      state.ids.push(id);
      edited.set(def.target, state);
    } else if (res.status === 'manual') {
      manual.push({ snippet: id, target: def.target, step: def.manual ?? `Add the ${id} snippet to ${def.target}`, reason: res.reason });
    } else {
      conflicts.push({ snippet: id, target: def.target, reason: res.reason });
    }
  }

  const files: DesiredFile[] = [];
  for (const [target, s] of edited) files.push({ path: target, kind: 'snippet', content: Buffer.from(s.content ?? ''), snippets: s.ids });

  if (fw.package_json) {
    const text = readText(projectDir, 'package.json');
    if (text === null) {
      manual.push({
        snippet: 'package_json',
        target: 'package.json',
        step: `npm install ${Object.entries(fw.package_json.dependencies)
          .map(([n, v]) => `${n}@"${v}"`)
          .join(' ')}`,
        reason: 'package.json does not exist',
      });
    } else {
      const updated = addDependencies(text, fw.package_json.dependencies);
      if (updated === null)
        manual.push({
          snippet: 'package_json',
          target: 'package.json',
          step: `Add ${Object.keys(fw.package_json.dependencies).join(', ')} to the dependencies in package.json`,
          reason: 'package.json is not valid JSON',
        });
      else files.push({ path: 'package.json', kind: 'snippet', content: Buffer.from(updated), snippets: ['package_json'] });
    }
  }

  if (opts.extra && (opts.extra.variants === null || opts.extra.variants.includes(frameworkId))) {
    files.push({ path: opts.extra.dest, kind: 'extra', content: fs.readFileSync(opts.extra.source) });
  }
  return { files, manual, conflicts };
}

/** Adds missing dependencies (never changes a version the user chose); keeps the file's style. Null if not JSON. */
export function addDependencies(text: string, deps: Record<string, string>): string | null {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const all = { ...(pkg.dependencies as object), ...(pkg.devDependencies as object), ...(pkg.peerDependencies as object) } as Record<
    string,
    string
  >;
  const missing = Object.entries(deps).filter(([n]) => !(n in all));
  if (missing.length === 0) return text;
  const current = (pkg.dependencies ?? {}) as Record<string, string>;
  const merged = Object.fromEntries(Object.entries({ ...current, ...Object.fromEntries(missing) }).sort(([a], [b]) => a.localeCompare(b)));
  pkg.dependencies = merged;
  // the file keeps its style: indentation, line endings (LF/CRLF), final newline (or none)
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const body = JSON.stringify(pkg, null, indent).split('\n').join(eol);
  return body + (/\r?\n$/.test(text) ? eol : '');
}
