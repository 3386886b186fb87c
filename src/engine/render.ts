import fs from 'node:fs';
import path from 'node:path';
import { GenError } from '../errors.js';
import type { LoadedModule } from '../module/load.js';
import { DIGEST_PATH_AT } from '../module/state.js';
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
  /** sha256 of every template file, as recorded with the release (`ModuleState.digests`: `<sha256>  <path>` lines). */
  digests?: readonly string[];
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

/** The released verbatim files of one vendor entry: the recorded digest lines below its folder (see `RenderedFiles`). */
interface VerbatimRun {
  outPrefix: string;
  keyPrefix: string;
  /** Their lines' indexes, in the order recorded. */
  lines: Int32Array;
  /** Where in `lines` the next lookup most likely is: the lock lists files in the order the lines are written. */
  next: number;
  /** Index in `lines` by path below `keyPrefix`, made on the first lookup the cursor does not answer. */
  index: Map<string, number> | null;
}

/**
 * What `renderModuleFileMap` renders, by project path. The verbatim files of a released version (`how.digests`) are
 * not made one by one: each vendor entry keeps the indexes of its recorded digest lines, and a lookup finds a file's
 * line from its path, usually as the line after the previous one (verify looks up each of 10,000 lock lines in the
 * lock's order, which is the order the lines are written in: no 10,000-entry map, nor the objects it would hold).
 */
export class RenderedFiles {
  readonly #files = new Map<string, DesiredFile>();
  readonly #runs: VerbatimRun[] = [];
  #verbatimCount = 0;
  readonly #clash: (path: string) => GenError;
  readonly #lines: readonly string[];
  constructor(clash: (path: string) => GenError, lines: readonly string[] = []) {
    this.#clash = clash;
    this.#lines = lines;
  }

