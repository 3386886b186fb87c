import type { Command } from 'commander';
import type { Worker } from 'node:worker_threads';
import { COMMANDS, GROUPS, type CommandEntry } from './commands/index.js';
import { ExitError, GenError } from './errors.js';
import { generatorVersion } from './util/version.js';
import { redactUrls } from './util/redact.js';

/** commander's errors (matched by their code: commander is loaded lazily). */
function isCommanderError(err: unknown): err is Error & { code: string; exitCode: number } {
  const e = err as { code?: unknown; exitCode?: unknown } | null;
  return err instanceof Error && typeof e?.code === 'string' && e.code.startsWith('commander.') && typeof e.exitCode === 'number';
}

/** One exit path for every error (typed errors carry their code, exit code and hint); `--json` always answers JSON. */
export function handleError(err: unknown, json: boolean): number {
  if (err instanceof ExitError) return err.exitCode;
  if (isCommanderError(err)) {
    // help and --version end with exit code 0; anything else is a usage error commander has already described
    if (err.exitCode === 0) return 0;
    const message = err.message.replace(/^error: /, '');
    err = new GenError(message, { exitCode: 2, code: 'USAGE', hint: 'Run with --help to see the usage.', cause: err });
  }
  if (err instanceof GenError) {
    const e = redacted(err);
    if (json) process.stdout.write(JSON.stringify(e.toJSON(), null, 2) + '\n');
    else if (!isCommanderError(e.cause)) {
      // (a commander error: commander has printed its message and the usage already)
      process.stderr.write(`error: ${e.message}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    }
    return e.exitCode;
  }
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
  if (json) {
    const message = redactUrls(err instanceof Error ? err.message : String(err));
    const body = { error: message, code: 'UNEXPECTED', exitCode: 1, file: null, field: null, hint: 'A bug in gen; please report it.' };
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
  } else process.stderr.write(`error: unexpected failure (a bug in gen; please report it)\n${redactUrls(msg)}\n`);
  return 1;
}

/** The error with any URL's userinfo (a password) replaced by `***`, whatever the scheme: no secret in any output. */
function redacted(err: GenError): GenError {
  const message = redactUrls(err.message);
  const hint = err.hint === undefined ? undefined : redactUrls(err.hint);
  if (message === err.message && hint === err.hint) return err;
  return new GenError(message, { code: err.code, exitCode: err.exitCode, hint, file: err.file, field: err.field, cause: err.cause });
}

/** The command `argv` invokes (its words follow `gen`), if any. */
function invoked(argv: string[]): CommandEntry | undefined {
  const words = argv.slice(2);
  return COMMANDS.find((c) => c.path.every((w, i) => words[i] === w));
}

/**
 * Assembles the program: every command is listed (for `gen --help`), but only the invoked one is loaded and defines
 * its arguments, options and action; the others stay one-line entries that load nothing.
 */
export async function buildProgram(argv: string[]): Promise<Command> {
  const target = invoked(argv);
  // commander and the invoked command's chunk load together (the loader reads both files at once)
  const [{ Command }, command] = await Promise.all([import('commander'), target?.load()]);
  const program = new Command('gen')
    .description('Install production modules into application projects: vendored, hash-locked, verifiable.')
    .version(generatorVersion(), '-v, --version')
    .showHelpAfterError()
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(redactUrls(s)) });
  const groups = new Map<string, Command>();
  for (const entry of COMMANDS) {
    const [first, second] = entry.path;
    let parent = program;
    if (second !== undefined) {
      let group = groups.get(first);
      if (!group) {
        group = program.command(first).description(GROUPS[first] ?? '');
        groups.set(first, group);
      }
      parent = group;
    }
    const cmd = parent.command(second ?? first).description(entry.description);
    if (entry === target) command!.define(cmd);
  }
  return program;
}

/** What the launcher (bin/gen.cjs) started before the CLI was compiled. */
export interface Launch {
  /** verify-all's hashing worker (dist/hash-worker.cjs), booting meanwhile. */
  hashWorker?: Worker;
}

export async function main(argv: string[], launch: Launch = {}): Promise<void> {
  const json = argv.includes('--json');
  let code = 0;
  try {
    // verify-all is CI's hot path: its hashing workers boot on the other cores while the CLI loads
    if (argv[2] === 'modules' && argv[3] === 'verify-all') (await import('./check/hash.js')).prewarmHashing(launch.hashWorker);
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (err) {
    code = handleError(err, json);
  }
  process.exitCode = code;
}
