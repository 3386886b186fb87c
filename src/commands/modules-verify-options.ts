import * as z from '../util/zod.js';

/**
 * The options of `gen modules verify-all`, in a module of their own: the command loads it (and zod) only after the
 * lock's files have started hashing. (A dynamic import of zod itself would bundle all of zod: 456 KB instead of 101.)
 */
export const optionsSchema = z.object({
  project: z.string().default('.'),
  strict: z.boolean().default(false),
  json: z.boolean().default(false),
});
