/** Typed errors with one exit path (see handleError in cli.ts). */
export interface GenErrorOptions {
  /** Process exit code: 2 = usage/configuration, 1 = operation failed (conflict, drift). */
  exitCode?: number;
  /** What the user should do next. */
  hint?: string;
  /** File the error is about (path as the user would type it). */
  file?: string;
  /** Field path inside that file, e.g. `frameworks.fastapi.wrappers[0].path`. */
  field?: string;
  cause?: unknown;
}

export class GenError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  readonly file?: string;
  readonly field?: string;
  constructor(message: string, opts: GenErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GenError';
    this.exitCode = opts.exitCode ?? 1;
    this.hint = opts.hint;
    this.file = opts.file;
    this.field = opts.field;
  }
  toJSON(): Record<string, unknown> {
    return { error: this.message, exitCode: this.exitCode, file: this.file ?? null, field: this.field ?? null, hint: this.hint ?? null };
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
