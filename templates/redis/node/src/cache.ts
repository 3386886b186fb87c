/**
 * The Node cache client on ioredis: the same API meaning, keys, value format, failure behaviour and health payload
 * as the Python runtime (docs/cache-contract.md).
 *
 * Fail-open: connection errors and timeouts make reads return the default and writes return false; they are
 * counted, and a circuit breaker keeps calls instant while Redis is away. Caller errors (undefined values, a
 * negative TTL, WRONGTYPE) still throw.
 */
import fs from 'fs';
import Redis, { ReplyError, type RedisOptions } from 'ioredis';
import { CircuitBreaker } from './breaker';
import { maskedUrl, settingsFromEnv, type RedisSettings } from './config';
import { MODULE, VERSION } from './defaults';
import { Metrics } from './metrics';
import { dumps, escapeGlob, loads, ttlArgs } from './serialization';

export const FEATURES = [
  'redis.ioredis-client',
  'cache.fail-open',
  'cache.circuit-breaker',
  'cache.single-flight',
  'cache.delete-pattern-scan',
  'cache.rate-limit-lua',
  'metrics.prometheus',
  'nestjs.module',
  'fastify.plugin',
  'health.route',
];

const RATE_LIMIT_LUA = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); pttl = tonumber(ARGV[1]) end
return {current, pttl}
`;
const SCAN_COUNT = 1000;
const UNLINK_BATCH = 500;
/** Redis replies that mean "not serving right now" rather than "your command is wrong". */
const INFRA_REPLIES = /^(READONLY|LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|NOAUTH|WRONGPASS|NOPERM|BUSY)\b/;

export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  /** seconds until the window resets */
  resetAfter: number;
  count: number;
}

export interface HealthPayload {
  status: 'ok' | 'fail';
  module: string;
  version: string;
  latency?: { ping_ms: number };
  pool?: { active: number; idle: number; max: number };
  detail?: string;
  connection: { host: string; port: number; db: number; use_tls: boolean };
  breaker: { state: string; failures: number };
  checked_at: string;
}

export interface RedisMetadata {
  module: string;
  version: string;
  url: string;
  connection: { host: string; port: number; db: number; use_tls: boolean };
  retry: { preconnect: boolean; attempts: number; backoff_base: number };
  cache_ttl: number;
  key_prefix: string;
  pool: { max_connections: number; socket_timeout: number; connect_timeout: number };
  breaker: { threshold: number; reset_timeout: number };
  features: string[];
}

/** Resolved configuration for dashboards and diagnostics; the password is masked, no secret anywhere. */
export function getRedisMetadata(settings: RedisSettings = settingsFromEnv()): RedisMetadata {
  const s = settings;
  return {
    module: MODULE,
    version: VERSION,
    url: maskedUrl(s),
    connection: { host: s.host, port: s.port, db: s.db, use_tls: s.useTls },
    retry: { preconnect: s.preconnect, attempts: s.retries, backoff_base: s.backoff },
    cache_ttl: s.cacheTtl,
    key_prefix: s.keyPrefix,
    pool: { max_connections: s.maxConnections, socket_timeout: s.socketTimeout, connect_timeout: s.connectTimeout },
    breaker: { threshold: s.breakerThreshold, reset_timeout: s.breakerResetTimeout },
    features: [...FEATURES],
  };
}

/** ioredis options for a cache: lazy, bounded, jittered, never stalling the app. */
export function ioredisOptions(s: RedisSettings): RedisOptions {
  const options: RedisOptions = {
    host: s.host,
    port: s.port,
    db: s.db,
    username: s.username ?? undefined,
    password: s.password ?? undefined,
    connectionName: s.clientName ?? undefined,
    lazyConnect: true,
    connectTimeout: Math.ceil(s.connectTimeout * 1000),
    commandTimeout: Math.ceil(s.socketTimeout * 1000),
    maxRetriesPerRequest: s.retries,
    keepAlive: 30_000,
    enableOfflineQueue: true, // switched off once ready: commands then fail fast while reconnecting
    retryStrategy: (times: number) => Math.min(Math.max(s.backoff, 0.01) * 1000 * 2 ** Math.min(times, 10), 2000) + Math.floor(Math.random() * 100),
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
  };
  if (s.useTls) {
    options.tls = {
      ca: s.tlsCaFile ? fs.readFileSync(s.tlsCaFile) : undefined,
      cert: s.tlsCertFile ? fs.readFileSync(s.tlsCertFile) : undefined,
      key: s.tlsKeyFile ? fs.readFileSync(s.tlsKeyFile) : undefined,
      servername: s.host,
      rejectUnauthorized: true,
      ...(s.tlsCheckHostname ? {} : { checkServerIdentity: () => undefined }),
    };
  }
  return options;
}

function isInfraError(err: unknown): boolean {
  if (err instanceof ReplyError) return INFRA_REPLIES.test((err as Error).message);
  return true; // connection closed, timeouts, MaxRetriesPerRequestError, socket errors
}

type Fallback = { readonly ok: false };
const FAILED: Fallback = { ok: false };

export class RedisCache {
  readonly settings: RedisSettings;
  readonly prefix: string;
  readonly breaker: CircuitBreaker;
  readonly metrics = new Metrics();
  /** The raw ioredis client, for commands the cache API does not cover. */
  readonly client: Redis;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly deadlineMs: number;
  private lastWarning = 0;
  private closed = false;

  constructor(settings: RedisSettings = settingsFromEnv(), client?: Redis) {
    this.settings = settings;
    this.prefix = settings.keyPrefix;
    this.breaker = new CircuitBreaker(settings.breakerThreshold, settings.breakerResetTimeout * 1000);
    this.deadlineMs = Math.ceil((Math.max(settings.socketTimeout, settings.connectTimeout) * 2 + settings.backoff * settings.retries) * 1000);
    this.client = client ?? new Redis(ioredisOptions(settings));
    this.client.on('error', (err: Error) => this.warn(err)); // always attached: an unhandled 'error' would crash the app
    this.client.on('ready', () => {
      this.client.options.enableOfflineQueue = false;
    });
    this.client.defineCommand('rapidkitRateLimit', { numberOfKeys: 1, lua: RATE_LIMIT_LUA });
  }

  private key(k: string): string {
    if (typeof k !== 'string' || k === '') throw new TypeError(`cache keys are non-empty strings, got ${JSON.stringify(k)}`);
    return this.prefix + k;
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    const msg = err instanceof Error ? err.message : String(err);
    const safe = this.settings.password ? msg.split(this.settings.password).join('***') : msg;
    console.warn(`[rapidkit.redis] redis unavailable (${safe}) at ${maskedUrl(this.settings)}; serving without cache (breaker ${this.breaker.state})`);
  }

  private failed(err: unknown): Fallback {
    this.metrics.errors += 1;
    this.metrics.fallbacks += 1;
    this.breaker.failure();
    this.warn(err);
    return FAILED;
  }

  /** Runs a command under the breaker and the deadline; FAILED when Redis is unreachable. */
  private async call<T>(fn: (c: Redis) => Promise<T>): Promise<T | Fallback> {
    if (!this.breaker.allow()) {
      this.metrics.fallbacks += 1;
      return FAILED;
    }
    const started = performance.now();
    try {
      const pending = fn(this.client);
      // when ready, ioredis' commandTimeout bounds the call; before that (offline queue) our own deadline does
      const result = this.client.status === 'ready' ? await pending : await this.withDeadline(pending, this.deadlineMs);
      this.breaker.success();
      return result;
    } catch (err) {
      if (!isInfraError(err)) {
        this.breaker.success(); // Redis answered: the caller's mistake, not an outage
        throw err;
      }
      return this.failed(err);
    } finally {
      this.metrics.observe((performance.now() - started) / 1000);
    }
  }

  private withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis call exceeded its ${ms} ms deadline`)), ms);
    });
    p.catch(() => undefined); // a late rejection after the deadline must not be unhandled
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private count(found: boolean): void {
    if (found) this.metrics.hits += 1;
    else this.metrics.misses += 1;
  }

  /** PING now (used at start-up when REDIS_PRECONNECT is on). Never throws. */
  async connect(): Promise<boolean> {
    return (await this.call((c) => c.ping())) !== FAILED;
  }

  async get<T = unknown>(key: string, defaultValue: T | null = null): Promise<T | null> {
    const raw = await this.call((c) => c.get(this.key(key)));
    if (raw === FAILED) return defaultValue;
    this.count(raw !== null);
    return raw === null ? defaultValue : (loads(raw as string) as T);
  }

  async set(key: string, value: unknown, ttlSeconds?: number): Promise<boolean> {
    const full = this.key(key);
    const data = dumps(value);
    const args = ttlArgs(ttlSeconds, this.settings.cacheTtl);
    const res = await this.call((c) => (args.length ? c.set(full, data, args[0] as 'EX', args[1]) : c.set(full, data)));
    return res === 'OK';
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const full = keys.map((k) => this.key(k));
    const res = await this.call((c) => c.del(...full));
    return res === FAILED ? 0 : (res as number);
  }

  async exists(key: string): Promise<boolean> {
    const res = await this.call((c) => c.exists(this.key(key)));
    return res !== FAILED && (res as number) > 0;
  }

  /** Sets a key's TTL in seconds; 0 removes the expiry (PERSIST), like set(). */
  async expire(key: string, ttlSeconds: number): Promise<boolean> {
    const full = this.key(key);
    const args = ttlArgs(ttlSeconds, this.settings.cacheTtl);
    if (args.length === 0) {
      const res = await this.call((c) => c.persist(full));
      return res !== FAILED && ((res as number) === 1 || (await this.exists(key)));
    }
    const res = await this.call((c) => (args[0] === 'EX' ? c.expire(full, args[1]) : c.pexpire(full, args[1])));
    return res !== FAILED && (res as number) === 1;
  }

  /** Seconds left; -1 no expiry; -2 missing; null when Redis is unreachable. */
  async ttl(key: string): Promise<number | null> {
    const res = await this.call((c) => c.ttl(this.key(key)));
    return res === FAILED ? null : (res as number);
  }

  async incr(key: string, amount = 1): Promise<number | null> {
    const res = await this.call((c) => c.incrby(this.key(key), amount));
    return res === FAILED ? null : (res as number);
  }

  /** One round trip (MGET); returns the hits only. */
  async getMany<T = unknown>(keys: string[]): Promise<Record<string, T>> {
    if (keys.length === 0) return {};
    const full = keys.map((k) => this.key(k));
    const values = await this.call((c) => c.mget(...full));
    const out: Record<string, T> = {};
    if (values === FAILED) return out;
    (values as Array<string | null>).forEach((raw, i) => {
      this.count(raw !== null);
      if (raw !== null) out[keys[i]!] = loads(raw) as T;
    });
    return out;
  }

  /** Pipelined SETs (one round trip); true when every key was written. */
  async setMany(entries: Record<string, unknown>, ttlSeconds?: number): Promise<boolean> {
    const items = Object.entries(entries).map(([k, v]) => [this.key(k), dumps(v)] as const);
    if (items.length === 0) return true;
    const args = ttlArgs(ttlSeconds, this.settings.cacheTtl);
    const res = await this.call(async (c) => {
      const pipe = c.pipeline();
      for (const [full, data] of items) {
        if (args.length) pipe.set(full, data, args[0] as 'EX', args[1]);
        else pipe.set(full, data);
      }
      const out = (await pipe.exec()) ?? [];
      const error = out.find(([e]) => e)?.[0];
      if (error) throw error;
      return out.every(([, r]) => r === 'OK');
    });
    return res === true;
  }

  /** SCAN (never KEYS) within the key prefix, UNLINK in batches; returns how many keys were removed. */
  async deletePattern(pattern: string): Promise<number> {
    const match = escapeGlob(this.prefix) + pattern;
    let cursor = '0';
    let removed = 0;
    do {
      const res = await this.call((c) => c.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT));
      if (res === FAILED) return removed;
      const [next, found] = res as [string, string[]];
      cursor = next;
      for (let i = 0; i < found.length; i += UNLINK_BATCH) {
        const batch = found.slice(i, i + UNLINK_BATCH);
        const n = await this.call((c) => c.unlink(...batch));
        if (n === FAILED) return removed;
        removed += n as number;
      }
    } while (cursor !== '0');
    return removed;
  }

  /** Cache-aside with in-process single-flight: concurrent callers of a cold key share one loader run. */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, ttlSeconds?: number): Promise<T> {
    const pending = this.inflight.get(key);
    if (pending) return pending as Promise<T>;
    const run = (async () => {
      try {
        const raw = await this.call((c) => c.get(this.key(key)));
        if (raw !== FAILED) this.count(raw !== null);
        if (raw !== FAILED && raw !== null) return loads(raw as string) as T;
        const value = await loader();
        await this.set(key, value === undefined ? null : value, ttlSeconds);
        return value;
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, run);
    return run;
  }

  /** Fixed window, atomic (one Lua script). Fails open (allowed) when Redis is unreachable. */
  async rateLimit(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
    if (!(limit >= 1) || !(windowSeconds > 0)) throw new RangeError('rateLimit needs limit >= 1 and windowSeconds > 0');
    const full = this.key(`ratelimit:${key}`);
    const windowMs = Math.max(1, Math.floor(windowSeconds * 1000));
    const res = await this.call((c) => (c as unknown as { rapidkitRateLimit(k: string, w: number): Promise<[number, number]> }).rapidkitRateLimit(full, windowMs));
    if (res === FAILED) return { allowed: true, remaining: limit, resetAfter: 0, count: 0 };
    const [count, pttl] = (res as [number, number]).map(Number) as [number, number];
    return { allowed: count <= limit, remaining: Math.max(0, limit - count), resetAfter: pttl / 1000, count };
  }

  /** PING with a deadline; always answers (never hangs). */
  async healthCheck(timeoutMs = Math.min(this.deadlineMs, 2000)): Promise<HealthPayload> {
    const started = performance.now();
    const base = () => ({
      module: MODULE,
      version: VERSION,
      connection: { host: this.settings.host, port: this.settings.port, db: this.settings.db, use_tls: this.settings.useTls },
    });
    try {
      await this.withDeadline(this.client.ping(), timeoutMs);
      this.breaker.success();
      const ready = this.client.status === 'ready' ? 1 : 0;
      return {
        status: 'ok',
        ...base(),
        latency: { ping_ms: Math.round((performance.now() - started) * 1000) / 1000 },
        pool: { active: ready, idle: 0, max: 1 },
        breaker: this.breaker.snapshot(),
        checked_at: new Date().toISOString(),
      };
    } catch (err) {
      this.failed(err);
      const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const detail = (this.settings.password ? msg.split(this.settings.password).join('***') : msg).slice(0, 200);
      return { status: 'fail', ...base(), detail, breaker: this.breaker.snapshot(), checked_at: new Date().toISOString() };
    }
  }

  stats() {
    return { ...this.metrics.snapshot(), breaker: this.breaker.snapshot() };
  }

  renderPrometheus(): string {
    return this.metrics.renderPrometheus(this.breaker.state);
  }

  metadata(): RedisMetadata {
    return getRedisMetadata(this.settings);
  }

  /** QUIT (or disconnect when Redis is away). Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.client.status === 'ready') await this.withDeadline(this.client.quit(), 1000);
    } catch {
      /* shutting down during an outage must not fail the shutdown */
    } finally {
      this.client.disconnect();
    }
  }
}
