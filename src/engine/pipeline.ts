import fs from 'node:fs';
import semver from 'semver';
import path from 'node:path';
import { GenError, UsageError } from '../errors.js';
import { loadModule, type LoadedModule } from '../module/load.js';
import { checkDrift } from '../module/state.js';
import { markedBlock, readLock } from '../lock/read.js';
import type { Lock } from '../lock/schema.js';
import { renderLock, withModule } from '../lock/write.js';
import { LOCK_PATH, vendorDir } from '../util/paths.js';
import { buildModuleEntry } from './lock-entry.js';
import { Redactor } from '../util/redact.js';
import { changes, classify, type PlannedFile } from './classify.js';
import { resolveFramework } from './detect.js';
import { resolveTargets } from './contain.js';
import { flush, opsFrom } from './flush.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { renderProjectEdits, type ExistingBlock, type ManualStep, type SnippetConflict } from './project-edits.js';
import { injectSnippet, withMissingKeys } from './inject.js';
import { sha256 } from '../util/sha256.js';
import { renderModuleFiles, type DesiredFile } from './render.js';

export interface AddRequest {
  module: string;
  projectDir: string;
  framework?: string;
  sets?: string[];
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  catalogueRoot?: string;
  /** The project's lock when the caller has read it already (upgrade): not read a second time. */
  lock?: Lock | null;
}

export interface AddPlan {
  mod: LoadedModule;
  framework: string;
  projectDir: string;
  options: ResolvedOptions;
  files: PlannedFile[];
  manual: ManualStep[];
  snippetConflicts: SnippetConflict[];
  /** Snippet blocks you edited where gen has no change: kept, not an error. */
  modifiedBlocks: SnippetConflict[];
  warnings: string[];
  redactor: Redactor;
}

/** Loads the module, checks its drift, resolves framework and options. Shared by add, dry-run, diff and verify. */
export function prepare(req: AddRequest): {
  mod: LoadedModule;
  framework: string;
  options: ResolvedOptions;
  warnings: string[];
  templatesHash: string;
  lock: Lock | null;
} {
  const projectDir = path.resolve(req.projectDir);
  if (fs.existsSync(projectDir) && !fs.statSync(projectDir).isDirectory()) {
    throw new UsageError(`--project '${req.projectDir}' is a file, not a folder`, {
      code: 'NOT_FOUND',
      field: '--project',
      hint: 'Pass the project folder (the one holding the file) with --project (default: the current folder).',
    });
  }
  if (!fs.existsSync(projectDir)) {
    throw new UsageError(`--project: folder '${req.projectDir}' does not exist`, {
      code: 'NOT_FOUND',
      field: '--project',
      hint: 'Pass an existing folder with --project (default: the current folder).',
    });
  }
  // gen's own folder must be a real folder inside the project before anything is read from it or written to it
  resolveTargets(projectDir, [LOCK_PATH]);
  const mod = loadModule(req.module, req.catalogueRoot);
  const warnings: string[] = [];
  const drift = checkDrift(mod);
  if (drift.status === 'drift') {
    throw new UsageError(
      `${mod.shown}: module '${mod.def.name}' changed since version ${mod.def.version} was recorded (content ${drift.hash.slice(0, 19)}…, recorded ${drift.recorded.slice(0, 19)}…) without a version bump`,
      {
        code: 'DRIFT',
        file: mod.shown,
        field: 'version',
        hint: `Bump the version explicitly: gen modules vet ${mod.def.name} --bump patch (or minor/major), then re-run.`,
      },
    );
  }
  if (drift.status === 'unrecorded') {
    warnings.push(
      `module ${mod.def.name} ${mod.def.version} has no recorded content hash yet (unreleased); 'gen modules vet ${mod.def.name} --bump' records it`,
    );
  }
  const lock = req.lock !== undefined ? req.lock : readLock(projectDir);
  const installed = lock?.modules[mod.def.name];
  // re-running add keeps what the project was installed with (framework, options), like copier's answers file
  const framework = resolveFramework(mod.def, projectDir, req.framework ?? installed?.framework);
  const recorded = installed && installed.framework === framework ? installed.options : {};
  const options = resolveOptions({ def: mod.def, projectDir, sets: req.sets ?? [], env: req.env, cwd: req.cwd, recorded });
  return { mod, framework, options, warnings, templatesHash: drift.hash, lock };
}

