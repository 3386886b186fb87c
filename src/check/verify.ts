import fs from 'node:fs';
import path from 'node:path';
import { GenError, UsageError } from '../errors.js';
import type { DesiredFile, RenderedFiles } from '../engine/render.js';
import { hashFileSync, startHashing, type HashJob } from './hash.js';
import { splitFileBlocks, vendorPaths } from '../lock/scan.js';
import { isCacheEntry, LOCK_PATH, PRISTINE_DIR, PRISTINE_SNIPPETS, VENDOR_ROOT, vendorDir as snapshotOf } from '../util/paths.js';
import { hasConflictMarkers } from '../lock/markers.js';
import type { LoadedModule } from '../module/load.js';
import type { ModuleEntry } from '../lock/schema.js';
import type { Check, VerifyReport } from './reports.js';

// Only light modules are imported up front: hashing starts before the lock is parsed and the engine is loaded.

/**
 * The modules verify-all loads after hashing has started, requested together and once (by `beginVerify`): the
 * loader reads their files off this thread meanwhile, instead of one wait per `import()` on the way.
 */
let modules: ReturnType<typeof loadVerifyModules> | null = null;
const loadVerifyModules = () =>
  Promise.all([
    import('../lock/read.js'),
    import('../util/sha256.js'),
    import('../engine/render.js'),
    import('../module/load.js'),
    import('../engine/options.js'),
    import('../module/state.js'),
  ]);
const verifyModules = () => (modules ??= loadVerifyModules());

/** A verify-all whose lock has been read and whose vendored files are being hashed (see `beginVerify`). */
export interface StartedVerify {
  projectDir: string;
  text: string;
  split: ReturnType<typeof splitFileBlocks>;
  early: string[];
  jobs: HashJob[];
}

/**
 * The first step of verify-all, split off so the command can take it before the heavy modules load: reads the lock
 * and starts hashing the vendored paths its file lines name (hashing runs while the rest is loaded and parsed).
 */
export function beginVerify(projectDir: string): StartedVerify {
  let text: string;
  try {
    text = fs.readFileSync(path.join(projectDir, LOCK_PATH), 'utf8');
  } catch {
    throw new UsageError(`${LOCK_PATH} not found in ${projectDir}`, {
      code: 'NOT_FOUND',
      file: LOCK_PATH,
      hint: "Run 'gen add module <name>', or 'gen modules lock' to rebuild it from the installed snapshots.",
    });
  }
  // the vendored paths come straight from the lock's file lines
  const split = splitFileBlocks(text);
  const early = split.blocks.flatMap(vendorPaths);
  const jobs = [startHashing(early, projectDir)];
  verifyModules().catch(() => {}); // (a failure surfaces where verify awaits them)
  return { projectDir, text, split, early, jobs };
}

/** Stops the hashing of a verify-all begun but not run (an error before `verifyProject`). */
export function cancelVerify(started: StartedVerify): void {
  for (const j of started.jobs) j.cancel();
}

/**
 * verify-all: (1) integrity — every vendored file re-hashed against the lock, missing and extra files;
 * (2) user-owned files — edited wrappers/snippet blocks (allowed unless strict), wrappers pinning a version whose
 * snapshot is absent; (3) drift — the module re-rendered in memory from the lock's options against the lock.
 */
export async function verifyProject(
  projectDir: string,
  strict: boolean,
  started: StartedVerify = beginVerify(projectDir),
): Promise<VerifyReport> {
  const { text, split, early, jobs } = started;
  try {
    return await verifyWith(projectDir, strict, text, split, early, jobs);
  } finally {
    cancelVerify(started);
  }
}

interface ModuleRun {
  name: string;
  entry: ModuleEntry;
  checks: Check[];
  latest: string | null;
  regenerated: RenderedFiles | null;
}

