import fs from 'node:fs';
import path from 'node:path';
import { GenError } from '../errors.js';
import type { LoadedModule } from '../module/load.js';
import type { FrameworkDef, When } from '../module/schema.js';
import { generatorVersion } from '../util/version.js';
import { listFiles } from '../util/files.js';
import { MANIFEST, PRISTINE_DIR, PRISTINE_SNIPPETS, relPosix, vendorDir } from '../util/paths.js';
import { sha256 } from '../util/sha256.js';
import { recordedOptions, type ResolvedOptions } from './options.js';
import { renderTemplateFile } from './templates.js';

export type FileKind = 'vendor' | 'wrapper' | 'snippet' | 'extra' | 'lock';

/** One file as gen wants it to be on disk, before it is compared with the disk. */
export interface DesiredFile {
  /** Project-relative POSIX path. */
  path: string;
  kind: FileKind;
  content: Buffer;
  /** Snippet ids whose blocks this file carries (kind `snippet`). */
  snippets?: string[];
  /** A verbatim file not read (see `RenderHow`): the template file whose bytes this file is (content left empty). */
  source?: string;
  /** A verbatim file not read, of a released version: its sha256 as recorded with the release (content left empty). */
  sha256?: string;
}

/**
 * How verbatim (non-template) files are produced: `read` their bytes (add); by `reference` to their template file
 * (verify of an unreleased version hashes those itself); or, for a released version, by the sha256 `digests`
 * recorded with it (verify: no template folder is listed and no verbatim file is read).
 */
export interface RenderHow {
  verbatim?: 'read' | 'reference';
  /** sha256 of every template file, by its path inside the module's templates (`.module-state.json`). */
  digests?: Record<string, string>;
}

export function frameworkOf(mod: LoadedModule, id: string): FrameworkDef {
  const fw = mod.def.frameworks[id];
  if (!fw)
    throw new GenError(`Unknown framework '${id}'. Available frameworks: ${Object.keys(mod.def.frameworks).join(', ')}`, {
      code: 'UNKNOWN_FRAMEWORK',
      exitCode: 2,
    });
  return fw;
}

/** True when every variable named in `when` has (one of) the value(s) it lists; no `when` is always true. */
export function isActive(when: When | undefined, vars: Record<string, unknown>): boolean {
  if (!when) return true;
  return Object.entries(when).every(([name, want]) => (Array.isArray(want) ? want : [want]).some((w) => w === vars[name]));
}

/** The wrappers of a framework that these options render (a wrapper's `when` decides). */
export function activeWrappers(fw: FrameworkDef, opts: ResolvedOptions): FrameworkDef['wrappers'] {
  return fw.wrappers.filter((w) => isActive(w.when, opts.vars));
}

/** The Handlebars context shared by every template (docs/authoring.md). */
export function baseContext(mod: LoadedModule, frameworkId: string, opts: ResolvedOptions) {
  const fw = frameworkOf(mod, frameworkId);
  const nullSecrets = Object.fromEntries(Object.keys(opts.secrets).map((k) => [k, null]));
  return {
    module: { name: mod.def.name, version: mod.def.version },
    generator: { name: 'gen', version: generatorVersion() },
    framework: { id: frameworkId, label: fw.label, language: fw.language, wrappers: activeWrappers(fw, opts).map((w) => w.path) },
    vendor: { dir: vendorDir(mod.def.name, mod.def.version) },
    vars: opts.vars,
    secrets: nullSecrets as Record<string, string | null>,
  };
}
export type BaseContext = ReturnType<typeof baseContext>;

/** Context for one output file: `file.path`, `file.toRoot`, `file.toVendor` relative to its folder. */
export function fileContext(base: BaseContext, projectPath: string, shownPath = projectPath) {
  const dir = path.posix.dirname(projectPath);
  const from = dir === '.' ? '' : dir;
  return { ...base, file: { path: shownPath, toRoot: relPosix(from, ''), toVendor: relPosix(from, base.vendor.dir) } };
}

const EMPTY = Buffer.alloc(0);

/**
 * Renders the immutable snapshot (runtime + pristine wrappers) and the user-owned wrappers, in memory.
 * Pure: depends only on the module definition, the framework and the resolved options, never on the project's
 * files, so verify can regenerate it from the lock and compare.
 */
export function renderModuleFiles(mod: LoadedModule, frameworkId: string, opts: ResolvedOptions, how: RenderHow = {}): DesiredFile[] {
  return [...renderModuleFileMap(mod, frameworkId, opts, how).values()];
}

