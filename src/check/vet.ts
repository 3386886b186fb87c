import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import semver from 'semver';
import { GenError, UsageError } from '../errors.js';
import { resolveOptions } from '../engine/options.js';
import { renderProjectEdits } from '../engine/project-edits.js';
import { renderModuleFiles } from '../engine/render.js';
import { parseTemplate } from '../engine/templates.js';
import { listFiles } from '../util/files.js';
import { loadModule, type LoadedModule } from '../module/load.js';
import { checkDrift, readState, recordVersion } from '../module/state.js';
import type { VetProblem, VetReport } from './reports.js';

export type { VetReport } from './reports.js';

type Problem = VetProblem;

const ROOTS = new Set(['module', 'generator', 'framework', 'vendor', 'file', 'vars', 'secrets']);
const HELPERS = new Set(['json', 'py', 'if', 'unless', 'each', 'with']);

/** Block helpers whose block runs with another context (`this` = the item): bare paths inside cannot be checked. */
const SCOPING = new Set(['each', 'with']);

/**
 * Every data path a template reads from its root context, as dotted text (`vars.cache_ttl`): helpers, `this`,
 * @data variables and paths relative to an `#each`/`#with` item are left out; `../` and `@root.` are resolved.
 */
export function templatePaths(source: string): string[] {
  const found = new Set<string>();
  const visit = (node: any, scope: number): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((n) => visit(n, scope));
    switch (node.type) {
      case 'PathExpression': {
        const parts: string[] = node.parts ?? [];
        if (node.data) {
          if (parts[0] === 'root' && parts.length > 1) found.add(parts.slice(1).join('.'));
          return;
        }
        if (HELPERS.has(node.original)) return;
        if (node.depth > scope)
          found.add(node.original); // more ../ than enclosing blocks: not in the context
        else if (scope - node.depth === 0 && parts.length > 0) found.add(parts.join('.'));
        return;
      }
      case 'BlockStatement': {
        const helper = node.path?.original;
        visit(node.params, scope);
        visit(node.hash, scope);
        visit(node.program, SCOPING.has(helper) ? scope + 1 : scope);
        visit(node.inverse, scope);
        return;
      }
      case 'MustacheStatement':
      case 'SubExpression':
        // the path is the helper when there are arguments ({{py vars.x}}), else the value itself ({{vars.x}})
        if ((node.params?.length ?? 0) === 0 && !node.hash) visit(node.path, scope);
        visit(node.params, scope);
        visit(node.hash, scope);
        return;
      default:
        for (const key of ['body', 'program', 'inverse', 'pairs', 'value']) if (key in node) visit(node[key], scope);
    }
  };
  visit(parseTemplate(source), 0);
  return [...found];
}

function templateFiles(mod: LoadedModule): Array<{ file: string; shown: string; secrets: boolean }> {
  const byRel = new Map<string, { file: string; shown: string; secrets: boolean }>();
  const add = (rel: string, secrets: boolean) => {
    const seen = byRel.get(rel);
    if (seen)
      seen.secrets ||= secrets; // a template shared with a secrets snippet may read secrets (null elsewhere)
    else byRel.set(rel, { file: path.join(mod.templatesDir, rel), shown: `${mod.def.templates}/${rel}`, secrets });
  };
  for (const fw of Object.values(mod.def.frameworks)) {
    for (const v of fw.vendor) {
      const dir = path.join(mod.templatesDir, v.from);
      if (fs.existsSync(dir)) for (const f of listFiles(dir)) if (f.endsWith('.hbs')) add(`${v.from}/${f}`, false);
    }
    for (const w of fw.wrappers) add(w.template, false);
  }
  for (const s of Object.values(mod.def.snippets)) add(s.template, s.secrets === true);
  return [...byRel.values()];
}

/**
 * Rewrites the top-level `version:` line and prepends a changelog stub, as text (comments and layout kept).
 * Written atomically, then re-read: if the result does not load as the new version, the old text is put back.
 */
