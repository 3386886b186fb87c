/**
 * The documented shapes (docs/lock.md) as zod schemas: the parsed lock and the `--json` reports of `modules lock`,
 * `modules verify-all` and `modules vet`. Tests validate real output against them. The commands themselves only
 * import the types from here (erased at build time), so verify-all never loads zod on its hot path.
 */
import { z } from 'zod';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);

/** One entry of a module's `files` (after parsing its `<sha256>  <class>  <path>[#<snippet>]` lines). */
export const fileEntrySchema = z.discriminatedUnion('class', [
  /** vendor/wrapper: sha256 of the file */
  z.strictObject({ class: z.enum(['vendor', 'wrapper']), sha256: sha256Hex }),
  /** snippet host file: sha256 of each marked block (marker lines included), by snippet id */
  z.strictObject({ class: z.literal('snippet'), blocks: z.record(z.string(), sha256Hex) }),
]);

export const moduleEntrySchema = z.strictObject({
  version: z.string().min(1),
  framework: z.string().min(1),
  generator: z.string().min(1),
  templates: digest,
  digest,
  options: z.record(z.string(), z.unknown()),
  files: z.map(z.string(), fileEntrySchema),
});

/** `.rapidkit/modules.lock.yaml` as `readLock` returns it. */
export const lockSchema = z.strictObject({
  lockVersion: z.literal(1),
  modules: z.record(z.string(), moduleEntrySchema),
});

/** One finding of verify-all. */
export const checkSchema = z.strictObject({
  module: z.string(),
  /** project-relative POSIX path (the lock itself for `class: module`) */
  path: z.string(),
  class: z.enum(['vendor', 'wrapper', 'snippet', 'module']),
  status: z.enum(['changed', 'missing', 'extra', 'drift', 'modified', 'pinned-missing']),
  /** sha256 (hex) expected, or the pinned version for `pinned-missing`; null when nothing was expected */
  expected: z.string().nullable(),
  /** sha256 (hex) found; null when the file is missing */
  actual: z.string().nullable(),
  message: z.string(),
  remedy: z.string().nullable(),
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
      latest: z.string().nullable(),
      /** entries in the lock for this module */
      files: z.number().int(),
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
  version: z.string().nullable(),
  /** the module's content hash now */
  hash: z.string().nullable(),
  ok: z.boolean(),
  /** the new version when --bump ran */
  bumped: z.string().nullable(),
  /** whether this run recorded the content hash (--bump or --record) */
  recorded: z.boolean(),
  problems: z.array(
    z.strictObject({
      check: z.enum(['schema', 'templates', 'variables', 'render', 'documentation', 'changelog', 'version']),
      file: z.string().nullable(),
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
  lock: z.literal('.rapidkit/modules.lock.yaml'),
  written: z.boolean(),
  modules: z.array(z.strictObject({ name: z.string(), version: z.string(), framework: z.string(), files: z.number().int(), digest })),
});

export type Check = z.infer<typeof checkSchema>;
export type VerifyReport = z.infer<typeof verifyReportSchema>;
export type VetReport = z.infer<typeof vetReportSchema>;
export type VetProblem = VetReport['problems'][number];
