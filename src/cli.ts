import type { Command } from 'commander';
import { ExitError, GenError } from './errors.js';
import { generatorVersion } from './util/version.js';

/** Collects repeated `--set key=value` flags. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function wantsJson(argv: string[]): boolean {
  return argv.includes('--json');
}

/** commander's errors (loaded lazily, so matched by their code rather than their class). */
function isCommanderError(err: unknown): err is Error & { code: string; exitCode: number } {
  const e = err as { code?: unknown; exitCode?: unknown } | null;
  return err instanceof Error && typeof e?.code === 'string' && e.code.startsWith('commander.') && typeof e.exitCode === 'number';
}

/** One exit path for every error (typed errors carry their exit code and hint). */
export function handleError(err: unknown, json: boolean): number {
  if (err instanceof ExitError) return err.exitCode;
  if (isCommanderError(err)) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof GenError) {
    if (json) process.stdout.write(JSON.stringify(err.toJSON(), null, 2) + '\n');
    else {
      process.stderr.write(`error: ${err.message}\n`);
      if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    }
    return err.exitCode;
  }
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
  if (json)
    process.stdout.write(
      JSON.stringify(
        { error: err instanceof Error ? err.message : String(err), exitCode: 1, file: null, field: null, hint: null },
        null,
        2,
      ) + '\n',
    );
  else process.stderr.write(`error: unexpected failure (a bug in gen; please report it)\n${msg}\n`);
  return 1;
}

export async function buildProgram(): Promise<Command> {
  const { Command } = await import('commander');
  const program = new Command('gen')
    .description('Install production modules into FastAPI, NestJS and Fastify projects: vendored, hash-locked, verifiable.')
    .version(generatorVersion(), '-v, --version')
    .showHelpAfterError()
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const add = program.command('add').description('Add something to a project');
  add
    .command('module <name>')
    .description('Render a module into the project: vendored runtime, thin wrappers, snippets')
    .option('-f, --framework <framework>', 'fastapi | nestjs | fastify (default: detected)')
    .option('-p, --project <dir>', 'the project folder', '.')
    .option('--dry-run', 'show what would change; write nothing')
    .option('--diff [path]', 'print a unified diff of every change (or of one file); write nothing')
    .option('--json', 'print a JSON report (docs/cli.md)')
    .option('-y, --yes', 'never ask; keep files you edited (report them as conflicts)')
    .option('--force', 'overwrite files you edited')
    .option('--set <key=value>', 'set a module variable (repeatable)', collect, [])
    .action(async (name: string, opts: Record<string, unknown>) => (await import('./commands/add.js')).addCommand(name, opts));

  const modules = program.command('modules').description('Inspect and check modules');
  modules
    .command('list')
    .description('List the modules in the catalogue')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, unknown>) => (await import('./commands/modules-list.js')).listCommand(opts));
  modules
    .command('info <name>')
    .description('Versions, frameworks, variables with defaults, docs of a module')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Record<string, unknown>) => (await import('./commands/modules-info.js')).infoCommand(name, opts));
  modules
    .command('lock')
    .description('Write .rapidkit/modules.lock.yaml from what is installed (gen add keeps it current)')
    .option('-p, --project <dir>', 'the project folder', '.')
    .option('--overwrite', 'replace an existing lock')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, unknown>) => (await import('./commands/modules-lock.js')).lockCommand(opts));
  modules
    .command('verify-all')
    .description('Re-hash every vendored file and regenerate each module from the lock; fail on any drift (for CI)')
    .option('-p, --project <dir>', 'the project folder', '.')
    .option('--strict', 'also fail on edited wrappers and snippets')
    .option('--json', 'print JSON (docs/lock.md)')
    .action(async (opts: Record<string, unknown>) => (await import('./commands/modules-verify.js')).verifyCommand(opts));
  modules
    .command('vet [module]')
    .description('Check module definitions: schema, templates, variables, docs, changelog, content hash vs version')
    .option('--bump <level>', 'bump the version (patch|minor|major), add a changelog stub, record the content hash')
    .option('--record', 'record a first release (content hash, template digests, definition), or refresh the recorded definition')
    .option('--json', 'print JSON (docs/lock.md)')
    .action(async (name: string | undefined, opts: Record<string, unknown>) =>
      (await import('./commands/modules-vet.js')).vetCommand(name, opts),
    );
  return program;
}

/**
 * `modules verify-all` followed only by its own flags, each at most once, in their plain spelling: the options
 * commander would produce for them; null for anything else (commander then parses it, and reports mistakes).
 */
export function plainVerifyArgs(args: string[]): Record<string, unknown> | null {
  const opts: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '--json' || a === '--strict') && !(a.slice(2) in opts)) opts[a.slice(2)] = true;
    else if ((a === '--project' || a === '-p') && !('project' in opts) && args[i + 1] !== undefined && !args[i + 1]!.startsWith('-'))
      opts.project = args[++i];
    else return null;
  }
  return opts;
}

export async function main(argv: string[]): Promise<void> {
  const json = wantsJson(argv);
  let code = 0;
  try {
    // verify-all is CI's hot path: its hashing workers boot on the other core at once, and its plain form runs
    // without loading commander (~20 ms)
    const isVerify = argv[2] === 'modules' && argv[3] === 'verify-all';
    if (isVerify) (await import('./lock/hash.js')).prewarmHashing();
    const verify = isVerify ? plainVerifyArgs(argv.slice(4)) : null;
    if (verify) await (await import('./commands/modules-verify.js')).verifyCommand(verify);
    else await (await buildProgram()).parseAsync(argv);
  } catch (err) {
    code = handleError(err, json);
  }
  process.exitCode = code;
}
