/** The lock format (docs/lock.md) as zod schemas: what `parseLock` accepts and returns. */
import * as z from '../util/zod.js';

const sha256Hex = z.string().check(z.regex(/^[0-9a-f]{64}$/, '64 hex digits'));
const digest = z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>'));
const nonEmpty = () => z.string().check(z.minLength(1));

/** One entry of a module's `files` (after parsing its `<sha256>  <class>  <path>[#<snippet>]` lines). */
export const fileEntrySchema = z.discriminatedUnion('class', [
  /** vendor/wrapper: sha256 of the file */
  z.strictObject({ class: z.enum(['vendor', 'wrapper']), sha256: sha256Hex }),
  /** snippet host file: sha256 of each marked block (marker lines included), by snippet id */
  z.strictObject({ class: z.literal('snippet'), blocks: z.record(z.string(), sha256Hex) }),
]);

export const moduleEntrySchema = z.strictObject({
  version: nonEmpty(),
  framework: nonEmpty(),
  generator: nonEmpty(),
  templates: digest,
  digest,
  options: z.record(z.string(), z.unknown()),
  /** package.json dependencies gen added (name → the range it wrote), so `gen remove` takes out only those. */
  dependencies: z.optional(z.record(z.string(), z.string())),
  files: z.map(z.string(), fileEntrySchema),
});

/** The lock as YAML holds it: each module's `files` is a block of `<sha256>  <class>  <path>` lines (./read.ts). */
export const rawLockSchema = z.strictObject({
  lockVersion: z.literal(1),
  modules: z.record(
    z.string(),
    z.extend(moduleEntrySchema, { files: z.string({ error: "a block of '<sha256>  <vendor|wrapper|snippet>  <path>' lines" }) }),
  ),
});

/** `.rapidkit/modules.lock.yaml` as `readLock` returns it. */
export const lockSchema = z.strictObject({
  lockVersion: z.literal(1),
  modules: z.record(z.string(), moduleEntrySchema),
});

export type FileEntry = z.infer<typeof fileEntrySchema>;
export type ModuleEntry = z.infer<typeof moduleEntrySchema>;
export type Lock = z.infer<typeof lockSchema>;
