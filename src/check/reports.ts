/** The documented `--json` reports of `modules verify-all`, `modules vet` and `modules lock` (docs/lock.md). */
import * as z from '../util/zod.js';
import { LOCK_PATH } from '../util/paths.js';

const digest = z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/));

/** One finding of verify-all. */
export const checkSchema = z.strictObject({
  module: z.string(),
  /** project-relative POSIX path (the lock itself for `class: module`) */
  path: z.string(),
  class: z.enum(['vendor', 'wrapper', 'snippet', 'module']),
  status: z.enum(['changed', 'missing', 'extra', 'drift', 'modified', 'pinned-missing', 'conflict']),
  /** sha256 (hex) expected, or the pinned version for `pinned-missing`; null when nothing was expected */
  expected: z.nullable(z.string()),
  /** sha256 (hex) found; null when the file is missing */
  actual: z.nullable(z.string()),
  message: z.string(),
  remedy: z.nullable(z.string()),
  /** false only for `modified` without --strict */
  fails: z.boolean(),
});

/** `gen modules verify-all --json` */
export const verifyReportSchema = z.strictObject({
  schemaVersion: z.literal(1),
  command: z.literal('verify-all'),
  project: z.string(),
  strict: z.boolean(),
  ok: z.boolean(),
  modules: z.array(
    z.strictObject({
      name: z.string(),
      version: z.string(),
      framework: z.string(),
      /** the catalogue's version of the module (null when the catalogue does not have it) */
      latest: z.nullable(z.string()),
      /** entries in the lock for this module */
      files: z.number().check(z.int()),
      /** whether the module was re-rendered from the lock's options and compared */
      regenerated: z.boolean(),
      ok: z.boolean(),
    }),
  ),
  /** every failing finding (exit 1 when not empty) */
  problems: z.array(checkSchema),
  /** edited wrappers and snippet blocks (`fails` is true under --strict; those are in `problems` too) */
  modified: z.array(checkSchema),
  info: z.array(z.string()),
});

/** `gen modules vet <module> --json` (without a module: `{schemaVersion, command, ok, reports: [...]}`) */
export const vetReportSchema = z.strictObject({
  schemaVersion: z.literal(1),
  command: z.literal('vet'),
  module: z.string(),
  version: z.nullable(z.string()),
  /** the module's content hash now */
  hash: z.nullable(z.string()),
  ok: z.boolean(),
  /** the new version when --bump ran */
  bumped: z.nullable(z.string()),
  /** whether this run recorded the content hash (--bump or --record) */
  recorded: z.boolean(),
  problems: z.array(
    z.strictObject({
      check: z.enum(['schema', 'templates', 'variables', 'render', 'documentation', 'changelog', 'version']),
      file: z.nullable(z.string()),
      message: z.string(),
      remedy: z.string(),
    }),
  ),
});

export const vetAllReportSchema = z.strictObject({
  schemaVersion: z.literal(1),
  command: z.literal('vet'),
  ok: z.boolean(),
  reports: z.array(vetReportSchema),
});

/** `gen modules lock --json` */
export const lockReportSchema = z.strictObject({
  schemaVersion: z.literal(1),
  command: z.literal('lock'),
  lock: z.literal(LOCK_PATH),
  written: z.boolean(),
  modules: z.array(
    z.strictObject({ name: z.string(), version: z.string(), framework: z.string(), files: z.number().check(z.int()), digest }),
  ),
});

export type Check = z.infer<typeof checkSchema>;
export type VerifyReport = z.infer<typeof verifyReportSchema>;
export type VetReport = z.infer<typeof vetReportSchema>;
export type VetProblem = VetReport['problems'][number];
