/** Typed errors with one exit path (see handleError in cli.ts). */

/**
 * The error vocabulary: callers decide by `code`, never by matching a message.
 * - USAGE: a bad argument, flag, override or `--set` value (exit 2)
 * - UNKNOWN_MODULE / UNKNOWN_FRAMEWORK: not in the catalogue / not a framework of the module (exit 2)
 * - INVALID_DEFINITION: a catalogue or module.yaml, template or module hook that breaks the rules (exit 2)
 * - INVALID_LOCK: a lock, snapshot manifest or recorded state gen cannot read (exit 2)
 * - NOT_FOUND: a project, lock or file the command needs is missing (exit 2)
 * - DRIFT: a module changed without a version bump (exit 2)
 * - EXISTS: the command would replace something it was not told to (exit 1)
 * - WRITE_FAILED: the filesystem refused a write; nothing was changed (exit 1)
 * - SECRET_LEAK: a rendering would put a secret outside .env (exit 2)
 * - UNSAFE_PATH: a target, or a folder on its way, is a link leading outside the project or a dangling link (exit 2)
 * - LOCKED: another gen process is writing the project (its transaction in .rapidkit/txn is live) (exit 1)
 * - NOT_INSTALLED: upgrade/remove of a module the project's lock does not list (exit 2)
 * - UPGRADE_REQUIRED: add of a module the project has at another version (exit 1; `gen upgrade module` moves it)
 * - DOWNGRADE: upgrade to an older version than the installed one, without --force (exit 1)
 */
export type ErrorCode =
  | 'USAGE'
  | 'UNKNOWN_MODULE'
  | 'UNKNOWN_FRAMEWORK'
  | 'INVALID_DEFINITION'
  | 'INVALID_LOCK'
  | 'NOT_FOUND'
  | 'DRIFT'
  | 'EXISTS'
  | 'WRITE_FAILED'
  | 'SECRET_LEAK'
  | 'UNSAFE_PATH'
  | 'LOCKED'
  | 'NOT_INSTALLED'
  | 'UPGRADE_REQUIRED'
  | 'DOWNGRADE'
  | 'FAILED';

export interface GenErrorOptions {
  code?: ErrorCode;
  /** Process exit code: 2 = usage/configuration, 1 = operation failed (conflict, drift). */
  exitCode?: number;
  /** What the user should do next. */
  hint?: string;
  /** File the error is about (path as the user would type it). */
  file?: string;
  /** Field path inside that file, e.g. `frameworks.<id>.wrappers[0].path`. */
  field?: string;
  cause?: unknown;
}

export class GenError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint?: string;
  readonly file?: string;
  readonly field?: string;
  constructor(message: string, opts: GenErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GenError';
    this.exitCode = opts.exitCode ?? 1;
    this.code = opts.code ?? (this.exitCode === 2 ? 'USAGE' : 'FAILED');
    this.hint = opts.hint;
    this.file = opts.file;
    this.field = opts.field;
  }
  toJSON(): Record<string, unknown> {
    return {
      error: this.message,
      code: this.code,
      exitCode: this.exitCode,
      file: this.file ?? null,
      field: this.field ?? null,
      hint: this.hint ?? null,
    };
  }
}

/** Bad input from the user or a malformed definition: exit 2, nothing written. */
export class UsageError extends GenError {
  constructor(message: string, opts: Omit<GenErrorOptions, 'exitCode'> = {}) {
    super(message, { ...opts, exitCode: 2 });
    this.name = 'UsageError';
  }
}

/** Ends the process with a code after output has already been printed. */
export class ExitError extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'ExitError';
  }
}