/** `renderModuleFiles` by project path (verify looks each lock line up in it: no second 10,000-entry map). */
export function renderModuleFileMap(
  mod: LoadedModule,
  frameworkId: string,
  opts: ResolvedOptions,
  how: RenderHow = {},
): Map<string, DesiredFile> {
  const fw = frameworkOf(mod, frameworkId);
  const base = baseContext(mod, frameworkId, opts);
  const snap = base.vendor.dir;
  const out = new Map<string, DesiredFile>();
  const add = (f: DesiredFile) => {
    if (out.has(f.path))
      throw new GenError(`${mod.shown}: two entries write ${f.path}`, {
        code: 'INVALID_DEFINITION',
        exitCode: 2,
        file: mod.shown,
        field: `frameworks.${frameworkId}`,
      });
    out.set(f.path, f);
  };
  const released = how.digests ? Object.keys(how.digests) : null;

  for (const [i, entry] of fw.vendor.entries()) {
    const from = path.join(mod.templatesDir, entry.from);
    // relative paths are joined by hand: verify renders 10,000-file snapshots, where path.join per file shows
    const fromDir = path.posix.normalize(entry.from);
    const keyPrefix = fromDir === '.' ? '' : `${fromDir}/`;
    const toDir = path.posix.normalize(entry.to);
    const outPrefix = `${snap}/${toDir === '.' ? '' : `${toDir}/`}`;
    let files: string[];
    // released: the recorded keys of these files, looked up as they are (a key built again by concatenation is a
    // new string to hash and find, 10,000 times)
    let keys: string[] | null = null;
    if (released) {
      keys = released.filter((k) => k.startsWith(keyPrefix));
      files = keys.map((k) => k.slice(keyPrefix.length));
    } else {
      if (!fs.existsSync(from) || !fs.statSync(from).isDirectory()) {
        const built = mod.def.build?.outputs.includes(entry.from);
        throw new GenError(
          `${mod.shown}: frameworks.${frameworkId}.vendor[${i}].from: folder '${entry.from}' not found in ${mod.def.templates}`,
          {
            exitCode: 2,
            code: 'INVALID_DEFINITION',
            file: mod.shown,
            field: `frameworks.${frameworkId}.vendor[${i}].from`,
            hint: built
              ? `It is a build output: run '${mod.def.build!.command}' (or 'npm run build') in the gen package.`
              : 'Fix the path or add the folder.',
          },
        );
      }
      files = listFiles(from);
    }
    for (let j = 0; j < files.length; j++) {
      const rel = files[j]!;
      if (rel.endsWith('.hbs')) {
        const outRel = path.posix.join(entry.to, rel.slice(0, -4));
        const projectPath = `${snap}/${outRel}`;
        const content = renderTemplateFile(
          path.join(from, rel),
          `${mod.def.templates}/${entry.from}/${rel}`,
          fileContext(base, projectPath, outRel),
        );
        add({ path: projectPath, kind: 'vendor', content: Buffer.from(content) });
      } else if (how.digests) {
        add({ path: outPrefix + rel, kind: 'vendor', content: EMPTY, sha256: how.digests[keys![j]!]! });
      } else if (how.verbatim === 'reference') {
        add({ path: outPrefix + rel, kind: 'vendor', content: EMPTY, source: path.join(from, rel) });
      } else {
        add({ path: outPrefix + rel, kind: 'vendor', content: fs.readFileSync(path.join(from, rel)) });
      }
    }
  }
  for (const w of activeWrappers(fw, opts)) {
    const content = Buffer.from(
      renderTemplateFile(path.join(mod.templatesDir, w.template), `${mod.def.templates}/${w.template}`, fileContext(base, w.path)),
    );
    add({ path: w.path, kind: 'wrapper', content });
    add({ path: `${snap}/${PRISTINE_DIR}/${w.path}`, kind: 'vendor', content });
  }
  for (const id of fw.snippets) {
    const def = mod.def.snippets[id]!;
    if (def.secrets || !isActive(def.when, opts.vars)) continue;
    add({ path: `${snap}/${PRISTINE_SNIPPETS}/${id}`, kind: 'vendor', content: Buffer.from(renderSnippet(mod, base, id)) });
  }
  const manifest = { module: mod.def.name, version: mod.def.version, framework: frameworkId, options: recordedOptions(opts) };
  add({ path: `${snap}/${MANIFEST}`, kind: 'vendor', content: Buffer.from(JSON.stringify(manifest, null, 2) + '\n') });
  return out;
}

/** What one snippet's template renders (its block body before injection), with the secrets the snippet may hold. */
export function renderSnippet(
  mod: LoadedModule,
  base: BaseContext,
  id: string,
  secrets: Record<string, string | null> = base.secrets,
): string {
  const def = mod.def.snippets[id]!;
  const ctx = { ...fileContext(base, def.target), secrets: def.secrets ? secrets : base.secrets };
  return renderTemplateFile(path.join(mod.templatesDir, def.template), `${mod.def.templates}/${def.template}`, ctx);
}

/** Drops the pristine snippet blocks from a rendering, for snapshots written before gen kept them (see PRISTINE_SNIPPETS). */
export function withoutPristineSnippets<T extends { path: string }>(files: T[]): T[] {
  return files.filter((f) => !f.path.includes(`/${PRISTINE_SNIPPETS}/`));
}

/** The sha256 of a rendered file: known (released verbatim file), or of its content; null when only `source` is. */
export function renderedHash(f: DesiredFile): string | null {
  if (f.sha256 !== undefined) return f.sha256;
  return f.source !== undefined ? null : sha256(f.content);
}
