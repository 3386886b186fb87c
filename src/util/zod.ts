/**
 * zod for every schema of gen (import it from here, not from 'zod'). Each schema validates once per run of gen, so
 * zod's JIT (a `new Function` compiled per object schema on its first parse) costs more than it saves: measured
 * ~2 ms of a cold process on the lock and module schemas. `jitless` is read when a schema is built, so it is set
 * here, before any schema module's body runs (this module is imported first).
 */
import { config } from 'zod';

config({ jitless: true });

export * from 'zod';
