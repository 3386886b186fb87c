import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { GenError, UsageError } from '../errors.js';
import { resolveOptions } from '../engine/options.js';
import { renderModuleFiles, vendorDir, type DesiredFile } from '../engine/render.js';
import { listFiles } from '../engine/templates.js';
import { loadModule } from '../module/load.js';
import { readState } from '../module/state.js';
import { hashFiles } from './hash.js';
import { LOCK_PATH, markedBlock, readLock, sha256, type ModuleEntry } from './lockfile.js';

export const checkSchema = z.strictObject({
  module: z.string(),
  path: z.string(),
  class: z.enum(['vendor', 'wrapper', 'snippet', 'module']),
  status: z.enum(['ok', 'changed', 'missing', 'extra', 'drift', 'modified', 'pinned-missing']),
  expected: z.string().nullable(),
  actual: z.string().nullable(),
  message: z.string(),
  remedy: z.string().nullable(),
  fails: z.boolean(),
});
export type Check = z.infer<typeof checkSchema>;

export const verifyReportSchema = z.strictObject({
  schemaVersion: z.literal(1),
  command: z.literal('verify-all'),
  project: z.string(),
  strict: z.boolean(),
  ok: z.boolean(),
  modules: z.array(
    z.strictObject({ name: z.string(), version: z.string(), framework: z.string(), latest: z.string().nullable(), files: z.number(), ok: z.boolean() }),
  ),
  problems: z.array(checkSchema),
  modified: z.array(checkSchema),
  info: z.array(z.string()),
});
export type VerifyReport = z.infer<typeof verifyReportSchema>;

/** Options recorded in the lock → `--set` pairs (secrets get a placeholder: they never reach the snapshot). */
export function setsFromRecorded(options: Record<string, unknown>): string[] {
  return Object.entries(options).map(([k, v]) => (v !== null && typeof v === 'object' && (v as { secret?: boolean }).secret ? `${k}=gen-secret-placeholder` : `${k}=${String(v)}`));
}