async function verifyWith(
  projectDir: string,
  strict: boolean,
  text: string,
  split: ReturnType<typeof splitFileBlocks>,
  early: string[],
  jobs: HashJob[],
): Promise<VerifyReport> {
  const [{ parseLock, aggregateDigest, markedBlock }, { sha256 }, { renderedHash }] = await verifyModules();
  const canonical = new Map<string, string>();
  const lock = parseLock(text, split, canonical);
  const info: string[] = [];
  const runs: ModuleRun[] = [];

  // 2. everything that needs no hash of a vendored file, while the workers hash
  for (const [name, entry] of Object.entries(lock.modules)) {
    const checks: Check[] = [];
    const push = (c: Omit<Check, 'module' | 'fails'> & { fails?: boolean }) =>
      checks.push({
        module: name,
        path: c.path,
        class: c.class,
        status: c.status,
        expected: c.expected,
        actual: c.actual,
        message: c.message,
        remedy: c.remedy,
        fails: c.fails ?? c.status !== 'modified',
      });
    const snap = snapshotOf(name, entry.version);
    const restore = restoreHint(name, entry.version);

    const computed = aggregateDigest(entry.files, canonical.get(name));
    if (computed !== entry.digest) {
      push({
        path: LOCK_PATH,
        class: 'module',
        status: 'changed',
        expected: entry.digest,
        actual: computed,
        message: `${name}: the lock's digest does not match its file lines (the lock was edited by hand)`,
        remedy: 'gen modules lock --overwrite   # rebuilds it from what gen renders, never from the files on disk',
      });
    }

    const regen = await regenerate(projectDir, name, entry, info);
    // how this module's wrappers name the version they load (module data); unknown when the catalogue lacks it
    const pin = regen.pin === undefined ? null : new RegExp(regen.pin);
    // user-owned files: wrappers and snippet blocks may be edited (allowed unless --strict); pins must be vendored.
    // (Map.forEach over the lock's entries, here and below: a for-of makes an entry and a result object per file,
    // 10,000 short-lived objects a loop in code that runs once, unoptimized.)
    entry.files.forEach((e, p) => {
      if (e.class === 'vendor') return;
      const fileText = readUserFile(path.join(projectDir, p));
      if (e.class === 'wrapper') {
        if (fileText === null) {
          push({
            path: p,
            class: 'wrapper',
            status: 'missing',
            expected: e.sha256,
            actual: null,
            message: `${name}: wrapper ${p} is missing`,
            remedy: restore,
          });
          return;
        }
        if (hasConflictMarkers(fileText))
          push({
            path: p,
            class: 'wrapper',
            status: 'conflict',
            expected: null,
            actual: null,
            message: `${name}: wrapper ${p} still has the conflict markers gen upgrade wrote`,
            remedy: `resolve each <<<<<<< yours / ======= / >>>>>>> gen ${name} block (keep what you want, delete the marker lines)`,
          });
        const pinned = pin?.exec(fileText)?.[1];
        if (pinned && !fs.existsSync(path.join(projectDir, snapshotOf(name, pinned)))) {
          push({
            path: p,
            class: 'wrapper',
            status: 'pinned-missing',
            expected: pinned,
            actual: null,
            message: `${name}: wrapper ${p} pins version ${pinned}, which is not vendored (${snapshotOf(name, pinned)} is missing)`,
            remedy: `restore ${snapshotOf(name, pinned)} from version control, or re-pin: gen add module ${name} --framework ${entry.framework}`,
          });
        } else if (pinned && pinned !== entry.version) {
          push({
            path: p,
            class: 'wrapper',
            status: 'drift',
            expected: entry.version,
            actual: pinned,
            message: `${name}: wrapper ${p} pins version ${pinned}, but the lock (and this check) covers ${entry.version}: the code that runs is not verified`,
            remedy: `point it back at ${entry.version}, or install ${pinned}: gen add module ${name}`,
          });
        }
        const actual = sha256(fileText);
        if (actual !== e.sha256)
          push({
            path: p,
            class: 'wrapper',
            status: 'modified',
            expected: e.sha256,
            actual,
            message: `${name}: wrapper ${p} modified${strict ? '' : ' (allowed)'}`,
            remedy: strict
              ? `review the change against gen's rendering in ${snap}/${PRISTINE_DIR}/${p}, then re-render or accept it without --strict`
              : null,
            fails: strict,
          });
      } else if (e.class === 'snippet') {
        for (const [id, h] of Object.entries(e.blocks)) {
          const block = fileText === null ? null : markedBlock(fileText, p, name, id);
          if (block !== null && hasConflictMarkers(block))
            push({
              path: p,
              class: 'snippet',
              status: 'conflict',
              expected: null,
              actual: null,
              message: `${name}: snippet ${id} in ${p} still has the conflict markers gen upgrade wrote`,
              remedy: `resolve each <<<<<<< yours / ======= / >>>>>>> gen ${name} block (keep what you want, delete the marker lines)`,
            });
          const actual = block === null ? null : sha256(block);
          if (actual !== h)
            push({
              path: p,
              class: 'snippet',
              status: 'modified',
              expected: h,
              actual,
              message: `${name}: snippet ${id} in ${p} ${block === null ? 'was removed' : 'was edited'}${strict ? '' : ' (allowed)'}`,
              remedy: strict ? `re-inject it: ${restore}` : null,
              fails: strict,
            });
        }
      }
    });

    const others = otherSnapshots(projectDir, name, entry.version);
    if (others.length > 0)
      info.push(
        `${name}: ${others.map((v) => snapshotOf(name, v)).join(', ')} not covered by the lock (verify checks ${entry.version}); remove it once no wrapper pins it`,
      );
    runs.push({ name, entry, checks, latest: regen.latest, regenerated: regen.regenerated });
  }

  // verbatim files of an unreleased version (no digests recorded): hash their templates too
  const referenced = new Map(runs.map((r) => [r, r.regenerated?.referenced() ?? []]));
  const sources = new Set<string>();
  referenced.forEach((files) => files.forEach((f) => sources.add(f)));
  const sourceList = [...sources];
  const sourceJob = sourceList.length > 0 ? startHashing(sourceList) : null;
  // where each vendored file's digest lands: its index in `early` (the lock's own order, so a cursor finds it),
  // else, for a lock that did not take the fast path (hand-edited layout), in a second job
  let lookup: Map<string, number> | null = null;
  let k = 0;
  const late: string[] = [];
  const slots = new Map<ModuleRun, Int32Array>();
  for (const r of runs) {
    const at = new Int32Array(r.entry.files.size);
    let i = 0;
    r.entry.files.forEach((e, p) => {
      if (e.class === 'vendor') {
        if (early[k] === p) at[i] = k++;
        else {
          lookup ??= new Map(early.map((q, j) => [q, j]));
          const j = lookup.get(p);
          if (j !== undefined) at[i] = j;
          else at[i] = -late.push(p); // -(index + 1)
        }
      }
      i++;
    });
    slots.set(r, at);
  }
  const lateJob = late.length > 0 ? startHashing(late, projectDir) : null;
  for (const j of [sourceJob, lateJob]) if (j) jobs.push(j);

  // 3. drift needs no hash of the disk: compared while the workers hash (but for the verbatim files of an unreleased
  //    version, known by their templates' hashes, which the workers are computing)
  const drifts = new Map<ModuleRun, Check[]>();
  for (const r of runs) if (referenced.get(r)!.length === 0) drifts.set(r, driftChecks(r, renderedHash));

  // 4. every folder below each snapshot, to find files that are not in the lock (before this thread joins the
  //    hashing: the worker hashes meanwhile, and the job then ends with its last file)
  const onDisk = new Map<ModuleRun, Listing | null>();
  for (const run of runs) {
    const snap = snapshotOf(run.name, run.entry.version);
    const abs = path.join(projectDir, snap);
    onDisk.set(run, fs.existsSync(abs) ? listSnapshot(abs, snap, run.entry.files) : null);
  }

  // 5. this thread joins the hashing, then compares
  const earlyHashes = await jobs[0]!.finish();
  const sourceHashes = new Map<string, string | null>();
  if (sourceJob) {
    const d = await sourceJob.finish();
    for (let i = 0; i < sourceList.length; i++) sourceHashes.set(sourceList[i]!, d.get(i));
  }
  const lateHashes = lateJob ? await lateJob.finish() : null;

  const modules: VerifyReport['modules'] = [];
  const all: Check[] = [];
  for (const run of runs) {
    const { name, entry, regenerated } = run;
    const snap = snapshotOf(name, entry.version);
    const restore = restoreHint(name, entry.version);
    const integrity: Check[] = [];
    const drift = drifts.get(run) ?? driftChecks(run, (r) => renderedHash(r) ?? sourceHashes.get(r.source!) ?? null);

    // one pass over the lock: integrity of every vendored file
    const at = slots.get(run)!;
    const suspect = new Set<string>(); // snapshot folders where a listed file is not a regular file
    let i = -1;
    entry.files.forEach((e, p) => {
      i++;
      if (e.class !== 'vendor') return;
      const slot = at[i]!;
      const hashes = slot >= 0 ? earlyHashes : lateHashes!;
      const index = slot >= 0 ? slot : -slot - 1;
      // a digest is compared where it lies; only one that differs becomes a string of its own
      if (!hashes.is(index, e.sha256)) {
        const actual = hashes.get(index);
        if (actual === null) suspect.add(folderBelow(p, snap) ?? '');
        if (actual === null)
          integrity.push({
            module: name,
            path: p,
            class: 'vendor',
            status: 'missing',
            expected: e.sha256,
            actual,
            message: `${name}: vendored file ${p} is missing (or not a regular file)`,
            remedy: restore,
            fails: true,
          });
        else if (actual !== e.sha256)
          integrity.push({
            module: name,
            path: p,
            class: 'vendor',
            status: 'changed',
            expected: e.sha256,
            actual,
            message: `${name}: vendored file ${p} was changed (expected sha256 ${e.sha256}, found ${actual})`,
            remedy: `vendored files are read-only; restore it with: ${restore}`,
            fails: true,
          });
      }
    });
    const listing = onDisk.get(run)!;
    if (listing === null) {
      integrity.push({
        module: name,
        path: snap,
        class: 'vendor',
        status: 'missing',
        expected: null,
        actual: null,
        message: `${name}: the snapshot folder ${snap} is missing`,
        remedy: restore,
        fails: true,
      });
    } else {
      for (const rel of listing.notFolders) {
        const p = rel ? `${snap}/${rel}` : snap;
        integrity.push({
          module: name,
          path: p,
          class: 'vendor',
          status: 'changed',
          expected: null,
          actual: null,
          message: `${name}: ${p} is not a folder (a link or a file where the snapshot has a folder)`,
          remedy: `replace it with the real folder: ${restore}`,
          fails: true,
        });
      }
      for (const rel of extraEntries(listing, snap, entry.files, suspect)) {
        const p = `${snap}/${rel}`;
        integrity.push({
          module: name,
          path: p,
          class: 'vendor',
          status: 'extra',
          expected: null,
          actual: hashFileSync(path.join(projectDir, p)),
          message: `${name}: ${p} is not part of the vendored snapshot`,
          remedy: `delete it (a snapshot holds only what gen produced), or re-run: ${restore}`,
          fails: true,
        });
      }
    }
    const checks = [...integrity, ...run.checks, ...drift];
    modules.push({
      name,
      version: entry.version,
      framework: entry.framework,
      latest: run.latest,
      files: entry.files.size,
      regenerated: regenerated !== null,
      ok: !checks.some((c) => c.fails),
    });
    all.push(...checks);
  }

  const problems = all.filter((c) => c.fails);
  return {
    schemaVersion: 1,
    command: 'verify-all',
    project: projectDir,
    strict,
    ok: problems.length === 0,
    modules,
    problems,
    modified: all.filter((c) => c.status === 'modified'),
    info,
  };
}

