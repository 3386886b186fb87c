import * as z from '../util/zod.js';

/** The flags of every command that writes a project (add, upgrade, remove), as their zod shape. */
export const writeFlags = {
  project: z._default(z.string(), '.'),
  dryRun: z._default(z.boolean(), false),
  json: z._default(z.boolean(), false),
  yes: z._default(z.boolean(), false),
  force: z._default(z.boolean(), false),
};

/** The flags of the commands that render a module (add, upgrade): a diff instead of writing, module variables. */
export const renderFlags = {
  diff: z.optional(z.union([z.boolean(), z.string()])),
  set: z._default(z.array(z.string()), []),
};
