import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { GenError, UsageError } from '../errors.js';
import { resolveOptions, setsFromRecorded } from './options.js';
import { renderProjectEdits } from './project-edits.js';
import { renderModuleFiles, withoutPristineSnippets } from './render.js';
import { LOCK_PATH, MANIFEST, PRISTINE_SNIPPETS, VENDOR_ROOT, vendorDir } from '../util/paths.js';
import { readLock } from '../lock/read.js';
import { loadModule } from '../module/load.js';
import { checkDrift } from '../module/state.js';
import type { Lock } from '../lock/schema.js';
import { renderLock } from '../lock/write.js';
import { flush } from './flush.js';
import { buildModuleEntry } from './lock-entry.js';

interface Manifest {
  module: string;
  version: string;
  framework: string;
  options: Record<string, unknown>;
}

/**
 * The lock as gen would write it, rebuilt from what is installed: every module's newest snapshot carries a manifest
 * (`_gen.json`: version, framework, options), and the module is re-rendered in memory from it. The lock records
 * what gen produces, never what happens to be on disk, so a tampered file cannot be blessed by re-locking.
 */
export function rebuildLock(projectDir: string): Lock {
  const root = path.join(projectDir, VENDOR_ROOT);
  const modules: Lock['modules'] = {};
  let previous: Lock | null = null;
  try {
    previous = readLock(projectDir);
  } catch {
    previous = null; // rebuilding an unreadable lock is what this command is for
  }
  const names = fs.existsSync(root) ? fs.readdirSync(root).sort() : [];
  for (const name of names) {
    let entries: string[];
    try {
      entries = fs.readdirSync(path.join(root, name));
    } catch {
      continue; // not a folder
    }
    const versions = entries.filter((v) => semver.valid(v) && fs.existsSync(path.join(root, name, v, MANIFEST))).sort(semver.rcompare);
    if (versions.length === 0) continue;
    const shown = `${vendorDir(name, versions[0]!)}/${MANIFEST}`;
    let manifest: Manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(root, name, versions[0]!, MANIFEST), 'utf8')) as Manifest;
    } catch (e) {
      throw new UsageError(`${shown}: not readable JSON (${e instanceof Error ? e.message : e})`, {
        code: 'INVALID_LOCK',
        file: shown,
        hint: `Re-install it: gen add module ${name}`,
      });
    }
    const bad = (field: string) => {
      throw new UsageError(`${shown}: field '${field}' is missing or wrong`, {
        code: 'INVALID_LOCK',
        file: shown,
        field,
        hint: `Re-install it: gen add module ${name}`,
      });
    };
    if (typeof manifest !== 'object' || manifest === null) bad('(root)');
    if (manifest.module !== name) bad('module');
    if (manifest.version !== versions[0]) bad('version');
    if (typeof manifest.framework !== 'string') bad('framework');
    if (typeof manifest.options !== 'object' || manifest.options === null || Array.isArray(manifest.options)) bad('options');
    const mod = loadModule(name);
    if (mod.def.version !== manifest.version) {
      throw new UsageError(`cannot rebuild the lock of ${name} ${manifest.version} with a catalogue at ${mod.def.version}`, {
        hint: `Upgrade the project first: gen upgrade module ${name}`,
      });
    }
    const drift = checkDrift(mod);
    if (drift.status === 'drift') {
      throw new UsageError(`${mod.shown}: module '${name}' changed since version ${mod.def.version} was recorded, without a version bump`, {
        code: 'DRIFT',
        file: mod.shown,
        field: 'version',
        hint: `Bump the version explicitly: gen modules vet ${name} --bump patch`,
      });
    }
    const options = resolveOptions({ def: mod.def, projectDir, sets: setsFromRecorded(manifest.options), env: {} });
    const rendered = renderModuleFiles(mod, manifest.framework, options);
    // a snapshot written before gen kept pristine snippet blocks is rebuilt as it is, without them
    const keepsBlocks = fs.existsSync(path.join(root, name, versions[0]!, PRISTINE_SNIPPETS));
    const desired = [
      ...(keepsBlocks ? rendered : withoutPristineSnippets(rendered)),
      ...renderProjectEdits(mod, manifest.framework, options, projectDir).files,
    ];
    modules[name] = {
      ...buildModuleEntry({ mod, framework: manifest.framework, options, desired, templatesHash: drift.hash }),
      // which package.json entries gen added is known only from the lock: carried over when it can be read
      ...(previous?.modules[name]?.dependencies ? { dependencies: previous.modules[name].dependencies } : {}),
    };
  }
  if (Object.keys(modules).length === 0) {
    throw new UsageError(`no installed module found in ${projectDir} (.rapidkit/vendor/<module>/<version>/${MANIFEST})`, {
      code: 'NOT_FOUND',
      hint: "Run 'gen add module <name>' first.",
    });
  }
  return { lockVersion: 1, modules };
}

/**
 * `gen modules lock`: writes the rebuilt lock (transactionally), refusing to replace an existing one unless told to.
 * Returns the lock and whether the file changed.
 */
export function relock(projectDir: string, opts: { overwrite: boolean }): { lock: Lock; written: boolean } {
  const file = path.join(projectDir, LOCK_PATH);
  const previous = fs.existsSync(file) ? fs.readFileSync(file) : null;
  if (previous && !opts.overwrite) {
    throw new GenError(`${LOCK_PATH} already exists`, {
      code: 'EXISTS',
      exitCode: 1,
      file: LOCK_PATH,
      hint: 'Use --overwrite to replace it (gen add keeps it up to date by itself).',
    });
  }
  const lock = rebuildLock(projectDir);
  const text = Buffer.from(renderLock(lock));
  const written = !previous || !previous.equals(text);
  if (written) flush(projectDir, [{ path: LOCK_PATH, content: text, previous }]);
  return { lock, written };
}
