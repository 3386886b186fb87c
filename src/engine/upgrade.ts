import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { GenError, UsageError } from '../errors.js';
import type { LoadedModule } from '../module/load.js';
import { markedBlock, readLock } from '../lock/read.js';
import type { ModuleEntry } from '../lock/schema.js';
import { renderLock, withModule } from '../lock/write.js';
import { listFiles } from '../util/files.js';
import { LOCK_PATH, PRISTINE_DIR, PRISTINE_SNIPPETS, vendorDir } from '../util/paths.js';
import { Redactor } from '../util/redact.js';
import { sha256 } from '../util/sha256.js';
import { classify, readOrNull, type PlannedFile } from './classify.js';
import { resolveTargets } from './contain.js';
import { injectSnippet, onlyGenHeaders, removeSnippet, withMissingKeys } from './inject.js';
import { buildModuleEntry } from './lock-entry.js';
import { merge3, type ConflictHunk } from './merge.js';
import { prepare, stillDeclared } from './pipeline.js';
import type { ResolvedOptions } from './options.js';
import { renderProjectEdits, type ExistingBlock, type ManualStep, type SnippetConflict } from './project-edits.js';
import { baseContext, renderModuleFiles, renderSnippet, type DesiredFile } from './render.js';

/** What happened to one file (or one snippet block) in an upgrade (docs/cli.md). */
export type UpgradeStatus = 'created' | 'updated' | 'merged' | 'conflict' | 'unchanged' | 'removed' | 'kept';

export interface UpgradeItem {
  path: string;
  kind: 'vendor' | 'wrapper' | 'snippet' | 'package' | 'lock' | 'extra';
  status: UpgradeStatus;
  /** The snippet id, for a block. */
  snippet?: string;
  /** For the snapshot folders: how many files. */
  count?: number;
  reason?: string;
  /** Conflicting hunks (status conflict). */
  hunks?: ConflictHunk[];
}

export interface UpgradeRequest {
  module: string;
  projectDir: string;
  sets?: string[];
  /** Must be the catalogue's version when given. */
  to?: string;
  /** Allows a downgrade; a conflicting file takes gen's new version. */
  force?: boolean;
  /** abort: a conflict writes nothing (exit 1); markers: conflicting files get git-style markers (exit 1). */
  conflict?: 'abort' | 'markers';
  env?: NodeJS.ProcessEnv;
  catalogueRoot?: string;
}

export interface UpgradePlan {
  mod: LoadedModule;
  from: string;
  to: string;
  framework: string;
  projectDir: string;
  options: ResolvedOptions;
  /** What flush does (create/update/delete), plus conflicts that stop it. */
  files: PlannedFile[];
  /** The report, per file and per snippet block. */
  items: UpgradeItem[];
  changelog: { version: string; date: string; summary: string }[];
  manual: ManualStep[];
  snippetConflicts: SnippetConflict[];
  warnings: string[];
  redactor: Redactor;
  upToDate: boolean;
  conflictMode: 'abort' | 'markers';
}

/** The module as it was at `version`: same definition and templates, version (and snapshot path) of then. */
function atVersion(mod: LoadedModule, version: string): LoadedModule {
  return { ...mod, def: { ...mod.def, version } };
}