  /** Adds a file; a second file at the same path is a definition error. */
  add(f: DesiredFile): void {
    if (this.#files.has(f.path) || this.#digestOf(f.path) !== undefined) throw this.#clash(f.path);
    this.#files.set(f.path, f);
  }

  /**
   * The released verbatim files below `outPrefix`: the recorded lines whose path starts with `keyPrefix`, but
   * templates (rendered, never copied). Returns the templates' paths below `keyPrefix`.
   */
  addVerbatim(outPrefix: string, keyPrefix: string): string[] {
    const all = this.#lines;
    const lines: number[] = [];
    const templates: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const line = all[i]!;
      if (!line.startsWith(keyPrefix, DIGEST_PATH_AT)) continue;
      if (line.endsWith('.hbs')) templates.push(line.slice(DIGEST_PATH_AT + keyPrefix.length));
      else lines.push(i);
    }
    const run: VerbatimRun = { outPrefix, keyPrefix, lines: Int32Array.from(lines), next: 0, index: null };
    this.#runs.push(run);
    this.#verbatimCount += lines.length;
    for (const p of this.#files.keys()) if (p.startsWith(outPrefix) && this.#lineOf(run, p) >= 0) throw this.#clash(p);
    return templates;
  }

  get size(): number {
    return this.#files.size + this.#verbatimCount;
  }

  get(p: string): DesiredFile | undefined {
    const f = this.#files.get(p);
    if (f !== undefined) return f;
    const sha256 = this.#digestOf(p);
    return sha256 === undefined ? undefined : { path: p, kind: 'vendor', content: EMPTY, sha256 };
  }

  /**
   * The sha256 of the file rendered at `p` (`hashOf` gives it for a file not known by a recorded digest; null when
   * it cannot), or undefined when nothing is: `get` without a file object for each of 10,000 lookups.
   */
  sha256Of(p: string, hashOf: (f: DesiredFile) => string | null): string | null | undefined {
    const f = this.#files.get(p);
    return f !== undefined ? hashOf(f) : this.#digestOf(p);
  }

  has(p: string): boolean {
    return this.get(p) !== undefined;
  }

  /** Drops a file that is not a released verbatim one. */
  delete(p: string): boolean {
    return this.#files.delete(p);
  }

  /** The template files of the verbatim files rendered by reference (`how.verbatim`), which verify hashes itself. */
  referenced(): string[] {
    const out: string[] = [];
    for (const f of this.#files.values()) if (f.source !== undefined) out.push(f.source);
    return out;
  }

  /** Every file (the released verbatim ones made here, in the order of their lines). */
  *values(): IterableIterator<DesiredFile> {
    yield* this.#files.values();
    for (const run of this.#runs)
      for (const i of run.lines) {
        const line = this.#lines[i]!;
        const path = run.outPrefix + line.slice(DIGEST_PATH_AT + run.keyPrefix.length);
        yield { path, kind: 'vendor', content: EMPTY, sha256: line.slice(0, 64) };
      }
  }

  /** The recorded digest of the released verbatim file at `p`, if it is one; two entries writing it clash. */
  #digestOf(p: string): string | undefined {
    let found: string | undefined;
    for (const run of this.#runs) {
      if (!p.startsWith(run.outPrefix)) continue;
      const i = this.#lineOf(run, p);
      if (i < 0) continue;
      if (found !== undefined) throw this.#clash(p);
      found = this.#lines[i]!.slice(0, 64);
    }
    return found;
  }

  /** The index of the line of `p` (below `run.outPrefix`) among the recorded lines, or -1. */
  #lineOf(run: VerbatimRun, p: string): number {
    const rel = p.slice(run.outPrefix.length);
    const at = run.next;
    // the line after the last one found, when it is this file's: same length, same ending
    if (at < run.lines.length) {
      const line = this.#lines[run.lines[at]!]!;
      if (line.length === DIGEST_PATH_AT + run.keyPrefix.length + rel.length && line.endsWith(rel)) {
        run.next = at + 1;
        return run.lines[at]!;
      }
    }
    if (run.index === null) {
      run.index = new Map();
      for (let k = 0; k < run.lines.length; k++) run.index.set(this.#lines[run.lines[k]!]!.slice(DIGEST_PATH_AT + run.keyPrefix.length), k);
    }
    const k = run.index.get(rel);
    if (k === undefined) return -1;
    if (k >= at) run.next = k + 1;
    return run.lines[k]!;
  }
}

/** `renderModuleFiles` by project path (verify looks each lock line up in it; see `RenderedFiles`). */
export function renderModuleFileMap(mod: LoadedModule, frameworkId: string, opts: ResolvedOptions, how: RenderHow = {}): RenderedFiles {
  const fw = frameworkOf(mod, frameworkId);
  const base = baseContext(mod, frameworkId, opts);
  const snap = base.vendor.dir;
  const clash = (p: string) =>
    new GenError(`${mod.shown}: two entries write ${p}`, {
      code: 'INVALID_DEFINITION',
      exitCode: 2,
      file: mod.shown,
      field: `frameworks.${frameworkId}`,
    });
  const out = new RenderedFiles(clash, how.digests);
  const add = (f: DesiredFile) => out.add(f);

  for (const [i, entry] of fw.vendor.entries()) {
    const from = path.join(mod.templatesDir, entry.from);
    // relative paths are joined by hand: verify renders 10,000-file snapshots, where path.join per file shows
    const fromDir = path.posix.normalize(entry.from);
    const keyPrefix = fromDir === '.' ? '' : `${fromDir}/`;
    const toDir = path.posix.normalize(entry.to);
    const outPrefix = `${snap}/${toDir === '.' ? '' : `${toDir}/`}`;
    let files: string[];
    if (how.digests) {
      // released: the templates among the recorded files are rendered, the rest are known by their digests
      files = out.addVerbatim(outPrefix, keyPrefix);
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
    for (const rel of files) {
      if (rel.endsWith('.hbs')) {
        const outRel = path.posix.join(entry.to, rel.slice(0, -4));
        const projectPath = `${snap}/${outRel}`;
        const content = renderTemplateFile(
          path.join(from, rel),
          `${mod.def.templates}/${entry.from}/${rel}`,
          fileContext(base, projectPath, outRel),
        );
        add({ path: projectPath, kind: 'vendor', content: Buffer.from(content) });
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