/**
 * The lock's files against what gen renders from the lock's options (none when the module was not regenerated):
 * `hashOf` gives the sha256 of a rendered file.
 */
function driftChecks({ name, entry, regenerated }: ModuleRun, hashOf: (r: DesiredFile) => string | null): Check[] {
  const drift: Check[] = [];
  if (!regenerated) return drift;
  const restore = restoreHint(name, entry.version);
  let found = 0;
  entry.files.forEach((e, p) => {
    if (e.class === 'snippet') return;
    const rendered = regenerated.sha256Of(p, hashOf);
    if (rendered !== undefined) found++;
    const actual = rendered ?? null;
    if (actual !== e.sha256)
      drift.push({
        module: name,
        path: p,
        class: e.class,
        status: 'drift',
        expected: e.sha256,
        actual,
        message: `${name}: regenerating ${p} from the lock's options gives ${actual ? 'different content' : 'no such file'} (the lock and the snapshot no longer match what ${name} ${entry.version} renders)`,
        remedy: restore,
        fails: true,
      });
  });
  if (regenerated.size !== found) {
    for (const r of regenerated.values()) {
      if (!entry.files.has(r.path))
        drift.push({
          module: name,
          path: r.path,
          class: r.kind === 'wrapper' ? 'wrapper' : 'vendor',
          status: 'drift',
          expected: null,
          actual: hashOf(r),
          message: `${name}: regenerating from the lock's options produces ${r.path}, which the lock does not list`,
          remedy: restore,
          fails: true,
        });
    }
  }
  return drift;
}