function bumpVersion(mod: LoadedModule, next: string): void {
  const text = fs.readFileSync(mod.file, 'utf8');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const versionLine = /^version:([ \t]*)(["']?)([^\s"'#]+)\2([ \t]*(?:#.*)?)$/m;
  const changelogLine = /^changelog:[ \t]*(?:#.*)?\r?\n((?:[ \t]*(?:#.*)?\r?\n)*)([ \t]*)- /m;
  const item = changelogLine.exec(text);
  if (!versionLine.test(text) || !item) {
    throw new UsageError(`${mod.shown}: cannot find the top-level 'version:' line and the 'changelog:' list to bump`, {
      code: 'INVALID_DEFINITION',
      file: mod.shown,
      field: 'version',
      hint: 'Bump by hand: change version and add a changelog entry, then run gen modules vet --record.',
    });
  }
  const indent = item[2]!;
  const date = new Date().toISOString().slice(0, 10);
  const stub = [
    `${indent}- version: ${next}`,
    `${indent}  date: ${date}`,
    `${indent}  summary: "TODO: describe what changed in ${next}"`,
    '',
  ].join(eol);
  const at = item.index + item[0].length - indent.length - 2;
  const bumped = (text.slice(0, at) + stub + text.slice(at)).replace(
    versionLine,
    (_m, sp: string, q: string, _v: string, tail: string) => `version:${sp}${q}${next}${q}${tail}`,
  );
  const tmp = `${mod.file}.gen-${process.pid}`;
  fs.writeFileSync(tmp, bumped);
  fs.renameSync(tmp, mod.file);
  try {
    if (loadModule(mod.def.name, mod.root).def.version !== next) throw new Error(`version is not ${next} after the edit`);
  } catch (err) {
    fs.writeFileSync(mod.file, text);
    throw new UsageError(
      `${mod.shown}: the bump did not produce a valid definition (${err instanceof Error ? err.message : err}); nothing was changed`,
      { file: mod.shown, field: 'version' },
    );
  }
}

/** Everything vet checks except the recorded content hash (that needs the outcome of these). */
function checkDefinition(mod: LoadedModule): Problem[] {
  const problems: Problem[] = [];
  // templates exist, compile in strict mode, and use only declared variables
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-vet-'));
  try {
    // declared and derived variables: whatever option resolution gives templates as `vars` (never hard-coded)
    const declared = new Set(Object.keys(resolveOptions({ def: mod.def, projectDir: tmp, sets: [], env: {} }).vars));
    const secretVars = new Set(
      Object.entries(mod.def.variables)
        .filter(([, v]) => v.secret)
        .map(([k]) => k),
    );
    for (const [fw, def] of Object.entries(mod.def.frameworks)) {
      def.vendor.forEach((v, i) => {
        const built = mod.def.build?.outputs.some((o) => v.from === o || v.from.startsWith(`${o}/`));
        if (!fs.existsSync(path.join(mod.templatesDir, v.from)))
          problems.push({
            check: 'templates',
            file: mod.shown,
            message: `frameworks.${fw}.vendor[${i}].from: '${v.from}' does not exist in ${mod.def.templates}`,
            remedy: built ? `it is a build output: run '${mod.def.build!.command}'` : 'fix the path or add the folder',
          });
      });
    }
    for (const t of templateFiles(mod)) {
      if (!fs.existsSync(t.file)) {
        problems.push({
          check: 'templates',
          file: t.shown,
          message: `template ${t.shown} does not exist`,
          remedy: `add it or fix ${mod.shown}`,
        });
        continue;
      }
      let paths: string[];
      try {
        paths = templatePaths(fs.readFileSync(t.file, 'utf8'));
      } catch (err) {
        problems.push({
          check: 'templates',
          file: t.shown,
          message: `template ${t.shown} does not compile: ${err instanceof Error ? err.message.split('\n').join(' ') : err}`,
          remedy: 'fix the Handlebars syntax (watch for "}}}" after a value)',
        });
        continue;
      }
      for (const p of paths) {
        const [root, field] = p.split('.');
        if (!ROOTS.has(root!))
          problems.push({
            check: 'variables',
            file: t.shown,
            message: `${t.shown} uses '${p}', which is not in the template context`,
            remedy: 'see docs/authoring.md for the context',
          });
        else if (root === 'vars' && field && secretVars.has(field))
          problems.push({
            check: 'variables',
            file: t.shown,
            message: `${t.shown} uses 'vars.${field}', but ${field} is secret`,
            remedy: `read it as secrets.${field}, and only in a snippet marked secrets: true`,
          });
        else if (root === 'vars' && field && !declared.has(field))
          problems.push({
            check: 'variables',
            file: t.shown,
            message: `${t.shown} uses 'vars.${field}', which module.yaml does not declare`,
            remedy: `declare '${field}' under variables in ${mod.shown}`,
          });
        else if (root === 'secrets' && (!t.secrets || (field && !secretVars.has(field))))
          problems.push({
            check: 'variables',
            file: t.shown,
            message: `${t.shown} reads '${p}' but only snippets marked secrets: true may read secret variables`,
            remedy: 'secrets belong in .env only',
          });
      }
    }
    // and every framework renders in strict mode with the defaults
    if (problems.length === 0) {
      for (const fw of Object.keys(mod.def.frameworks)) {
        try {
          const options = resolveOptions({ def: mod.def, projectDir: tmp, sets: [], env: {} });
          renderModuleFiles(mod, fw, options);
          renderProjectEdits(mod, fw, options, tmp);
        } catch (err) {
          problems.push({
            check: 'render',
            file: err instanceof GenError ? (err.file ?? null) : null,
            message: `${fw}: ${err instanceof Error ? err.message : err}`,
            remedy: 'fix the template',
          });
        }
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  for (const [key, rel] of Object.entries(mod.def.documentation)) {
    if (!fs.existsSync(path.join(mod.root, rel)))
      problems.push({
        check: 'documentation',
        file: rel,
        message: `documentation.${key}: ${rel} does not exist`,
        remedy: 'write it or fix the documentation map',
      });
  }
  const entry = mod.def.changelog.find((c) => c.version === mod.def.version);
  if (!entry) {
    problems.push({
      check: 'changelog',
      file: mod.shown,
      message: `the changelog has no entry for ${mod.def.version}`,
      remedy: `add one under changelog: in ${mod.shown}`,
    });
  } else if (/^\s*TODO\b/.test(entry.summary) || entry.summary.trim() === '') {
    // the stub --bump writes: a release says what changed
    problems.push({
      check: 'changelog',
      file: mod.shown,
      message: `the changelog entry for ${mod.def.version} is still a stub ("${entry.summary}")`,
      remedy: `describe what changed in ${mod.def.version} under changelog: in ${mod.shown} (the changelog is not content: no bump or record needed)`,
    });
  }
  return problems;
}

/**
 * vet one module. Nothing is recorded or bumped unless asked (`record`, `bump`), and only when every other check
 * passes: a release is never recorded with broken templates.
 */
export function vetModule(name: string, opts: { bump?: 'patch' | 'minor' | 'major'; record?: boolean } = {}): VetReport {
  let mod: LoadedModule;
  try {
    mod = loadModule(name);
  } catch (err) {
    if (err instanceof GenError) {
      return {
        schemaVersion: 1,
        command: 'vet',
        module: name,
        version: null,
        hash: null,
        ok: false,
        bumped: null,
        recorded: false,
        problems: [{ check: 'schema', file: err.file ?? null, message: err.message, remedy: err.hint ?? 'fix module.yaml' }],
      };
    }
    throw err;
  }
  const problems = checkDefinition(mod);
  let bumped: string | null = null;
  let recorded = false;
  let drift = checkDrift(mod);

  if (opts.bump) {
    if (drift.status === 'ok') {
      throw new UsageError(`${name} ${mod.def.version}: nothing changed since it was recorded; no bump needed`, {
        hint: 'Bump only when the module content changed.',
      });
    }
    const next = semver.inc(mod.def.version, opts.bump)!;
    const taken = readState(mod).versions[next];
    if (taken !== undefined) {
      throw new UsageError(`${name} ${next} is already recorded (${taken}); a released version's content never changes`, {
        file: mod.shown,
        field: 'version',
        hint: `Bump further: gen modules vet ${name} --bump ${opts.bump === 'patch' ? 'minor' : 'major'}`,
      });
    }
    if (problems.length === 0) {
      bumpVersion(mod, next);
      mod = loadModule(name);
      recordVersion(mod);
      bumped = next;
      recorded = true;
      drift = checkDrift(mod);
    }
  } else if (opts.record && drift.status === 'unrecorded' && problems.length === 0) {
    recordVersion(mod);
    recorded = true;
    drift = checkDrift(mod);
  }

  if (drift.status === 'unrecorded') {
    problems.push({
      check: 'version',
      file: mod.shown,
      message: `${name} ${mod.def.version} has no recorded content hash${opts.record ? ' (not recorded: fix the problems above first)' : ''}`,
      remedy: `record it once the module is ready: gen modules vet ${name} --record`,
    });
  } else if (drift.status === 'drift') {
    problems.push({
      check: 'version',
      file: mod.shown,
      message: `${name} changed since ${mod.def.version} was recorded (content ${drift.hash}, recorded ${drift.recorded}) without a version bump${opts.bump ? ' (not bumped: fix the problems above first)' : ''}`,
      remedy: `gen modules vet ${name} --bump patch   (or minor/major), then describe the change in the changelog`,
    });
  }
  return {
    schemaVersion: 1,
    command: 'vet',
    module: name,
    version: mod.def.version,
    hash: drift.hash,
    ok: problems.length === 0,
    bumped,
    recorded,
    problems,
  };
}
