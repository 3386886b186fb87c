import fs from 'node:fs';
import path from 'node:path';
import { GenError, UsageError } from '../errors.js';
import { loadModule, type LoadedModule } from '../module/load.js';
import { checkDrift } from '../module/state.js';
import { readLock } from '../lock/read.js';
import { renderLock, withModule } from '../lock/write.js';
import { LOCK_PATH, vendorDir } from '../util/paths.js';
import { buildModuleEntry } from './lock-entry.js';
import { Redactor } from '../util/redact.js';
import { changes, classify, type PlannedFile } from './classify.js';
import { resolveFramework } from './detect.js';
import { resolveTargets } from './contain.js';
import { flush, opsFrom } from './flush.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { renderProjectEdits, type ManualStep, type SnippetConflict } from './project-edits.js';
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
}

export interface AddPlan {
  mod: LoadedModule;
  framework: string;
  projectDir: string;
  options: ResolvedOptions;
  files: PlannedFile[];
  manual: ManualStep[];
  snippetConflicts: SnippetConflict[];
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
  const installed = readLock(projectDir)?.modules[mod.def.name];
  // re-running add keeps what the project was installed with (framework, options), like copier's answers file
  const framework = resolveFramework(mod.def, projectDir, req.framework ?? installed?.framework);
  const recorded = installed && installed.framework === framework ? installed.options : {};
  const options = resolveOptions({ def: mod.def, projectDir, sets: req.sets ?? [], env: req.env, cwd: req.cwd, recorded });
  return { mod, framework, options, warnings, templatesHash: drift.hash };
}

/** load → resolve → render in memory → classify against disk. Writes nothing. */
export function planAdd(req: AddRequest): AddPlan {
  const projectDir = path.resolve(req.projectDir);
  const { mod, framework, options, warnings, templatesHash } = prepare(req);
  const rendered = renderModuleFiles(mod, framework, options);
  const edits = renderProjectEdits(mod, framework, options, projectDir);
  const desired: DesiredFile[] = [...rendered, ...edits.files];
  const entry = buildModuleEntry({ mod, framework, options, desired, templatesHash });
  desired.push({ path: LOCK_PATH, kind: 'lock', content: Buffer.from(renderLock(withModule(readLock(projectDir), mod.def.name, entry))) });
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
    snippetConflicts: edits.conflicts,
    warnings,
    redactor: new Redactor(Object.values(options.secrets)),
  };
}

/** Atomic flush of the plan's changes. */
export function applyPlan(plan: AddPlan): void {
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