const VERSION_PIN = /VENDOR_VERSION\s*[:=][^'"\n]*['"]([^'"]+)['"]/;

export async function verifyProject(projectDir: string, strict: boolean): Promise<VerifyReport> {
  const lock = readLock(projectDir);
  if (!lock) {
    throw new UsageError(`${LOCK_PATH} not found in ${projectDir}`, { file: LOCK_PATH, hint: "Run 'gen add module <name>' or 'gen modules lock' first." });
  }
  const checks: Check[] = [];
  const info: string[] = [];
  const modules: VerifyReport['modules'] = [];
  for (const [name, entry] of Object.entries(lock.modules)) {
    const before = checks.length;
    const latest = await verifyModule(projectDir, name, entry, strict, checks, info);
    const mine = checks.slice(before);
    modules.push({ name, version: entry.version, framework: entry.framework, latest, files: Object.keys(entry.files).length, ok: !mine.some((c) => c.fails) });
  }
  const problems = checks.filter((c) => c.fails);
  return {
    schemaVersion: 1,
    command: 'verify-all',
    project: projectDir,
    strict,
    ok: problems.length === 0,
    modules,
    problems,
    modified: checks.filter((c) => c.status === 'modified'),
    info,
  };
}

async function verifyModule(projectDir: string, name: string, entry: ModuleEntry, strict: boolean, checks: Check[], info: string[]): Promise<string | null> {
  const snap = vendorDir(name, entry.version);
  const restore = `gen add module ${name}   # re-renders ${name} ${entry.version} with the options recorded in the lock`;
  const push = (c: Omit<Check, 'module' | 'fails'> & { fails?: boolean }) => checks.push({ module: name, fails: c.fails ?? c.status !== 'ok', ...c });

  // 1. integrity: re-hash every vendored file (worker threads, one per core)
  const vendorPaths = Object.entries(entry.files).filter(([, e]) => e.class === 'vendor').map(([p]) => p);
  const { latest, regenerated, digests } = regenerate(projectDir, name, entry, info);
  // one parallel pass: the vendored files, and (when the release recorded no digests) the template files that
  // regenerated verbatim files are copies of
  const sources = (regenerated ?? []).filter((f) => f.source && !digests?.has(f.source)).map((f) => f.source!);
  const hashed = await hashFiles('', [...vendorPaths.map((p) => path.join(projectDir, p)), ...sources]);
  const hashes = new Map(vendorPaths.map((p) => [p, hashed.get(path.join(projectDir, p)) ?? null]));
  for (const p of vendorPaths) {
    const expected = entry.files[p]!.sha256;
    const actual = hashes.get(p) ?? null;
    if (actual === null) push({ path: p, class: 'vendor', status: 'missing', expected, actual, message: `${name}: vendored file ${p} is missing`, remedy: restore });
    else if (actual !== expected) push({ path: p, class: 'vendor', status: 'changed', expected, actual, message: `${name}: vendored file ${p} was changed (expected sha256 ${expected}, found ${actual})`, remedy: `vendored files are read-only; restore with: ${restore}` });
  }
  if (fs.existsSync(path.join(projectDir, snap))) {
    const known = new Set(vendorPaths);
    for (const rel of listFiles(path.join(projectDir, snap))) {
      const p = `${snap}/${rel}`;
      if (!known.has(p)) push({ path: p, class: 'vendor', status: 'extra', expected: null, actual: sha256(fs.readFileSync(path.join(projectDir, p))), message: `${name}: ${p} is not part of the vendored snapshot`, remedy: `remove it (vendored folders hold only what gen produced), or re-run: ${restore}` });
    }
  } else {
    push({ path: snap, class: 'vendor', status: 'missing', expected: null, actual: null, message: `${name}: the snapshot folder ${snap} is missing`, remedy: restore });
  }

  // 2. user-owned files: wrappers and snippet blocks may be edited (allowed unless --strict); pinned versions must exist
  for (const [p, e] of Object.entries(entry.files)) {
    if (e.class === 'vendor') continue;
    const abs = path.join(projectDir, p);
    const text = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : null;
    if (e.class === 'wrapper') {
      if (text === null) {
        push({ path: p, class: 'wrapper', status: 'missing', expected: e.sha256, actual: null, message: `${name}: wrapper ${p} is missing`, remedy: restore, fails: true });
        continue;
      }
      const pinned = VERSION_PIN.exec(text)?.[1];
      if (pinned && !fs.existsSync(path.join(projectDir, vendorDir(name, pinned)))) {
        push({ path: p, class: 'wrapper', status: 'pinned-missing', expected: pinned, actual: null, message: `${name}: wrapper ${p} pins version ${pinned}, which is not vendored (${vendorDir(name, pinned)} missing)`, remedy: `gen add module ${name} --framework ${entry.framework}` });
      }
      const actual = sha256(text);
      if (actual !== e.sha256) push({ path: p, class: 'wrapper', status: 'modified', expected: e.sha256, actual, message: `${name}: wrapper ${p} modified${strict ? '' : ' (allowed)'}`, remedy: strict ? `review it; re-render with: ${restore}` : null, fails: strict });
    } else {
      for (const [id, h] of Object.entries(e.blocks ?? {})) {
        const block = text === null ? null : markedBlock(text, p, name, id);
        const actual = block === null ? null : sha256(block);
        if (actual !== h) {
          push({ path: p, class: 'snippet', status: 'modified', expected: h, actual, message: `${name}: snippet ${id} in ${p} ${block === null ? 'was removed' : 'was edited'}${strict ? '' : ' (allowed)'}`, remedy: strict ? `re-inject it with: ${restore}` : null, fails: strict });
        }
      }
    }
  }

  // 3. drift: the module re-rendered in memory from the lock's options must give the lock's hashes
  if (regenerated) {
    const byPath = new Map(regenerated.map((f) => [f.path, f]));
    for (const [p, e] of Object.entries(entry.files)) {
      if (e.class === 'snippet') continue;
      const r = byPath.get(p);
      const actual = r ? (r.source ? (digests?.get(r.source) ?? hashed.get(r.source) ?? null) : sha256(r.content)) : null;
      if (actual !== e.sha256) push({ path: p, class: e.class, status: 'drift', expected: e.sha256, actual, message: `${name}: regenerating ${p} from the lock's options gives ${actual ? 'different content' : 'no such file'}`, remedy: restore });
    }
    for (const [p, r] of byPath) {
      if (!(p in entry.files)) push({ path: p, class: 'vendor', status: 'drift', expected: null, actual: r.source ? (digests?.get(r.source) ?? hashed.get(r.source) ?? null) : sha256(r.content), message: `${name}: regeneration produces ${p}, which the lock does not list`, remedy: restore });
    }
  }
  return latest;
}

/** Re-renders the module from the lock's options (verbatim files by reference); null when it cannot. */
interface Regenerated {
  latest: string | null;
  regenerated: DesiredFile[] | null;
  /** template file (absolute) → sha256 recorded with the release; null when it recorded none */
  digests: Map<string, string> | null;
}

function regenerate(projectDir: string, name: string, entry: ModuleEntry, info: string[]): Regenerated {
  try {
    const mod = loadModule(name);
    const latest = mod.def.version;
    if (semver.valid(latest) && semver.gt(latest, entry.version)) {
      info.push(`${name}: ${latest} is available (installed ${entry.version}); the snapshot cannot be regenerated from this catalogue, integrity was checked`);
      return { latest, regenerated: null, digests: null };
    }
    if (latest !== entry.version) {
      info.push(`${name}: the catalogue has ${latest}, the project ${entry.version}; regeneration skipped`);
      return { latest, regenerated: null, digests: null };
    }
    const options = resolveOptions({ def: mod.def, projectDir, sets: setsFromRecorded(entry.options), env: {} });
    const recorded = readState(mod).digests?.[entry.version];
    const digests = recorded ? new Map(Object.entries(recorded).map(([rel, h]) => [path.join(mod.templatesDir, rel), h])) : null;
    return { latest, regenerated: renderModuleFiles(mod, entry.framework, options, { verbatim: 'reference' }), digests };
  } catch (err) {
    if (err instanceof GenError && err.exitCode === 2 && /Unknown module/.test(err.message)) {
      info.push(`${name}: not in this catalogue; integrity was checked, regeneration skipped`);
      return { latest: null, regenerated: null, digests: null };
    }
    throw err;
  }
}
