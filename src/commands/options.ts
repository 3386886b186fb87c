import type * as z from '../util/zod.js';
import { UsageError } from '../errors.js';

/** commander's option values through the command's zod schema; a bad value is a usage error naming the flag. */
export function parseOptions<S extends z.ZodMiniType>(schema: S, raw: Record<string, unknown>, example?: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const flag = `--${String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  throw new UsageError(`${flag}: ${issue.message}`, {
    field: flag,
    hint: example ? `Example: ${example}` : 'Run with --help to see the usage.',
  });
}
