import fs from 'node:fs';
import path from 'node:path';
import type { LoadedModule } from '../module/load.js';
import type { ResolvedOptions } from './options.js';
import { baseContext, frameworkOf, isActive, renderSnippet, type DesiredFile } from './render.js';
import { applyEdits, modify, parse, type FormattingOptions, type ParseError } from 'jsonc-parser';
import type { SnippetDef } from '../module/schema.js';
import { blockBody, injectSnippet } from './inject.js';

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
  /** package.json dependencies gen wrote in this run (name → range), for the lock (so remove takes out only those). */
  addedDependencies: Record<string, string>;
}

/** A snippet about to be injected where its block already is (upgrade decides what the block becomes). */
export interface ExistingBlock {
  id: string;
  def: SnippetDef;
  target: string;
  /** The host file's text as it stands (earlier snippets of this run applied). */
  text: string;
  /** The block's body on disk (see blockBody). */
  body: string;
  /** What the template renders now, as it goes between the markers (its one final line end dropped). */
  rendered: string;
}

export interface EditHooks {
  /** Decides the body of a block that exists already (the text between the markers), or null to leave it as it is. */
  existingBlock?: (b: ExistingBlock) => string | null;
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
export function renderProjectEdits(
  mod: LoadedModule,
  frameworkId: string,
  opts: ResolvedOptions,
  projectDir: string,
  hooks: EditHooks = {},
): ProjectEdits {
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
    let block = renderSnippet(mod, base, id, opts.secrets);
    const body = state.content === null || !hooks.existingBlock ? null : blockBody(state.content, def.target, mod.def.name, id);
    if (body !== null && hooks.existingBlock) {
      const chosen = hooks.existingBlock({
        id,
        def,
        target: def.target,
        text: state.content!,
        body,
        rendered: block.replace(/\r?\n$/, ''),
      });
      if (chosen === null) {
        state.ids.push(id);
        edited.set(def.target, state);
        continue;
      }
      block = `${chosen}\n`; // injectSnippet takes a rendering, whose one final line end it drops
    }
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

  let addedDependencies: Record<string, string> = {};
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
      if (updated !== null) addedDependencies = updated.added;
      if (updated === null)
        manual.push({
          snippet: 'package_json',
          target: 'package.json',
          step: `Add ${Object.keys(fw.package_json.dependencies).join(', ')} to the dependencies in package.json`,
          reason: 'package.json is not valid JSON',
        });
      else files.push({ path: 'package.json', kind: 'snippet', content: Buffer.from(updated.text), snippets: ['package_json'] });
    }
  }

  if (opts.extra && (opts.extra.variants === null || opts.extra.variants.includes(frameworkId))) {
    files.push({ path: opts.extra.dest, kind: 'extra', content: fs.readFileSync(opts.extra.source) });
  }
  return { files, manual, conflicts, addedDependencies };
}

/**
 * Adds the missing dependencies (never changes a version the user chose, wherever they declared it) by minimal
 * edits (jsonc-parser), so the rest of the file keeps its bytes. Null when the text is not a JSON object.
 */
export function addDependencies(text: string, deps: Record<string, string>): { text: string; added: Record<string, string> } | null {
  const pkg = packageJson(text);
  if (pkg === null) return null;
  const declared = new Set(['dependencies', 'devDependencies', 'peerDependencies'].flatMap((k) => Object.keys(objectAt(pkg, k))));
  const added: Record<string, string> = {};
  let out = text;
  for (const [name, range] of Object.entries(deps).sort(([a], [b]) => a.localeCompare(b))) {
    if (declared.has(name)) continue;
    const now = packageJson(out)!;
    if (!('dependencies' in now)) {
      // a new dependencies list goes after the fields the file has (npm's place for it), then gets the entries
      out = applyEdits(
        out,
        modify(out, ['dependencies'], {}, { formattingOptions: formatting(out), getInsertionIndex: (props) => props.length }),
      );
    }
    const current = Object.keys(objectAt(packageJson(out)!, 'dependencies'));
    // in alphabetical place when the list is sorted (npm keeps it so), else at the end
    const sorted = current.every((k, i) => i === 0 || current[i - 1]!.localeCompare(k) <= 0);
    const at = sorted ? current.filter((k) => k.localeCompare(name) < 0).length : current.length;
    out = applyEdits(out, modify(out, ['dependencies', name], range, { formattingOptions: formatting(out), getInsertionIndex: () => at }));
    added[name] = range;
  }
  return { text: out, added };
}

/** Takes out dependencies gen added, each only while it still has the range gen wrote; an emptied list goes too. */
export function removeDependencies(text: string, deps: Record<string, string>): { text: string; kept: string[] } | null {
  const pkg = packageJson(text);
  if (pkg === null) return null;
  const kept: string[] = [];
  let out = text;
  for (const [name, range] of Object.entries(deps)) {
    const now = objectAt(packageJson(out)!, 'dependencies')[name];
    if (now === undefined) continue;
    if (now !== range) {
      kept.push(name);
      continue;
    }
    out = applyEdits(out, modify(out, ['dependencies', name], undefined, { formattingOptions: formatting(out) }));
  }
  const left = packageJson(out)!;
  if ('dependencies' in left && Object.keys(objectAt(left, 'dependencies')).length === 0 && Object.keys(deps).length > 0)
    out = applyEdits(out, modify(out, ['dependencies'], undefined, { formattingOptions: formatting(out) }));
  return { text: out, kept };
}

function packageJson(text: string): Record<string, unknown> | null {
  const errors: ParseError[] = [];
  const v = parse(text, errors, { allowTrailingComma: false, disallowComments: true }) as unknown;
  return errors.length === 0 && v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function objectAt(pkg: Record<string, unknown>, key: string): Record<string, string> {
  const v = pkg[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
}

/** The file's own style: its indentation and line ends. */
function formatting(text: string): FormattingOptions {
  const indent = /^([ \t]+)"/m.exec(text)?.[1] ?? '  ';
  return {
    insertSpaces: !indent.startsWith('\t'),
    tabSize: indent.startsWith('\t') ? 1 : indent.length,
    eol: text.includes('\r\n') ? '\r\n' : '\n',
  };
}