/** A wrapper or snippet host file as text; null when missing or not a regular file (a link to a device never ends). */
function readUserFile(abs: string): string | null {
  try {
    if (!fs.statSync(abs).isFile()) return null;
    return fs.readFileSync(abs, 'utf8');
  } catch {
    return null;
  }
}

const restoreHint = (name: string, version: string) =>
  `gen add module ${name}   # re-renders ${name} ${version} with the options recorded in the lock`;

/** The folder of `p` relative to the snapshot folder `snap` ('' at its top); null when `p` is not below it. */
function folderBelow(p: string, snap: string): string | null {
  if (!p.startsWith(snap) || p.charCodeAt(snap.length) !== 47 /* / */) return null;
  return p.slice(snap.length + 1, Math.max(snap.length + 1, p.lastIndexOf('/')));
}

/** The folders of a snapshot as read from disk, before anything is compared (see `listSnapshot`). */
interface Listing {
  /** folder (relative to the snapshot, '' = its top) → the names in it, for every folder the lock implies */
  read: Map<string, string[]>;
  /** entries each folder must hold: its files in the lock plus its sub-folders */
  expected: Map<string, number>;
  /** folders the lock implies that are not real folders on disk (a link, a file), or are gone */
  notFolders: string[];
}

/**
 * Every folder a snapshot's lock entries imply (names only: one lstat and one readdir per folder, no stat per
 * file), so that `extraEntries` can tell after hashing what is on disk that the lock does not list.
 */
