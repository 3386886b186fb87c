import * as z from '../util/zod.js';

/**
 * The options of `gen modules verify-all`, in a module of their own: the command loads it (and zod) only after the
 * lock's files have started hashing. (A dynamic import of zod/mini itself would bundle all of it, every locale
 * included: 435 KB instead of 34.)
 */
export const optionsSchema = z.object({
  project: z._default(z.string(), '.'),
  strict: z._default(z.boolean(), false),
  json: z._default(z.boolean(), false),
});
