/**
 * zod for every schema of gen (import it from here, not from 'zod'): `zod/mini`, the functional API of the same
 * library (`z.optional(s)`, `s.check(z.minLength(1))`). Classic zod binds ~40 methods to every schema instance and
 * its bundle is ~96 KB; measured, the lock schema alone cost ~11 ms of a fresh process with classic zod, ~5.5 ms
 * with mini. Mini loads no locale (every message would be "Invalid input"), so the English one is loaded here: only
 * it is bundled, not the other locales.
 *
 * Each schema validates once per run of gen, so zod's JIT (a `new Function` compiled per object schema on its first
 * parse) costs more than it saves: measured ~2 ms of a cold process on the lock and module schemas. `jitless` is
 * read when a schema is built, so it is set here, before any schema module's body runs (this module is imported
 * first).
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config({ ...en(), jitless: true });

export * from 'zod/mini';
