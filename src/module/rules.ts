// Rules of a module definition that the zod schema (./schema.ts) and the zod-free readers (./recorded.ts) share.

/** Module, framework and catalogue entry names. */
export const NAME = /^[a-z][a-z0-9-]*$/;

/** A relative path inside its root: not absolute, no `..` segment. */
export function isRelPath(p: unknown): p is string {
  return typeof p === 'string' && p.length > 0 && !p.startsWith('/') && !p.split('/').includes('..');
}