function listSnapshot(dir: string, snap: string, files: Map<string, unknown>): Listing {
  const expected = new Map<string, number>([['', 0]]);
  // the lock lists a folder's files one after another: counted by run, each folder's path cut out once
  let run: { prefix: string; folder: string; count: number } | null = null;
  const close = () => run && expected.set(run.folder, expected.get(run.folder)! + run.count - 1);
  files.forEach((_, p) => {
    if (run && p.startsWith(run.prefix) && p.indexOf('/', run.prefix.length) < 0) {
      run.count++;
      return;
    }
    close();
    run = null;
    let d = folderBelow(p, snap);
    if (d === null) return;
    let known = expected.get(d);
    expected.set(d, (known ?? 0) + 1);
    run = { prefix: p.slice(0, p.lastIndexOf('/') + 1), folder: d, count: 1 };
    // a new folder counts once as an entry of its parent, and so on up
    while (known === undefined && d !== '') {
      const i = d.lastIndexOf('/');
      d = i < 0 ? '' : d.slice(0, i);
      known = expected.get(d);
      expected.set(d, (known ?? 0) + 1);
    }
  });
  close();
  const read = new Map<string, string[]>();
  const notFolders: string[] = [];
  for (const rel of expected.keys()) {
    // a folder of the snapshot must be a real folder (readFolder): a link would let outside files pass as its own
    const names = readFolder(rel === '' ? dir : `${dir}/${rel}`);
    if (names) read.set(rel, names);
    else notFolders.push(rel);
  }
  // a folder below one that is not a real folder was read through it: not the snapshot's
  const cutOff = (rel: string) => notFolders.some((n) => n === '' || rel.startsWith(`${n}/`));
  for (const rel of read.keys()) if (cutOff(rel)) read.delete(rel);
  return { read, expected, notFolders: notFolders.filter((n) => !notFolders.some((o) => o !== n && (o === '' || n.startsWith(`${o}/`)))) };
}