function trimEnd(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/**
 * Plans `gen upgrade module`: the new snapshot rendered, the old one deleted, each wrapper and snippet block merged
 * 3-way (base = gen's pristine rendering of the installed version, yours = the file, theirs = the new rendering),
 * options carried over from the lock. Reads only.
 */
export function planUpgrade(req: UpgradeRequest): UpgradePlan {
  const projectDir = path.resolve(req.projectDir);
  const name = req.module;
  const installedLock = readLock(projectDir);
  const installed = installedLock?.modules[name];
  if (!installed) {
    throw new UsageError(`module '${name}' is not installed in ${projectDir} (${LOCK_PATH} has no entry for it)`, {
      code: 'NOT_INSTALLED',
      file: LOCK_PATH,
      hint: `Install it first: gen add module ${name}`,
    });
  }
  const { mod, framework, options, warnings, templatesHash, lock } = prepare({
    module: name,
    projectDir,
    framework: installed.framework,
    sets: req.sets,
    env: req.env,
    catalogueRoot: req.catalogueRoot,
    lock: installedLock,
  });
  const from = installed.version;
  const to = mod.def.version;
  if (req.to !== undefined && req.to !== to) {
    throw new UsageError(`--to ${req.to}: this catalogue renders ${name} ${to} only`, {
      field: '--to',
      hint: `Upgrade to ${to} (leave out --to), or run the gen release that ships ${name} ${req.to}.`,
    });
  }
  if (!semver.valid(from)) {
    throw new UsageError(`${LOCK_PATH}: modules.${name}.version '${from}' is not a version`, {
      code: 'INVALID_LOCK',
      file: LOCK_PATH,
      field: `modules.${name}.version`,
      hint: 'Regenerate the lock from the snapshot: gen modules lock --overwrite',
    });
  }
  if (semver.lt(to, from) && !req.force) {
    throw new GenError(`${name} ${from} is installed and this catalogue has ${to}, an older version: refusing to downgrade`, {
      code: 'DOWNGRADE',
      exitCode: 1,
      hint: `Use a gen that ships ${name} ${from} or newer; or move back to ${to} on purpose: gen upgrade module ${name} --force`,
    });
  }
  const conflictMode = req.conflict ?? 'abort';
  const plan: UpgradePlan = {
    mod,
    from,
    to,
    framework,
    projectDir,
    options,
    files: [],
    items: [],
    changelog: mod.def.changelog.filter((c) => semver.gt(c.version, from) && semver.lte(c.version, to)),
    manual: [],
    snippetConflicts: [],
    warnings,
    redactor: new Redactor(Object.values(options.secrets)),
    upToDate: from === to,
    conflictMode,
  };
  if (plan.upToDate) return plan;

  const oldSnap = vendorDir(name, from);
  const newSnap = vendorDir(name, to);
  const label = `gen ${name} ${to}`;
  const read = (rel: string) => readOrNull(path.join(projectDir, rel));
  const items = plan.items;
  const rendered = renderModuleFiles(mod, framework, options);

  // wrappers: 3-way merge against the installed version's pristine rendering
  const wrappers: PlannedFile[] = [];
  for (const f of rendered.filter((r) => r.kind === 'wrapper')) {
    const ours = read(f.path);
    const recorded = installed.files.get(f.path);
    // the lock knows whether you edited it even when the old snapshot (and its pristine copy) is gone
    const untouched = ours !== null && recorded?.class === 'wrapper' && sha256(ours) === recorded.sha256;
    const base = untouched ? ours : read(`${oldSnap}/${PRISTINE_DIR}/${f.path}`);
    const decided = mergeWrapper(f, ours, base, label, req.force ?? false, conflictMode);
    wrappers.push(decided.file);
    items.push(decided.item);
  }
  // wrappers the new version no longer has: yours stay yours when you edited them
  const wrapperPaths = new Set(wrappers.map((w) => w.path));
  for (const [p, e] of installed.files) {
    if (e.class !== 'wrapper' || wrapperPaths.has(p)) continue;
    const ours = read(p);
    if (ours === null) continue;
    if (sha256(ours) === e.sha256) {
      wrappers.push({ path: p, kind: 'wrapper', action: 'delete', content: null, previous: ours });
      items.push({ path: p, kind: 'wrapper', status: 'removed', reason: `${name} ${to} no longer has it` });
    } else {
      items.push({ path: p, kind: 'wrapper', status: 'kept', reason: `edited by you; ${name} ${to} no longer has it, so it is yours now` });
    }
  }

  // snippet blocks: merged at block level, the same way
  const oldMod = atVersion(mod, from);
  const oldBase = baseContext(oldMod, framework, options);
  const lockBlock = (target: string, id: string): string | undefined => {
    const e = installed.files.get(target);
    return e?.class === 'snippet' ? e.blocks[id] : undefined;
  };
  const touched = new Set<string>();
  const chooseBlock = (b: ExistingBlock): string | null => {
    touched.add(`${b.target}#${b.id}`);
    const item = (status: UpgradeStatus, reason?: string, hunks?: ConflictHunk[]) =>
      items.push({ path: b.target, kind: 'snippet', snippet: b.id, status, ...(reason ? { reason } : {}), ...(hunks ? { hunks } : {}) });
    if (b.body === b.rendered) {
      item('unchanged');
      return b.rendered;
    }
    if (b.def.secrets) {
      // .env holds your values: it only gains the keys it lacks, nothing you set is changed or dropped
      const merged = withMissingKeys(b.body, b.rendered, b.text);
      item(merged === b.body ? 'unchanged' : 'updated', merged === b.body ? 'your values kept' : 'new keys added; your values kept');
      return merged;
    }
    const recorded = lockBlock(b.target, b.id);
    const onDisk = markedBlock(b.text, b.target, name, b.id);
    if (recorded !== undefined && onDisk !== null && sha256(onDisk) === recorded) {
      item('updated');
      return b.rendered;
    }
    const base = pristineBlock(b, read(`${oldSnap}/${PRISTINE_SNIPPETS}/${b.id}`), recorded);
    if (base === null) {
      const why = 'edited by you, and no pristine copy of the installed block to merge with (it was installed by an older gen)';
      if (req.force) {
        item('updated', 'overwritten (--force)');
        return b.rendered;
      }
      const m = merge3(b.body, '', b.rendered, label);
      item('conflict', why, m.hunks);
      return conflictMode === 'markers' ? m.text : null;
    }
    if (b.body === base) {
      item('updated');
      return b.rendered;
    }
    const m = merge3(b.body, base, b.rendered, label);
    if (m.clean) {
      item(m.text === b.body ? 'unchanged' : 'merged', m.text === b.body ? 'your edits kept; gen has no change for it' : 'your edits kept');
      return m.text;
    }
    if (req.force) {
      item('updated', 'overwritten (--force)');
      return b.rendered;
    }
    item('conflict', 'edited by you and changed by gen in the same place', m.hunks);
    return conflictMode === 'markers' ? m.text : null;

    /** The installed block's body as gen rendered it: the snapshot's copy, else the template re-rendered as of then (accepted only when it hashes to what the lock recorded). */
    function pristineBlock(bl: ExistingBlock, kept: Buffer | null, hash: string | undefined): string | null {
      if (kept !== null) return trimEnd(kept.toString('utf8'));
      if (hash === undefined) return null;
      const candidate = renderSnippet(oldMod, oldBase, bl.id);
      const injected = injectSnippet(bl.text, bl.target, name, bl.id, candidate, bl.def);
      if (injected.status !== 'ok') return null;
      const block = markedBlock(injected.content, bl.target, name, bl.id);
      return block !== null && sha256(block) === hash ? trimEnd(candidate) : null;
    }
  };
  // whether some block is not gen's new rendering (merged, kept, marked, .env): the lock then needs gen's own
  let diverged = false;
  const existingBlock = (b: ExistingBlock): string | null => {
    const chosen = chooseBlock(b);
    if (chosen !== b.rendered) diverged = true;
    return chosen;
  };
  const edits = renderProjectEdits(mod, framework, options, projectDir, { existingBlock });
  plan.manual = edits.manual;
  plan.snippetConflicts = edits.conflicts;
  // blocks new in this version
  for (const f of edits.files) {
    const blocks = (f.snippets ?? []).filter((id) => id !== 'package_json');
    for (const id of blocks) {
      if (!touched.has(`${f.path}#${id}`)) items.push({ path: f.path, kind: 'snippet', snippet: id, status: 'created' });
    }
    if (f.snippets?.includes('package_json')) {
      const added = Object.keys(edits.addedDependencies);
      items.push({
        path: f.path,
        kind: 'package',
        status: added.length > 0 ? 'updated' : 'unchanged',
        ...(added.length > 0 ? { reason: `added ${added.join(', ')}` } : {}),
      });
    }
  }
  // blocks the new version no longer has: taken out when untouched, else kept
  const projectFiles = new Map(edits.files.map((f) => [f.path, f]));
  const emptied = new Set<string>();
  for (const [target, e] of installed.files) {
    if (e.class !== 'snippet') continue;
    for (const [id, hash] of Object.entries(e.blocks)) {
      if (touched.has(`${target}#${id}`)) continue;
      const current = projectFiles.get(target)?.content.toString('utf8') ?? read(target)?.toString('utf8') ?? null;
      const block = current === null ? null : markedBlock(current, target, name, id);
      if (current === null || block === null) continue;
      if (sha256(block) !== hash && !req.force) {
        items.push({ path: target, kind: 'snippet', snippet: id, status: 'kept', reason: `edited by you; ${name} ${to} no longer has it` });
        continue;
      }
      const without = removeSnippet(current, target, name, id)!;
      const f = projectFiles.get(target);
      if (f) f.content = Buffer.from(without);
      else {
        const nf: DesiredFile = { path: target, kind: 'snippet', content: Buffer.from(without), snippets: [] };
        edits.files.push(nf);
        projectFiles.set(target, nf);
      }
      items.push({ path: target, kind: 'snippet', snippet: id, status: 'removed', reason: `${name} ${to} no longer has it` });
      emptied.add(target);
    }
  }
  // a host file left with nothing but gen's section headers goes, as with remove
  const userDeletes: PlannedFile[] = [];
  for (const target of emptied) {
    const f = projectFiles.get(target)!;
    if (!onlyGenHeaders(f.content.toString('utf8'), mod.def.snippets)) continue;
    edits.files.splice(edits.files.indexOf(f), 1);
    const previous = read(target);
    if (previous !== null) userDeletes.push({ path: target, kind: 'snippet', action: 'delete', content: null, previous });
    items.push({ path: target, kind: 'snippet', status: 'removed', reason: 'nothing but gen blocks was left in it' });
  }

  // the lock records gen's renderings (a merged block is yours; verify reports it as edited, as for wrappers)
  const forLock = diverged ? renderProjectEdits(mod, framework, options, projectDir).files : edits.files;
  const entry: ModuleEntry = buildModuleEntry({ mod, framework, options, desired: [...rendered, ...forLock], templatesHash });
  const dependencies = { ...stillDeclared(installed.dependencies, edits.files), ...edits.addedDependencies };
  if (Object.keys(dependencies).length > 0) entry.dependencies = dependencies;
  const lockFile: DesiredFile = { path: LOCK_PATH, kind: 'lock', content: Buffer.from(renderLock(withModule(lock, name, entry))) };

  const others: DesiredFile[] = [...rendered.filter((r) => r.kind !== 'wrapper'), ...edits.files, lockFile];
  const oldFiles = oldSnap === newSnap || !fs.existsSync(path.join(projectDir, oldSnap)) ? [] : listFiles(path.join(projectDir, oldSnap));
  resolveTargets(projectDir, [
    ...others.map((d) => d.path),
    ...wrappers.map((w) => w.path),
    ...userDeletes.map((d) => d.path),
    ...oldFiles.map((r) => `${oldSnap}/${r}`),
  ]);
  const classified = classify({
    projectDir,
    moduleName: name,
    version: to,
    snapshotDir: newSnap,
    desired: others,
    force: req.force ?? false,
  });
  const deletes: PlannedFile[] = oldFiles.map((r) => ({
    path: `${oldSnap}/${r}`,
    kind: 'vendor',
    action: 'delete',
    content: null,
    previous: read(`${oldSnap}/${r}`),
  }));
  plan.files = [...classified, ...wrappers, ...deletes, ...userDeletes];

  const created = classified.filter((f) => f.kind === 'vendor' && f.path.startsWith(`${newSnap}/`) && f.action !== 'delete').length;
  items.unshift({ path: `${newSnap}/`, kind: 'vendor', status: 'created', count: created });
  if (deletes.length > 0) items.push({ path: `${oldSnap}/`, kind: 'vendor', status: 'removed', count: deletes.length });
  const extra = classified.find((f) => f.kind === 'extra');
  if (extra)
    items.push({
      path: extra.path,
      kind: 'extra',
      status: extra.action === 'unchanged' ? 'unchanged' : extra.action === 'conflict' ? 'conflict' : 'updated',
      ...(extra.reason ? { reason: extra.reason } : {}),
    });
  return plan;
}

/** The wrapper decision: write gen's new rendering, the merge, or nothing (a conflict). */
function mergeWrapper(
  f: DesiredFile,
  ours: Buffer | null,
  base: Buffer | null,
  label: string,
  force: boolean,
  mode: 'abort' | 'markers',
): { file: PlannedFile; item: UpgradeItem } {
  const out = (action: PlannedFile['action'], content: Buffer | null, status: UpgradeStatus, reason?: string, hunks?: ConflictHunk[]) => ({
    file: { path: f.path, kind: f.kind, action, content, previous: ours, ...(reason ? { reason } : {}) },
    item: { path: f.path, kind: 'wrapper' as const, status, ...(reason ? { reason } : {}), ...(hunks ? { hunks } : {}) },
  });
  if (ours === null) return out('create', f.content, 'created');
  if (ours.equals(f.content)) return out('unchanged', f.content, 'unchanged');
  if (base !== null && ours.equals(base)) return out('update', f.content, 'updated');
  const m = merge3(ours.toString('utf8'), base?.toString('utf8') ?? '', f.content.toString('utf8'), label);
  if (base !== null && m.clean) {
    const text = Buffer.from(m.text);
    return text.equals(ours)
      ? out('unchanged', ours, 'unchanged', 'your edits kept; gen has no change for it')
      : out('update', text, 'merged', 'your edits kept');
  }
  if (force) return out('update', f.content, 'updated', 'overwritten (--force)');
  const why =
    base === null
      ? 'edited by you, and no pristine copy of the installed version to merge with'
      : 'edited by you and changed by gen in the same place';
  return mode === 'markers'
    ? out('update', Buffer.from(m.text), 'conflict', `${why}; written with conflict markers`, m.hunks)
    : out('conflict', f.content, 'conflict', why, m.hunks);
}
