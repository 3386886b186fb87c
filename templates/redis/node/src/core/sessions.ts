/**
 * Server-side sessions on the cache: create / get / touch / update / destroy, each one atomic Redis command.
 *
 * The same keys and value format as the Python runtime's SessionStore (docs/cache-contract.md, "Sessions"):
 * `<key prefix><namespace><id>` holding the session data as compact JSON, with the session TTL on the key. Ids are
 * 32 random bytes, base64url (256 bits). An id that is not one of ours (wrong characters or length, e.g. a forged
 * cookie) reads as a missing session and is never sent to Redis. Fail-open like the cache: while Redis is
 * unreachable create() resolves null (no session could be stored), get() null, touch/update/destroy false.
 */
import { randomBytes } from 'crypto';
import type { RedisCache } from './cache';
import { dumps, loads, ttlArgs } from './serialization';

export const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/;

export interface SessionStoreOptions {
  /** Seconds a session lives without a touch (default 86400); fractions are kept in milliseconds. */
  ttl?: number;
  /** Key namespace after the cache's key prefix (default "session:"). */
  namespace?: string;
}

type Expiry = ['EX', number] | ['PX', number];

export class SessionStore {
  readonly namespace: string;
  private readonly expiry: Expiry;

  constructor(
    private readonly cache: RedisCache,
    options: SessionStoreOptions = {},
  ) {
    this.namespace = options.namespace ?? 'session:';
    this.expiry = SessionStore.expiryOf(options.ttl ?? 86400);
  }

  private static expiryOf(ttl: number): Expiry {
    const args = ttlArgs(ttl, 0);
    if (args.length === 0) throw new RangeError('sessions need a ttl > 0');
    return args;
  }

  private full(id: unknown): string | null {
    return typeof id === 'string' && SESSION_ID.test(id) ? this.cache.key(this.namespace + id) : null;
  }

  /** A new session id (SET NX with the TTL: never overwrites another session); null when Redis is unreachable. */
  async create(data: unknown, ttl?: number): Promise<string | null> {
    const payload = dumps(data);
    const [unit, amount] = ttl === undefined ? this.expiry : SessionStore.expiryOf(ttl);
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = randomBytes(32).toString('base64url');
      const full = this.full(id)!;
      const res = await this.cache.guarded((c) => (unit === 'EX' ? c.set(full, payload, 'EX', amount, 'NX') : c.set(full, payload, 'PX', amount, 'NX')), false as const);
      if (res === false) return null;
      if (res === 'OK') return id;
    }
    throw new Error('could not allocate a unique session id');
  }

  /** The session data, or null (missing, expired, foreign id, Redis down). `touch` also resets the TTL (GETEX). */
  async get<T = unknown>(id: string, options: { touch?: boolean } = {}): Promise<T | null> {
    const full = this.full(id);
    if (full === null) return null;
    const [unit, amount] = this.expiry;
    const raw = await this.cache.guarded(
      (c) => (options.touch ? (unit === 'EX' ? c.getex(full, 'EX', amount) : c.getex(full, 'PX', amount)) : c.get(full)),
      null,
    );
    return raw === null ? null : (loads(raw) as T);
  }

  /** Resets the TTL (EXPIRE/PEXPIRE); false for a missing session. */
  async touch(id: string, ttl?: number): Promise<boolean> {
    const full = this.full(id);
    if (full === null) return false;
    const [unit, amount] = ttl === undefined ? this.expiry : SessionStore.expiryOf(ttl);
    return (await this.cache.guarded((c) => (unit === 'EX' ? c.expire(full, amount) : c.pexpire(full, amount)), 0)) === 1;
  }

  /** Replaces the data of an existing session, keeping its TTL (SET XX KEEPTTL); false when it is gone. */
  async update(id: string, data: unknown): Promise<boolean> {
    const full = this.full(id);
    if (full === null) return false;
    const payload = dumps(data);
    return (await this.cache.guarded((c) => c.set(full, payload, 'KEEPTTL', 'XX'), null)) === 'OK';
  }

  /** Deletes the session; true when it existed. */
  async destroy(id: string): Promise<boolean> {
    const full = this.full(id);
    if (full === null) return false;
    return (await this.cache.guarded((c) => c.del(full), 0)) === 1;
  }
}