/**
 * Entries below the snapshot that the lock does not list (files, links, whole unknown folders, each reported
 * once). A folder holding exactly as many entries as the lock implies needs no name-by-name check when every
 * file the lock lists in it hashed as a regular file (`suspect` holds the folders where one did not): n distinct
 * names that include the n expected ones are those.
 */
function extraEntries(listing: Listing, snap: string, files: Map<string, unknown>, suspect: Set<string>): string[] {
  const out: string[] = [];
  for (const [rel, folder] of listing.read) {
    if (folder.length === listing.expected.get(rel) && !suspect.has(rel)) continue;
    for (const name of folder) {
      // Python writes bytecode caches into the snapshot when it runs: not content (same rule as add)
      if (isCacheEntry(name)) continue;
      const r = rel ? `${rel}/${name}` : name;
      if (!listing.expected.has(r) && !files.has(`${snap}/${r}`)) out.push(r);
    }
  }
  return out.sort();
}

/**
 * The names in one folder; null when it is not a real folder (a link would let files outside the snapshot pass as
 * its own) or is gone. A real folder that cannot be read throws.
 */
function readFolder(abs: string): string[] | null {
  let real = false;
  try {
    real = fs.lstatSync(abs).isDirectory();
  } catch {
    /* gone */
  }
  return real ? fs.readdirSync(abs) : null;
}

function otherSnapshots(projectDir: string, name: string, version: string): string[] {
  try {
    return fs
      .readdirSync(path.join(projectDir, VENDOR_ROOT, name), { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== version)
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Re-renders the module in memory from the lock's options; null when this catalogue cannot. */
async function regenerate(
  projectDir: string,
  name: string,
  entry: ModuleEntry,
  info: string[],
): Promise<Pick<ModuleRun, 'latest' | 'regenerated'> & { pin?: string }> {
  const [, , { renderModuleFileMap }, { loadModule }, { resolveOptions, setsFromRecorded }, { readState }] = await verifyModules();
  let mod: LoadedModule;
  try {
    mod = loadModule(name);
  } catch (err) {
    if (err instanceof GenError && err.code === 'UNKNOWN_MODULE') {
      info.push(`${name}: not in this catalogue; integrity was checked, regeneration skipped`);
      return { latest: null, regenerated: null };
    }
    throw err;
  }
  const latest = mod.def.version;
  if (latest !== entry.version) {
    const semver = (await import('semver')).default;
    if (semver.valid(latest) && semver.valid(entry.version) && semver.gt(latest, entry.version)) {
      info.push(
        `${name}: ${latest} is available (installed ${entry.version}; upgrade with: gen upgrade module ${name}). This catalogue cannot re-render ${entry.version}: integrity was checked, regeneration skipped`,
      );
    } else {
      info.push(`${name}: the catalogue has ${latest}, the project ${entry.version}: integrity was checked, regeneration skipped`);
    }
    return { latest, regenerated: null, pin: mod.def.wrapper_pin };
  }
  const state = readState(mod);
  const recordedHash = state.versions[entry.version];
  if (recordedHash !== undefined && recordedHash !== entry.templates) {
    info.push(
      `${name}: the lock says ${entry.version} was rendered from templates ${entry.templates}, the catalogue records ${recordedHash} for ${entry.version} (a pre-release rendering?); the per-file regeneration decides`,
    );
  }
  const options = resolveOptions({ def: mod.def, projectDir, sets: setsFromRecorded(entry.options), env: {} });
  const digests = state.digests?.[entry.version];
  // a released version: verbatim files are known by the digests recorded with it (no template is read)
  const regenerated = renderModuleFileMap(mod, entry.framework, options, digests ? { digests } : { verbatim: 'reference' });
  // a snapshot written before gen kept pristine snippet blocks has none, and its lock lists none
  // (looked up by snippet id: a handful of paths, not a scan of the lock's 10,000 lines)
  const blocks = Object.keys(mod.def.snippets)
    .map((id) => `${snapshotOf(name, entry.version)}/${PRISTINE_SNIPPETS}/${id}`)
    .filter((p) => regenerated.has(p));
  if (!blocks.some((p) => entry.files.has(p))) for (const p of blocks) regenerated.delete(p);
  return { latest, regenerated, pin: mod.def.wrapper_pin };
}
