import fs from 'node:fs';
import path from 'node:path';
import { GenError, UsageError } from '../errors.js';
import { loadModule, type LoadedModule } from '../module/load.js';
import { markedBlock, readLock } from '../lock/read.js';
import { renderLock, withoutModule } from '../lock/write.js';
import { listFiles } from '../util/files.js';
import { LOCK_PATH, VENDOR_ROOT } from '../util/paths.js';
import { sha256 } from '../util/sha256.js';
import { readOrNull, type PlannedFile } from './classify.js';
import { resolveTargets } from './contain.js';
import { injectSnippet, onlyGenHeaders, removeSnippet } from './inject.js';
import { resolveOptions } from './options.js';
import { removeDependencies } from './project-edits.js';
import { baseContext, isActive, renderSnippet } from './render.js';

export type RemoveStatus = 'removed' | 'kept';

export interface RemoveItem {
  path: string;
  kind: 'vendor' | 'wrapper' | 'snippet' | 'package' | 'lock';
  status: RemoveStatus;
  snippet?: string;
  count?: number;
  reason?: string;
  /** Kept because you edited it: remove exits 1 unless --force (an .env block kept for its values does not). */
  edited?: boolean;
}

export interface RemovePlan {
  module: string;
  version: string;
  framework: string;
  projectDir: string;
  files: PlannedFile[];
  items: RemoveItem[];
  warnings: string[];
}

export interface RemoveRequest {
  module: string;
  projectDir: string;
  /** Removes edited wrappers and blocks too (and .env blocks holding your values). */
  force?: boolean;
  catalogueRoot?: string;
}

/**
 * Plans `gen remove module`: the snapshot(s), the wrappers and snippet blocks gen wrote (edited ones kept unless
 * --force), the package.json entries gen added (recorded in the lock), the lock entry. Reads only.
 */