/** load → resolve → render in memory → classify against disk. Writes nothing. */
export function planAdd(req: AddRequest): AddPlan {
  const projectDir = path.resolve(req.projectDir);
  const { mod, framework, options, warnings, templatesHash, lock } = prepare(req);
  const installed = lock?.modules[mod.def.name];
  if (installed && installed.version !== mod.def.version) {
    // add re-renders the installed version; moving between versions is upgrade's job (it keeps your edits)
    const older = semver.valid(installed.version) !== null && semver.lt(installed.version, mod.def.version);
    throw new GenError(
      `${mod.def.name} ${installed.version} is installed and this catalogue has ${mod.def.version}: gen add does not ${older ? 'upgrade' : 'downgrade'} a module`,
      {
        code: 'UPGRADE_REQUIRED',
        exitCode: 1,
        file: LOCK_PATH,
        hint: older
          ? `Upgrade it, keeping your edits: gen upgrade module ${mod.def.name}   (preview: --dry-run or --diff)`
          : `Use a gen that ships ${mod.def.name} ${installed.version}, or move back on purpose: gen upgrade module ${mod.def.name} --force`,
      },
    );
  }
  const rendered = renderModuleFiles(mod, framework, options);
  // a snippet block you edited is yours like an edited wrapper: kept (and a conflict when gen changed it too)
  const kept: SnippetConflict[] = [];
  const keptModified: SnippetConflict[] = [];
  const existingBlock = (b: ExistingBlock): string | null => {
    if (b.body === b.rendered || req.force) return b.rendered;
    if (b.def.secrets) {
      // .env holds your values: re-written only with a secret given now (--set or its override variable)
      const given = Object.keys(options.secrets).some((k) => options.sources[k] === 'set' || options.sources[k] === 'override');
      return given ? b.rendered : withMissingKeys(b.body, b.rendered, b.text);
    }
    const entryOf = installed?.files.get(b.target);
    const recorded = entryOf?.class === 'snippet' ? entryOf.blocks[b.id] : undefined;
    const onDisk = markedBlock(b.text, b.target, mod.def.name, b.id);
    if (recorded === undefined || onDisk === null || sha256(onDisk) === recorded) return b.rendered;
    const fresh = injectSnippet(b.text, b.target, mod.def.name, b.id, `${b.rendered}\n`, b.def);
    const freshBlock = fresh.status === 'ok' ? markedBlock(fresh.content, b.target, mod.def.name, b.id) : null;
    if (freshBlock !== null && sha256(freshBlock) === recorded)
      keptModified.push({ snippet: b.id, target: b.target, reason: 'edited by you; gen has no change for it' });
    else
      kept.push({
        snippet: b.id,
        target: b.target,
        reason: 'edited by you and changed by gen; kept (use --force to overwrite, or gen upgrade to merge)',
      });
    return null;
  };
  const edits = renderProjectEdits(mod, framework, options, projectDir, { existingBlock });
  const desired: DesiredFile[] = [...rendered, ...edits.files];
  // the lock records gen's rendering of every block, also of those kept as you edited them
  const forLock =
    kept.length + keptModified.length > 0 ? [...rendered, ...renderProjectEdits(mod, framework, options, projectDir).files] : desired;
  const entry = buildModuleEntry({ mod, framework, options, desired: forLock, templatesHash });
  // which package.json entries gen added: this run's, and those an earlier add made that are still there
  const dependencies = { ...stillDeclared(installed?.dependencies, edits.files), ...edits.addedDependencies };
  if (Object.keys(dependencies).length > 0) entry.dependencies = dependencies;
  desired.push({ path: LOCK_PATH, kind: 'lock', content: Buffer.from(renderLock(withModule(lock, mod.def.name, entry))) });
  // containment before anything else is decided: a link leading outside the project (or dangling) refuses the run
  resolveTargets(
    projectDir,
    desired.map((d) => d.path),
  );
  const classified = classify({
    projectDir,
    moduleName: mod.def.name,
    version: mod.def.version,
    snapshotDir: vendorDir(mod.def.name, mod.def.version),
    desired,
    force: req.force ?? false,
  });
  return {
    mod,
    framework,
    projectDir,
    options,
    files: classified,
    manual: edits.manual,
    snippetConflicts: [...edits.conflicts, ...kept],
    modifiedBlocks: keptModified,
    warnings,
    redactor: new Redactor(Object.values(options.secrets)),
  };
}

/** The recorded additions package.json still declares with the range gen wrote (read from the planned file). */
export function stillDeclared(recorded: Record<string, string> | undefined, files: DesiredFile[]): Record<string, string> {
  const pkg = files.find((f) => f.path === 'package.json');
  if (!recorded || !pkg) return {};
  let deps: Record<string, unknown> = {};
  try {
    deps = ((JSON.parse(pkg.content.toString('utf8')) as { dependencies?: Record<string, unknown> }).dependencies ?? {}) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
  return Object.fromEntries(Object.entries(recorded).filter(([n, r]) => deps[n] === r));
}

/** Atomic flush of the plan's changes. */
export function applyPlan(plan: Pick<AddPlan, 'mod' | 'options' | 'files' | 'projectDir'>): void {
  const mayHoldSecrets = (f: PlannedFile) => (f.snippets ?? []).some((id) => plan.mod.def.snippets[id]?.secrets === true);
  const leakCheck = new Redactor(Object.values(plan.options.secrets).filter((s) => s !== null && s.length >= 8));
  const secretLeak = leakCheck.empty
    ? undefined
    : plan.files.find(
        (f) => f.content && !mayHoldSecrets(f) && leakCheck.redact(f.content.toString('utf8')) !== f.content.toString('utf8'),
      );
  if (secretLeak) {
    // a template must never bake a secret into source or the snapshot
    throw new GenError(`refusing to write ${secretLeak.path}: it would contain a secret`, {
      code: 'SECRET_LEAK',
      exitCode: 2,
      hint: 'Secrets belong in .env only; fix the template.',
    });
  }
  flush(plan.projectDir, opsFrom(changes(plan.files), mayHoldSecrets));
}
