import path from 'node:path';
import {
  activeWrappers,
  baseContext,
  fileContext,
  frameworkOf,
  MANIFEST,
  PRISTINE_DIR,
  recordedOptions,
  renderModuleFiles,
} from '../engine/render.js';
import type { ResolvedOptions } from '../engine/options.js';
import { renderTemplateFile } from '../engine/templates.js';
import type { LoadedModule } from '../module/load.js';
import { sha256 } from './read.js';

/** One file as the module renders it: its sha256, or (verbatim file of an unreleased version) its template. */
export interface Regenerated {
  kind: 'vendor' | 'wrapper';
  /** sha256 hex; null when only `source` is known */
  sha256: string | null;
  /** absolute path of the template file this file is a verbatim copy of (when sha256 is null) */
  source?: string;
}

/**
 * What `renderModuleFiles` produces for this framework and these options, as path → sha256, without reading a
 * single verbatim file: a released version recorded the sha256 of every template file (`digests` in
 * `.module-state.json`, written by `gen modules vet --record/--bump`), and a verbatim vendor file is a byte copy
 * of its template. Templates (`.hbs`), wrappers and the snapshot manifest are rendered as add renders them.
 *
 * Mirrors renderModuleFiles (src/engine/render.ts) file for file; test/lock/regenerate.test.ts holds the two to
 * the same output for every framework of the real module.
 */
export function regenerateFromRelease(
  mod: LoadedModule,
  frameworkId: string,
  opts: ResolvedOptions,
  digests: Record<string, string>,
): Map<string, Regenerated> {
  const fw = frameworkOf(mod, frameworkId);
  const base = baseContext(mod, frameworkId, opts);
  const snap = base.vendor.dir;
  const out = new Map<string, Regenerated>();
  const keys = Object.keys(digests);
  for (const entry of fw.vendor) {
    const from = path.posix.normalize(entry.from);
    const to = path.posix.normalize(entry.to);
    const prefix = from === '.' ? '' : `${from}/`;
    for (const key of keys) {
      if (!key.startsWith(prefix)) continue;
      const rel = key.slice(prefix.length);
      if (rel.endsWith('.hbs')) {
        const outRel = path.posix.join(to, rel.slice(0, -4));
        const projectPath = `${snap}/${outRel}`;
        const abs = path.join(mod.templatesDir, ...key.split('/'));
        const content = renderTemplateFile(abs, `${mod.def.templates}/${key}`, fileContext(base, projectPath, outRel));
        out.set(projectPath, { kind: 'vendor', sha256: sha256(content) });
      } else {
        out.set(`${snap}/${to === '.' ? rel : `${to}/${rel}`}`, { kind: 'vendor', sha256: digests[key]! });
      }
    }
  }
  for (const w of activeWrappers(fw, opts)) {
    const content = renderTemplateFile(
      path.join(mod.templatesDir, w.template),
      `${mod.def.templates}/${w.template}`,
      fileContext(base, w.path),
    );
    const h = sha256(content);
    out.set(w.path, { kind: 'wrapper', sha256: h });
    out.set(`${snap}/${PRISTINE_DIR}/${w.path}`, { kind: 'vendor', sha256: h });
  }
  const manifest = { module: mod.def.name, version: mod.def.version, framework: frameworkId, options: recordedOptions(opts) };
  out.set(`${snap}/${MANIFEST}`, { kind: 'vendor', sha256: sha256(JSON.stringify(manifest, null, 2) + '\n') });
  return out;
}

/** The same from renderModuleFiles itself (a version with no recorded digests: verbatim files by reference). */
export function regenerateFromCatalogue(mod: LoadedModule, frameworkId: string, opts: ResolvedOptions): Map<string, Regenerated> {
  const out = new Map<string, Regenerated>();
  for (const f of renderModuleFiles(mod, frameworkId, opts, { verbatim: 'reference' })) {
    const kind = f.kind === 'wrapper' ? 'wrapper' : 'vendor';
    out.set(f.path, f.source ? { kind, sha256: null, source: f.source } : { kind, sha256: sha256(f.content) });
  }
  return out;
}