export function planRemove(req: RemoveRequest): RemovePlan {
  const projectDir = path.resolve(req.projectDir);
  const name = req.module;
  resolveTargets(projectDir, [LOCK_PATH]);
  const lock = readLock(projectDir);
  const installed = lock?.modules[name];
  if (!lock || !installed) {
    throw new UsageError(`module '${name}' is not installed in ${projectDir} (${LOCK_PATH} has no entry for it)`, {
      code: 'NOT_INSTALLED',
      file: LOCK_PATH,
      hint: 'gen modules verify-all lists what is installed.',
    });
  }
  const force = req.force ?? false;
  const read = (rel: string) => readOrNull(path.join(projectDir, rel));
  const items: RemoveItem[] = [];
  const files: PlannedFile[] = [];
  const warnings: string[] = [];
  const del = (p: string, kind: PlannedFile['kind'], previous: Buffer) =>
    files.push({ path: p, kind, action: 'delete', content: null, previous });

  // the snapshots: every version folder of the module
  const vendorRoot = `${VENDOR_ROOT}/${name}`;
  const snapshot = fs.existsSync(path.join(projectDir, vendorRoot)) ? listFiles(path.join(projectDir, vendorRoot)) : [];
  for (const rel of snapshot) del(`${vendorRoot}/${rel}`, 'vendor', read(`${vendorRoot}/${rel}`) ?? Buffer.alloc(0));
  if (snapshot.length > 0) items.push({ path: `${vendorRoot}/`, kind: 'vendor', status: 'removed', count: snapshot.length });

  // the module definition, when this catalogue has it: which snippets hold secrets (.env) and what they render
  let mod: LoadedModule | null = null;
  try {
    mod = loadModule(name, req.catalogueRoot);
  } catch (err) {
    if (!(err instanceof GenError && err.code === 'UNKNOWN_MODULE')) throw err;
    warnings.push(`${name} is not in this catalogue: .env blocks are left as they are (remove them by hand)`);
  }

  const texts = new Map<string, string>();
  const text = (p: string): string | null => texts.get(p) ?? read(p)?.toString('utf8') ?? null;
  for (const [p, e] of installed.files) {
    if (e.class === 'wrapper') {
      const ours = read(p);
      if (ours === null) continue;
      if (sha256(ours) === e.sha256 || force) {
        del(p, 'wrapper', ours);
        items.push({
          path: p,
          kind: 'wrapper',
          status: 'removed',
          ...(sha256(ours) !== e.sha256 ? { reason: 'edited by you; removed (--force)' } : {}),
        });
      } else {
        items.push({ path: p, kind: 'wrapper', status: 'kept', edited: true, reason: 'edited by you; kept (--force removes it)' });
      }
    } else if (e.class === 'snippet') {
      for (const [id, hash] of Object.entries(e.blocks)) {
        const current = text(p);
        const block = current === null ? null : markedBlock(current, p, name, id);
        if (current === null || block === null) continue;
        if (sha256(block) !== hash && !force) {
          items.push({
            path: p,
            kind: 'snippet',
            snippet: id,
            status: 'kept',
            edited: true,
            reason: 'edited by you; kept (--force removes it)',
          });
          continue;
        }
        texts.set(p, removeSnippet(current, p, name, id)!);
        items.push({ path: p, kind: 'snippet', snippet: id, status: 'removed' });
      }
    }
  }

  // blocks holding secrets (.env) are not in the lock: they go only when they hold gen's defaults and nothing of yours
  if (mod) {
    const fw = mod.def.frameworks[installed.framework];
    const options = resolveOptions({ def: mod.def, projectDir, sets: [], env: {}, recorded: installed.options });
    const base = baseContext(mod, installed.framework, options);
    for (const id of fw?.snippets ?? []) {
      const def = mod.def.snippets[id]!;
      if (!def.secrets || !isActive(def.when, options.vars)) continue;
      const current = text(def.target);
      const block = current === null ? null : markedBlock(current, def.target, name, id);
      if (current === null || block === null) continue;
      const fresh = injectSnippet(current, def.target, name, id, renderSnippet(mod, base, id, base.secrets), def);
      const defaults = fresh.status === 'ok' && markedBlock(fresh.content, def.target, name, id) === block;
      if (defaults || force) {
        texts.set(def.target, removeSnippet(current, def.target, name, id)!);
        items.push({
          path: def.target,
          kind: 'snippet',
          snippet: id,
          status: 'removed',
          ...(defaults ? {} : { reason: 'held your values; removed (--force)' }),
        });
      } else {
        items.push({
          path: def.target,
          kind: 'snippet',
          snippet: id,
          status: 'kept',
          reason: `it holds values you set (${def.target} is yours): kept; delete the block by hand when you no longer need it, or use --force`,
        });
      }
    }
  }

  // host files: written back without the blocks; a file left with nothing but gen's own section headers goes
  for (const [p, t] of texts) {
    const previous = read(p)!;
    const empty = onlyGenHeaders(t, mod?.def.snippets ?? {});
    if (empty) {
      del(p, 'snippet', previous);
      items.push({ path: p, kind: 'snippet', status: 'removed', reason: 'nothing but gen blocks was left in it' });
    } else files.push({ path: p, kind: 'snippet', action: 'update', content: Buffer.from(t), previous });
  }

  // package.json: only the entries gen added, while they still have the range gen wrote
  const deps = installed.dependencies ?? {};
  if (Object.keys(deps).length > 0) {
    const pkg = read('package.json');
    const res = pkg === null ? null : removeDependencies(pkg.toString('utf8'), deps);
    if (pkg !== null && res !== null) {
      if (res.text !== pkg.toString('utf8'))
        files.push({ path: 'package.json', kind: 'snippet', action: 'update', content: Buffer.from(res.text), previous: pkg });
      const gone = Object.keys(deps).filter((d) => !res.kept.includes(d));
      if (gone.length > 0)
        items.push({ path: 'package.json', kind: 'package', status: 'removed', reason: `${gone.join(', ')}: gen added them` });
      for (const k of res.kept)
        items.push({ path: 'package.json', kind: 'package', status: 'kept', reason: `${k}: you changed its range; kept` });
    }
  }

  // the lock: without the module; no lock file when nothing is left
  const rest = withoutModule(lock, name);
  const lockNow = read(LOCK_PATH)!;
  if (rest === null) del(LOCK_PATH, 'lock', lockNow);
  else files.push({ path: LOCK_PATH, kind: 'lock', action: 'update', content: Buffer.from(renderLock(rest)), previous: lockNow });
  items.push({
    path: LOCK_PATH,
    kind: 'lock',
    status: 'removed',
    reason: rest === null ? 'no module left: the lock goes' : `entry ${name}`,
  });

  resolveTargets(
    projectDir,
    files.map((f) => f.path),
  );
  return { module: name, version: installed.version, framework: installed.framework, projectDir, files, items, warnings };
}
