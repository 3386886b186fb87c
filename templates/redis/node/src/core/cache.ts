/**
 * The Node cache client on ioredis: the same API meaning, keys, value format, failure behaviour and health payload
 * as the Python runtime (docs/cache-contract.md).
 *
 * Fail-open: connection errors, timeouts and "not serving" replies (LOADING, BUSY, READONLY, OOM, NOAUTH,
 * WRONGPASS, ...) make reads return the default and writes return false; they are counted, and a circuit breaker
 * keeps calls instant while Redis is away. Caller errors (undefined values, a negative TTL, WRONGTYPE, NOPERM) still
 * throw. The failure table: docs/cache-contract.md.
 */
import fs from 'fs';
import net from 'net';
import Redis, { Cluster, ReplyError, SentinelConnector, type ClusterOptions, type RedisOptions } from 'ioredis';
// ioredis' own connector for a single node (not re-exported by its index; the same file in ioredis 5 and 6)
import StandaloneConnector from 'ioredis/built/connectors/StandaloneConnector';
import { CircuitBreaker } from './breaker';
import { checkTopology, maskedUrl, modeOf, parseAddress, settingsFromEnv, type RedisMode, type RedisSettings } from './config';
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
/**
 * Redis replies that mean "not serving right now" (fail open) rather than "your command is wrong" (throw).
 * NOPERM is a configuration error and throws, as in Python; a wrong password never connects (fail open, logged).
 */
const INFRA_REPLIES = /^(READONLY|LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|NOAUTH|WRONGPASS|BUSY|OOM|MISCONF|NOREPLICAS)\b|^ERR max number of clients reached/;
/** The health probe writes this key (under the prefix, 10 s TTL): OOM, READONLY and MISCONF refuse writes only. */
const HEALTH_KEY = 'rapidkit:health';
/** The health probe's own bound, so the route answers within 500 ms (Kubernetes' default probe timeout is 1 s). */
const HEALTH_TIMEOUT_MS = 400;
/** ioredis' texts for "not connected right now": the health detail names the connection error instead. */
const NOT_CONNECTED = /Stream isn't writeable|Connection is closed|max retries per request|enableOfflineQueue|Cluster isn't ready/i;
/** Slots of a Redis Cluster (CLUSTER INFO cluster_slots_ok must reach this for the cache to serve every key). */
const CLUSTER_SLOTS = 16384;

/** The raw ioredis client: a Redis (standalone, Sentinel) or a Cluster (cluster mode); both share the command API. */
export type RedisClient = Redis | Cluster;

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/**
 * The Redis Cluster hash slot of a key (CRC16/XMODEM of the key or its {hash tag}, mod 16384), as the server and
 * ioredis compute it. Only used to group a multi-key call per node; ioredis still routes (MOVED/ASK) every command.
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  const bytes = Buffer.from(key, 'utf8');
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc % CLUSTER_SLOTS;
}

export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  /** seconds until the window resets */
  resetAfter: number;
  count: number;
}

/** Where the cache connects (never a secret): one server, the cluster's seed nodes, or the sentinels and master name. */
export type HealthConnection =
  | { host: string; port: number; db: number; use_tls: boolean }
  | { mode: 'cluster'; nodes: string[]; use_tls: boolean }
  | { mode: 'sentinel'; sentinels: string[]; master_name: string; db: number; use_tls: boolean };

/** Cluster mode: the cluster as the reachable masters report it (docs/modules/redis/health.md). */
export interface ClusterHealth {
  /** cluster_state from CLUSTER INFO ('ok', 'fail'), 'unknown' when no master answered */
  state: string;
  slots_covered: number;
  slots_total: number;
  masters_reachable: number;
  masters_total: number;
  masters: Array<{ address: string; ok: boolean; latency_ms: number | null }>;
}

/** Sentinel mode: the master the sentinels name and how many of them answered. */
export interface SentinelHealth {
  master_name: string;
  master: string | null;
  sentinels_reachable: number;
  sentinels_total: number;
}

export interface HealthPayload {
  status: 'ok' | 'fail';
  module: string;
  version: string;
  mode: RedisMode;
  latency?: { ping_ms: number };
  pool?: { active: number; idle: number; max: number };
  detail?: string;
  connection: HealthConnection;
  cluster?: ClusterHealth;
  sentinel?: SentinelHealth;
  breaker: { state: string; failures: number };
  checked_at: string;
}

export interface RedisMetadata {
  module: string;
  version: string;
  /** standalone, cluster or sentinel (as in the health payload) */
  mode: RedisMode;
  url: string;
  /** in cluster/Sentinel mode it names the mode (`connection.mode`), as in the health payload */
  connection: HealthConnection;
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
    mode: modeOf(s),
    url: maskedUrl(s),
    connection: connectionOf(s),
    retry: { preconnect: s.preconnect, attempts: s.retries, backoff_base: s.backoff },
    cache_ttl: s.cacheTtl,
    key_prefix: s.keyPrefix,
    pool: { max_connections: s.maxConnections, socket_timeout: s.socketTimeout, connect_timeout: s.connectTimeout },
    breaker: { threshold: s.breakerThreshold, reset_timeout: s.breakerResetTimeout },
    features: [...FEATURES],
  };
}

/** The health/metadata `connection` object of these settings (no secret). */
export function connectionOf(s: RedisSettings): HealthConnection {
  const mode = modeOf(s);
  if (mode === 'cluster') return { mode, nodes: [...(s.clusterNodes ?? [])], use_tls: s.useTls };
  if (mode === 'sentinel') return { mode, sentinels: [...(s.sentinels ?? [])], master_name: s.sentinelMaster ?? '', db: s.db, use_tls: s.useTls };
  return { host: s.host, port: s.port, db: s.db, use_tls: s.useTls };
}

function tlsOptions(s: RedisSettings, host: string | null): NonNullable<RedisOptions['tls']> {
  return {
    ca: s.tlsCaFile ? fs.readFileSync(s.tlsCaFile) : undefined,
    cert: s.tlsCertFile ? fs.readFileSync(s.tlsCertFile) : undefined,
    key: s.tlsKeyFile ? fs.readFileSync(s.tlsKeyFile) : undefined,
    servername: host && !net.isIP(host) ? host : undefined, // SNI takes names only
    rejectUnauthorized: true,
    ...(s.tlsCheckHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}

/** Reconnect delay: exponential from the backoff base, capped at 1 s (+ jitter), so the cache is back within about a second. */
function reconnectDelay(s: RedisSettings): (times: number) => number {
  return (times: number) => Math.min(Math.max(s.backoff, 0.01) * 1000 * 2 ** Math.min(times, 10), 1000) + Math.floor(Math.random() * 100);
}

/**
 * ioredis Cluster options for cluster mode (REDIS_CLUSTER_NODES): the per-node options of a single server (auth,
 * TLS, timeouts) plus bounded redirections, quick retries on CLUSTERDOWN/TRYAGAIN/failover and a slot table
 * refreshed every second, so a promoted replica serves within about a second of its promotion.
 */
export function ioredisClusterOptions(s: RedisSettings): ClusterOptions {
  const node = ioredisOptions({ ...s, clusterNodes: [], sentinels: [], unixSocketPath: null });
  delete node.host;
  delete node.port;
  delete node.db;
  delete node.tls;
  delete node.retryStrategy; // the cluster reconnects its nodes itself (clusterRetryStrategy)
  delete node.reconnectOnError;
  delete node.lazyConnect;
  delete node.enableOfflineQueue; // nodes keep ioredis' queue (bounded by commandTimeout); the cluster's own is switched off once ready
  const redisOptions: RedisOptions = { ...node };
  if (s.useTls) redisOptions.tls = tlsOptions(s, null);
  return {
    redisOptions,
    lazyConnect: true,
    enableOfflineQueue: true, // switched off once ready, as for a single server
    enableReadyCheck: true,
    scaleReads: 'master', // a cache reads its own writes: never a lagging replica
    maxRedirections: 16,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    retryDelayOnMoved: 0,
    slotsRefreshTimeout: Math.max(Math.ceil(s.connectTimeout * 1000), 200),
    slotsRefreshInterval: 1000,
    clusterRetryStrategy: reconnectDelay(s),
    // TLS with names: keep the name (certificates name hosts, not the addresses they resolve to)
    ...(s.useTls ? { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) } : {}),
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
    // the ready check waits while Redis is LOADING (calls fall back at their deadline meanwhile): re-check often, so
    // the cache is back soon after the load ends. (Turning the ready check off leaves ioredis 5 "ready" on a closed
    // stream when a peer accepts and closes: it never reconnects.)
    maxLoadingRetryTime: 500,
    // capped at 1 s (+ jitter) so the cache is back within about a second of Redis
    retryStrategy: reconnectDelay(s),
    // a failover turned the node into a replica: reconnect (to the new primary behind the name); this call falls back
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 1 : false),
  };
  if (modeOf(s) === 'sentinel') {
    // ioredis asks the sentinels for the master's address on every (re)connect, so it follows a failover
    delete options.host;
    delete options.port;
    options.sentinels = (s.sentinels ?? []).map((e) => parseAddress('REDIS_SENTINELS', e));
    options.name = s.sentinelMaster ?? undefined;
    options.role = 'master';
    options.sentinelUsername = s.sentinelUsername ?? undefined;
    options.sentinelPassword = s.sentinelPassword ?? undefined;
    options.sentinelRetryStrategy = reconnectDelay(s);
    options.sentinelCommandTimeout = Math.ceil(s.connectTimeout * 1000);
    options.failoverDetector = true; // +switch-master from the sentinels: reconnect to the new master at once
    if (s.useTls) {
      options.tls = tlsOptions(s, null);
      options.enableTLSForSentinelMode = true; // TLS to the data nodes; the sentinels are spoken to in plaintext
    }
  } else if (s.unixSocketPath) {
    // unix:// URL: ioredis connects to the socket path instead of host/port
    options.path = s.unixSocketPath;
    delete options.host;
    delete options.port;
  } else if (s.useTls) {
    options.tls = tlsOptions(s, s.host);
  }
  // (cluster mode takes these options for every node: its nodes are guarded too)
  options.Connector = modeOf(s) === 'sentinel' ? GuardedSentinelConnector : GuardedStandaloneConnector;
  return options;
}

/**
 * ioredis listens to a connection's errors with `once`, so a second 'error' event on the same socket is an uncaught
 * exception that ends the app (ioredis#635, "sentinel connect unhandled error"). CI met one in Sentinel mode: a TLS
 * master refusing the client (the certificate check failed, then the server's alert arrived). The runtime therefore
 * gives ioredis its own connectors, each keeping an error listener on every stream it opens: the first error still
 * reaches ioredis, which reconnects as usual; a later one on a socket already given up is dropped.
 */
const keepListening = <T extends NodeJS.EventEmitter>(stream: T): T => stream.on('error', () => undefined);

class GuardedStandaloneConnector extends StandaloneConnector {
  constructor(options: unknown) {
    super(options as ConstructorParameters<typeof StandaloneConnector>[0]); // (ioredis hands a connector its options untyped)
  }

  override async connect(eventEmitter: Parameters<StandaloneConnector['connect']>[0]): ReturnType<StandaloneConnector['connect']> {
    return keepListening(await super.connect(eventEmitter));
  }
}

class GuardedSentinelConnector extends SentinelConnector {
  constructor(options: unknown) {
    super(options as ConstructorParameters<typeof SentinelConnector>[0]);
  }

  override async connect(eventEmitter: Parameters<SentinelConnector['connect']>[0]): ReturnType<SentinelConnector['connect']> {
    return keepListening(await super.connect(eventEmitter));
  }
}

/** A new client for these settings: an ioredis Cluster in cluster mode, else an ioredis Redis (Sentinel-aware). */
export function createClient(s: RedisSettings): RedisClient {
  if (modeOf(s) === 'cluster') {
    return new Cluster(
      (s.clusterNodes ?? []).map((e) => parseAddress('REDIS_CLUSTER_NODES', e)),
      ioredisClusterOptions(s),
    );
  }
  return new Redis(ioredisOptions(s));
}

function isReplyError(err: unknown): err is Error {
  return err instanceof ReplyError || (err instanceof Error && err.name === 'ReplyError');
}

/** Connection errors, timeouts, MaxRetriesPerRequestError, socket/TLS errors and "not serving" replies. */
function isInfraError(err: unknown): boolean {
  if (isReplyError(err)) return INFRA_REPLIES.test(err.message);
  return true;
}

/** Where the runtime reports a Redis outage (at most once every 10 s). Default: console.warn. */
export interface RedisLogger {
  warn(message: string, fields: Record<string, unknown>): void;
}

export interface RedisCacheOptions {
  /** Use this ioredis client (Redis or Cluster) instead of building one from the settings (its options are left as they are). */
  client?: RedisClient;
  logger?: RedisLogger;
}

/** Raw INFO sections and DBSIZE, for dashboards (getCacheStats in Fastify). */
export interface ServerInfo {
  memory: string;
  keyspace: string;
  server: string;
  dbsize: number;
}

const consoleLogger: RedisLogger = {
  warn: (message) => console.warn(`[rapidkit.redis] ${message}`),
};

type Fallback = { readonly ok: false };
const FAILED: Fallback = { ok: false };

export class RedisCache {
  readonly settings: RedisSettings;
  readonly prefix: string;
  readonly breaker: CircuitBreaker;
  readonly metrics = new Metrics();
  /**
   * The raw ioredis client, for commands the cache API does not cover (keys are NOT prefixed there): an ioredis
   * Cluster in cluster mode, else an ioredis Redis.
   */
  readonly client: RedisClient;
  /** standalone, cluster (REDIS_CLUSTER_NODES) or sentinel (REDIS_SENTINELS + REDIS_SENTINEL_MASTER). */
  readonly mode: RedisMode;
  /** Cluster mode: the client as a Cluster (null otherwise). */
  private readonly cluster: Cluster | null;
  /** Sentinel mode: one connection per sentinel for the health probe, opened on the first health check. */
  private sentinelClients: Redis[] | null = null;
  /** One call's bound in cluster mode (ioredis retries CLUSTERDOWN/TRYAGAIN/failovers inside it). */
  private readonly callMs: number;
  /** Upper bound of one cache call before the first connection (afterwards ioredis' commandTimeout bounds it). */
  readonly deadlineMs: number;
  /** What a call may wait before the connection is ready: one connect or one reply, whichever is longer. */
  private readonly connectingMs: number;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly logger: RedisLogger;
  private lastWarning = 0;
  /** The last connection-level error (ECONNREFUSED, TLS, auth, ...): a better health detail than ioredis' queue message. */
  private lastConnectionError: Error | null = null;
  /** Why the last cache call fell back (the health detail while the breaker is open). */
  /** The error of the last failed call, described when health is asked (see `probeData`). */
  private lastFailure: unknown = null;
  private errorSinceConnect = false;
  private closed = false;

  constructor(settings: RedisSettings = settingsFromEnv(), options: RedisCacheOptions = {}) {
    checkTopology(settings);
    this.settings = settings;
    this.mode = modeOf(settings);
    this.metrics.mode = this.mode;
    this.prefix = settings.keyPrefix;
    this.logger = options.logger ?? consoleLogger;
    // connect, then at most retries + 1 attempts each bounded by the connect and socket timeouts, with backoff
    this.deadlineMs = Math.ceil(
      (settings.connectTimeout + (settings.retries + 1) * (settings.connectTimeout + settings.socketTimeout) + settings.backoff * 8 * settings.retries) * 1000,
    );
    this.connectingMs = Math.ceil(Math.max(settings.connectTimeout, settings.socketTimeout) * 1000);
    this.breaker = new CircuitBreaker(settings.breakerThreshold, settings.breakerResetTimeout * 1000, this.deadlineMs);
    this.callMs = Math.ceil(settings.socketTimeout * 1000);
    this.client = options.client ?? createClient(settings);
    this.cluster = this.client instanceof Cluster ? this.client : null;
    // always attached: an 'error' event without a listener would crash the process
    this.client.on('error', (err: Error) => {
      // keep the server's own words ("ERR max number of clients reached") over the socket error that follows them,
      // and the master's own failure (refused, TLS handshake) over ioredis' round-up of it: having tried the master
      // each sentinel named, ioredis says "All sentinels are unreachable" although every sentinel answered
      const keep =
        (this.errorSinceConnect && isReplyError(this.lastConnectionError)) ||
        (this.lastConnectionError !== null && err.message.startsWith('All sentinels are unreachable'));
      if (!keep) this.lastConnectionError = err;
      this.errorSinceConnect = true;
      this.warn(err);
    });
    this.client.on('connect', () => {
      this.errorSinceConnect = false;
    });
    // a peer that accepts and closes (a proxy without backend, plaintext to a TLS port) raises no 'error'
    this.client.on('close', () => {
      if (!this.closed && !this.errorSinceConnect) {
        this.lastConnectionError = Object.assign(new Error(`connection to ${this.where()} closed by the server`), { code: 'ECONNCLOSED' });
      }
    });
    const own = options.client === undefined;
    const single = this.client instanceof Cluster ? null : this.client;
    const reconnectOnError = single?.options.reconnectOnError;
    if (own && single && reconnectOnError) {
      // a READONLY reply makes ioredis reconnect and flush its queue: keep the reply as the reason, not the flush
      single.options.reconnectOnError = (err: Error) => {
        const decision = reconnectOnError(err);
        if (decision) this.lastConnectionError = err;
        return decision;
      };
    }
    if (this.cluster) {
      // a node's own errors (a master killed, refused connections) come here, not as 'error': keep the reason
      this.cluster.on('node error', (err: Error, address?: string) => {
        this.lastConnectionError = address ? Object.assign(new Error(`${address}: ${err.message}`), { code: (err as NodeJS.ErrnoException).code }) : err;
      });
    }
    this.client.on('ready', () => {
      // from now on a command while disconnected fails at once instead of waiting in the offline queue
      if (own) this.client.options.enableOfflineQueue = false;
      // Redis is back: the next call probes now instead of waiting out the breaker's reset timeout
      if (this.breaker.state === 'open') this.breaker.release();
    });
    this.client.defineCommand('rapidkitRateLimit', { numberOfKeys: 1, lua: RATE_LIMIT_LUA });
  }

  /** The stored key: prefix + key. Throws TypeError (a caller error) for anything but a non-empty string. */
  key(k: string): string {
    if (typeof k !== 'string' || k === '') throw new TypeError(`cache keys are non-empty strings, got ${JSON.stringify(k)}`);
    return this.prefix + k;
  }

  private mask(text: string): string {
    return this.settings.password ? text.split(this.settings.password).join('***') : text;
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    const error = this.mask(err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 200);
    const url = maskedUrl(this.settings);
    try {
      this.logger.warn(`redis unavailable (${error}) at ${url}; serving without cache (breaker ${this.breaker.state})`, { module: MODULE, url, error, breaker: this.breaker.state });
    } catch {
      /* a broken logger must not break the cache */
    }
  }

  /** Where the cache connects, for messages: host:port, the cluster's nodes, or the Sentinel master name. */
  private where(): string {
    const s = this.settings;
    if (this.mode === 'cluster') return `the cluster (${(s.clusterNodes ?? []).join(',')})`;
    if (this.mode === 'sentinel') return `master '${s.sentinelMaster ?? ''}' via sentinels ${(s.sentinels ?? []).join(',')}`;
    return `${s.host}:${s.port}`;
  }

  private failed(err: unknown): Fallback {
    this.metrics.errors += 1;
    this.metrics.fallbacks += 1;
    this.breaker.failure();
    this.lastFailure = err;
    this.warn(err);
    return FAILED;
  }

  /** A clear, secret-free one-line reason; ioredis' own texts often say little ("Stream isn't writeable ..."). */
  private describe(err: unknown, nested = false, at?: string): string {
    const s = this.settings;
    const where = at ?? this.where();
    const e = err instanceof Error ? err : new Error(String(err));
    const code = String((e as NodeJS.ErrnoException).code ?? '');
    const last = this.lastConnectionError;
    let text: string;
    if (isReplyError(err)) {
      text = `ReplyError: ${e.message}`;
    } else if (
      last &&
      !nested &&
      last !== e &&
      // not connected, or a call that timed out while connections fail (maxclients, a refused TLS handshake): the
      // connection's error is the reason, the timeout its symptom (lastConnectionError is cleared by any success)
      (this.client.status !== 'ready' || NOT_CONNECTED.test(e.message) || /timed out/i.test(e.message))
    ) {
      return `${this.describe(last, true)} (not connected; ioredis ${this.client.status})`; // the reason, not the symptom
    } else if (NOT_CONNECTED.test(e.message) || e.name === 'MaxRetriesPerRequestError') {
      text = `ConnectionError: not connected to ${where} (ioredis ${this.client.status})`;
    } else if (code === 'ECONNREFUSED') {
      text = `ConnectionError: connection refused by ${where} (ECONNREFUSED)`;
    } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      text = `ConnectionError: cannot resolve host '${this.mode === 'standalone' ? s.host : where}' (${code})`;
    } else if (code === 'ECONNCLOSED' || code === 'ECONNRESET' || code === 'EPIPE') {
      // Redis at maxclients, a TLS port spoken to in plaintext or a proxy without backend: accepted, then closed
      const how = code === 'ECONNCLOSED' ? e.message : `connection to ${where} reset by the server (${code})`;
      text = `ConnectionError: ${how}${this.client.status === 'ready' ? '' : ' before it answered (maxclients reached, TLS expected, or no backend behind a proxy?)'}`;
    } else if (/CERT|SSL|TLS|ALTNAME|SELF_SIGNED/i.test(code) || /certificate|altnames|ssl|tls/i.test(e.message)) {
      text = `ConnectionError: TLS handshake with ${where} failed: ${e.message || code}`;
    } else if (/timed out|deadline/i.test(e.message) && this.client.status === 'connect') {
      text = `TimeoutError: connected to ${where}, but Redis has not answered its ready check (loading its dataset, busy or stalled)`;
    } else if (code === 'ETIMEDOUT' || /timed out|deadline/i.test(e.message)) {
      text = `TimeoutError: no reply from ${where} in time (${e.message || code})`;
    } else {
      text = `${e.name || 'Error'}: ${e.message || code || 'no detail given by ioredis'}`;
    }
    return this.mask(text).slice(0, 300);
  }

  /** Runs a command under the breaker and the deadline; FAILED when Redis is unreachable. */
  private async call<T>(fn: (c: RedisClient) => Promise<T>): Promise<T | Fallback> {
    if (!this.breaker.allow()) {
      this.metrics.fallbacks += 1;
      return FAILED;
    }
    const started = performance.now();
    let pending: Promise<T>;
    try {
      pending = fn(this.client);
    } catch (err) {
      this.breaker.release(); // a caller error before anything was sent: no verdict on Redis
      throw err;
    }
    try {
      // when ready, ioredis' commandTimeout bounds the call; before that, one connect or reply timeout does
      // in cluster mode ioredis retries CLUSTERDOWN, TRYAGAIN and failovers itself: the call's own deadline bounds that
      const ready = this.client.status === 'ready';
      const result = ready && !this.cluster ? await pending : await this.withDeadline(pending, ready ? this.callMs : this.connectingMs);
      this.breaker.success();
      this.lastConnectionError = null;
      return result;
    } catch (err) {
      if (!isInfraError(err)) {
        this.breaker.success(); // Redis answered: the caller's mistake (WRONGTYPE, NOPERM, ...), not an outage
        throw err;
      }
      return this.failed(err);
    } finally {
      this.metrics.observe((performance.now() - started) / 1000);
    }
  }

  private withDeadline<T>(p: Promise<T>, ms: number, what = 'redis call'): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} exceeded its ${ms} ms deadline`)), ms);
    });
    p.catch(() => undefined); // a late rejection after the deadline must not be unhandled
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private count(found: boolean): void {
    if (found) this.metrics.hits += 1;
    else this.metrics.misses += 1;
  }

  /**
   * Runs raw ioredis commands under the cache's failure handling (breaker, deadline, metrics, fail-open): their
   * result, or `fallback` when Redis is unreachable. Keys are not prefixed there (use key()); caller errors throw.
   */
  async guarded<T, F>(fn: (c: RedisClient) => Promise<T>, fallback: F): Promise<T | F> {
    const res = await this.call(fn);
    return res === FAILED ? fallback : (res as T);
  }

  /** PING now (used at start-up when REDIS_PRECONNECT is on). Never throws; false when Redis is unreachable. */
  async connect(): Promise<boolean> {
    return (await this.call((c) => c.ping())) !== FAILED;
  }

  /** The parsed value, or `defaultValue` on a miss or when Redis is unreachable. */
  async get<T = unknown>(key: string, defaultValue: T | null = null): Promise<T | null> {
    const full = this.key(key);
    const raw = await this.call((c) => c.get(full));
    if (raw === FAILED) return defaultValue;
    this.count(raw !== null);
    return raw === null ? defaultValue : (loads(raw as string) as T);
  }

  /**
   * The stored text exactly as Redis holds it (no JSON parsing), or null on a miss or when Redis is unreachable.
   * get() parses JSON and returns any other text unchanged; getRaw() also keeps JSON-looking text ('123') a string.
   */
  async getRaw(key: string): Promise<string | null> {
    const full = this.key(key);
    const raw = await this.call((c) => c.get(full));
    if (raw === FAILED) return null;
    this.count(raw !== null);
    return raw as string | null;
  }

  /** ttlSeconds: omitted = CACHE_TTL, 0 = no expiry, fractions in ms, negative = RangeError. False when Redis is unreachable. */
  async set(key: string, value: unknown, ttlSeconds?: number | null): Promise<boolean> {
    const full = this.key(key);
    const data = dumps(value);
    const args = ttlArgs(ttlSeconds, this.settings.cacheTtl);
    const res = await this.call((c) => (args.length ? c.set(full, data, args[0] as 'EX', args[1]) : c.set(full, data)));
    return res === 'OK';
  }

  /**
   * Cluster mode: the indexes of `full` grouped by the node serving their slot (ioredis' slot table), each group one
   * pipelined round trip; keys whose slot is not known yet (before the first connection) each go alone, routed by ioredis.
   */
  private groupByNode(slotOf: readonly number[]): number[][] {
    const slots = this.cluster!.slots;
    const groups = new Map<string, number[]>();
    const alone: number[][] = [];
    slotOf.forEach((slot, i) => {
      const node = slots[slot]?.[0];
      if (node === undefined) alone.push([i]);
      else {
        const g = groups.get(node);
        if (g) g.push(i);
        else groups.set(node, [i]);
      }
    });
    return [...groups.values(), ...alone];
  }

  /**
   * Cluster mode: one pipeline per node group, concurrently, each under the breaker and the deadline (a group whose
   * node fails falls back alone). Within a group, `bySlot` puts the keys of one slot into one command (MGET, DEL),
   * else one command per key. `add` queues the command of one unit (indexes into `full`); returns each unit's reply,
   * or FAILED for the units of a node that could not serve.
   */
  private async perNode(
    full: readonly string[],
    bySlot: boolean,
    add: (p: ReturnType<RedisClient['pipeline']>, unit: number[]) => void,
  ): Promise<Array<[number[], unknown]>> {
    const out: Array<[number[], unknown]> = [];
    const slotOf = full.map(keySlot);
    await Promise.all(
      this.groupByNode(slotOf).map(async (group) => {
        let units: number[][] = group.map((i) => [i]);
        if (bySlot && group.length > 1) {
          const slots = new Map<number, number[]>();
          for (const i of group) {
            const slot = slotOf[i]!;
            const u = slots.get(slot);
            if (u) u.push(i);
            else slots.set(slot, [i]);
          }
          units = [...slots.values()];
        }
        const res = await this.call(async (c) => {
          const pipe = c.pipeline();
          for (const u of units) add(pipe, u);
          const replies = (await pipe.exec()) ?? [];
          const error = replies.find(([e]) => e)?.[0];
          if (error) throw error;
          return replies.map(([, r]) => r);
        });
        units.forEach((u, j) => out.push([u, res === FAILED ? FAILED : (res as unknown[])[j]]));
      }),
    );
    return out;
  }

  /** Removes keys; the number removed (0 when Redis is unreachable). Cluster mode: grouped per node, pipelined. */
  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const full = keys.map((k) => this.key(k));
    if (this.cluster && full.length > 1) {
      const res = await this.perNode(full, true, (p, unit) => p.del(...unit.map((i) => full[i]!)));
      return res.reduce<number>((n, [, r]) => n + (r === FAILED ? 0 : Number(r)), 0);
    }
    const res = await this.call((c) => c.del(...full));
    return res === FAILED ? 0 : (res as number);
  }

  async exists(key: string): Promise<boolean> {
    const full = this.key(key);
    const res = await this.call((c) => c.exists(full));
    return res !== FAILED && (res as number) > 0;
  }

  /** Sets a key's TTL in seconds; 0 removes the expiry (PERSIST), like set(). False for a missing key. */
  async expire(key: string, ttlSeconds: number): Promise<boolean> {
    const full = this.key(key);
    if (ttlSeconds === undefined || ttlSeconds === null) throw new TypeError('expire needs a ttl in seconds');
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
    const full = this.key(key);
    const res = await this.call((c) => c.ttl(full));
    return res === FAILED ? null : (res as number);
  }

  /** INCRBY; the new value, or null when Redis is unreachable. WRONGTYPE/non-integer values throw. */
  async incr(key: string, amount = 1): Promise<number | null> {
    const full = this.key(key);
    if (!Number.isSafeInteger(amount)) throw new TypeError(`incr amount must be an integer, got ${amount}`);
    const res = await this.call((c) => c.incrby(full, amount));
    return res === FAILED ? null : (res as number);
  }

  /**
   * One round trip (MGET); returns the hits only ({} when Redis is unreachable). Cluster mode: one pipeline per node
   * (concurrently), hits in the caller's order; keys on a node that fails are misses (fail-open per node).
   */
  async getMany<T = unknown>(keys: readonly string[]): Promise<Record<string, T>> {
    if (keys.length === 0) return {};
    const full = keys.map((k) => this.key(k));
    if (this.cluster) {
      // MGET per slot (the same reply as one MGET: a non-string value is a miss, not WRONGTYPE)
      const values: Array<string | null | Fallback> = new Array(full.length).fill(FAILED);
      for (const [unit, r] of await this.perNode(full, true, (p, unit) => p.mget(...unit.map((i) => full[i]!)))) {
        unit.forEach((i, j) => (values[i] = r === FAILED ? FAILED : ((r as Array<string | null>)[j] ?? null)));
      }
      const out: Record<string, T> = {};
      values.forEach((raw, i) => {
        if (raw === FAILED) return;
        this.count(raw !== null);
        if (raw !== null) out[keys[i]!] = loads(raw as string) as T;
      });
      return out;
    }
    const values = await this.call((c) => c.mget(...full));
    const out: Record<string, T> = {};
    if (values === FAILED) return out;
    (values as Array<string | null>).forEach((raw, i) => {
      this.count(raw !== null);
      if (raw !== null) out[keys[i]!] = loads(raw) as T;
    });
    return out;
  }

  /** Pipelined SETs (one round trip; cluster mode: one per node, concurrently); true when every key was written. */
  async setMany(entries: Record<string, unknown>, ttlSeconds?: number | null): Promise<boolean> {
    const items = Object.entries(entries).map(([k, v]) => [this.key(k), dumps(v)] as const);
    if (items.length === 0) return true;
    const args = ttlArgs(ttlSeconds, this.settings.cacheTtl);
    if (this.cluster) {
      const res = await this.perNode(
        items.map(([full]) => full),
        false,
        (p, [i]) => {
          const [full, data] = items[i!]!;
          if (args.length) p.set(full, data, args[0] as 'EX', args[1]);
          else p.set(full, data);
        },
      );
      return res.every(([, r]) => r === 'OK');
    }
    const res = await this.call(async (c) => {
      const pipe = c.pipeline();
      for (const [full, data] of items) {
        if (args.length) pipe.set(full, data, args[0] as 'EX', args[1]);
        else pipe.set(full, data);
      }
      const out = (await pipe.exec()) ?? [];
      const error = out.find(([e]) => e)?.[0];
      if (error) throw error;
      return out.length === items.length && out.every(([, r]) => r === 'OK');
    });
    return res === true;
  }

  /**
   * SCAN (never KEYS) within the key prefix, UNLINK in batches of 500; returns how many keys were removed. Cluster
   * mode: the same on every master, concurrently, summed (a master that fails counts what it removed before).
   */
  async deletePattern(pattern: string): Promise<number> {
    if (typeof pattern !== 'string') throw new TypeError(`deletePattern needs a string pattern, got ${JSON.stringify(pattern)}`);
    const match = escapeGlob(this.prefix) + pattern;
    if (!this.cluster) return this.scanUnlink(this.client as Redis, match, false);
    if (this.cluster.status !== 'ready' && (await this.call((c) => c.ping())) === FAILED) return 0; // connects (slot table)
    const counts = await Promise.all(this.cluster.nodes('master').map((node) => this.scanUnlink(node, match, true)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** SCAN + UNLINK on one server; `perKey`: one UNLINK per key, pipelined (a cluster node refuses keys of several slots). */
  private async scanUnlink(node: Redis, match: string, perKey: boolean): Promise<number> {
    let cursor = '0';
    let removed = 0;
    do {
      const res = await this.call(() => node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT));
      if (res === FAILED) return removed;
      const [next, found] = res as [string, string[]];
      cursor = next;
      for (let i = 0; i < found.length; i += UNLINK_BATCH) {
        const batch = found.slice(i, i + UNLINK_BATCH);
        const n = await this.call(async () => {
          if (!perKey) return node.unlink(...batch);
          const pipe = node.pipeline();
          for (const k of batch) pipe.unlink(k);
          const replies = (await pipe.exec()) ?? [];
          const error = replies.find(([e]) => e && !/^MOVED|^ASK/.test((e as Error).message))?.[0];
          if (error) throw error;
          return replies.reduce((sum, [e, r]) => sum + (e ? 0 : Number(r)), 0); // a key migrated meanwhile: not ours to count
        });
        if (n === FAILED) return removed;
        removed += n as number;
      }
    } while (cursor !== '0');
    return removed;
  }

  /**
   * Cache-aside with in-process single-flight: concurrent callers of a cold key share one loader run (and its
   * error). A stored null is a hit; the loader's undefined is stored as null. Redis down = the loader's result.
   */
  async getOrSet<T>(key: string, loader: () => T | Promise<T>, ttlSeconds?: number | null): Promise<T> {
    const full = this.key(key);
    ttlArgs(ttlSeconds, this.settings.cacheTtl); // a bad ttl is the caller's error, before any loader runs
    if (typeof loader !== 'function') throw new TypeError('getOrSet needs a loader function');
    const pending = this.inflight.get(full);
    if (pending) return pending as Promise<T>;
    const run = (async () => {
      try {
        const raw = await this.call((c) => c.get(full));
        if (raw !== FAILED) this.count(raw !== null);
        if (raw !== FAILED && raw !== null) return loads(raw as string) as T;
        const value = await loader();
        await this.set(key, value === undefined ? null : value, ttlSeconds);
        return value;
      } finally {
        this.inflight.delete(full);
      }
    })();
    this.inflight.set(full, run);
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

  /**
   * PING + a short-lived write of the health key within `timeoutMs` (default 400 ms). While the breaker is open, or
   * while ioredis is reconnecting after a connection error, it answers at once from that state. Health probes are
   * not cache calls: they never count as errors or fallbacks and never move the breaker. Never throws.
   * Cluster mode adds `cluster` (every master probed concurrently, CLUSTER INFO/NODES), Sentinel mode `sentinel`
   * (every sentinel asked for the master concurrently), both within the same bound.
   */
  async healthCheck(timeoutMs = HEALTH_TIMEOUT_MS): Promise<HealthPayload> {
    const started = performance.now();
    const topology: Promise<{ cluster?: ClusterHealth; sentinel?: SentinelHealth; problem: string | null }> =
      this.mode === 'cluster'
        ? this.probeCluster(started, timeoutMs).catch(() => ({ problem: null }))
        : this.mode === 'sentinel'
          ? this.probeSentinels(timeoutMs).catch(() => ({ problem: null }))
          : Promise.resolve({ problem: null });
    const [data, topo] = await Promise.all([this.probeData(timeoutMs), topology]);
    const { problem, ...sections } = topo;
    const head = { module: MODULE, version: VERSION, mode: this.mode };
    const tail = { connection: connectionOf(this.settings), ...sections, breaker: this.breaker.snapshot(), checked_at: new Date().toISOString() };
    // cluster: the cluster's own view first (CLUSTERDOWN, a master unreachable), then the data path's reason
    const failed = 'detail' in data ? data.detail : null;
    const detail =
      this.mode === 'cluster'
        ? problem !== null
          ? `${problem}${failed ? `; ${failed}` : ''}`
          : failed
        : failed !== null && problem !== null
          ? `${failed}; ${problem}`
          : failed;
    if (detail !== null) return { status: 'fail', ...head, detail: this.mask(detail).slice(0, 300), ...tail };
    return {
      status: 'ok',
      ...head,
      latency: { ping_ms: Math.round((performance.now() - started) * 1000) / 1000 },
      pool: this.poolInfo(),
      ...tail,
    };
  }

  private poolInfo(): { active: number; idle: number; max: number } {
    if (!this.cluster) return { active: this.client.status === 'ready' ? 1 : 0, idle: 0, max: 1 };
    const nodes = this.cluster.nodes('all');
    return { active: nodes.filter((n) => n.status === 'ready').length, idle: 0, max: nodes.length };
  }

  /** The data path: PING + SET of the health key through the cache's own client (no network while the breaker blocks). */
  private async probeData(timeoutMs: number): Promise<{ ok: true } | { detail: string }> {
    if (this.breaker.isBlocking()) {
      // described now, not when it failed: a call that timed out before the connection's own error (maxclients, a
      // refused TLS handshake) had arrived is then told by that error, whatever the timing under load
      const why = this.lastFailure === null ? 'Redis unavailable' : this.describe(this.lastFailure);
      return { detail: `${why} (circuit breaker open after ${this.breaker.failures} consecutive failures)` };
    }
    const status = this.client.status;
    if (status !== 'ready' && status !== 'wait' && this.lastConnectionError) return { detail: this.describe(this.lastConnectionError) };
    const cleanup: Array<() => void> = [];
    try {
      const probe = (async () => {
        await this.client.ping();
        await this.client.set(this.prefix + HEALTH_KEY, '1', 'PX', 10_000);
      })();
      const races: Array<Promise<unknown>> = [probe];
      if (status !== 'ready' && !this.cluster) {
        // not connected yet: answer at the first connection error instead of waiting out ioredis' reconnects
        races.push(
          new Promise((_, reject) => {
            const onError = (err: Error) => reject(err);
            const onClose = () => reject(this.lastConnectionError ?? new Error('Connection is closed.'));
            this.client.once('error', onError).once('close', onClose);
            cleanup.push(() => this.client.off('error', onError).off('close', onClose));
          }),
        );
      }
      probe.catch(() => undefined);
      await this.withDeadline(Promise.race(races), timeoutMs, 'health probe');
      this.lastConnectionError = null;
      return { ok: true };
    } catch (err) {
      const last = this.client.status !== 'ready' ? this.lastConnectionError : null;
      return { detail: this.describe(last ?? err) };
    } finally {
      for (const off of cleanup) off();
    }
  }

  /** Resolves true once the cluster is ready, false at `ms`. */
  private clusterReady(ms: number): Promise<boolean> {
    const c = this.cluster!;
    if (c.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        c.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, ms));
      c.on('ready', onReady);
    });
  }

  /** Every master the client knows, probed concurrently (PING, CLUSTER INFO, CLUSTER NODES in one round trip each). */
  private async probeCluster(started: number, timeoutMs: number): Promise<{ cluster: ClusterHealth; problem: string | null }> {
    const c = this.cluster!;
    const left = () => Math.max(20, timeoutMs - (performance.now() - started));
    // not connected: meanwhile ask the seeds why (ioredis' slot refresh reports only "Connection is closed.")
    const seeds = c.status === 'ready' ? null : this.probeSeeds(Math.max(20, left() - 30));
    await this.clusterReady(left() - 50);
    const probes = await Promise.all(
      c.nodes('master').map(async (node) => {
        const address = `${node.options.host}:${node.options.port}`;
        const t0 = performance.now();
        try {
          const replies = (await this.withDeadline(node.pipeline().ping().cluster('INFO').cluster('NODES').exec(), left(), 'health probe')) ?? [];
          if (!replies[0] || replies[0][0]) return { address, ok: false, latency_ms: null };
          const text = (i: number) => (replies[i] && !replies[i]![0] ? String(replies[i]![1]) : null);
          return { address, ok: true, latency_ms: Math.round((performance.now() - t0) * 1000) / 1000, info: text(1), nodes: text(2) };
        } catch {
          return { address, ok: false, latency_ms: null };
        }
      }),
    );
    const seen = probes.find((p) => 'info' in p && p.info !== null) as { info: string; nodes: string | null } | undefined;
    const state = seen ? (/cluster_state:(\w+)/.exec(seen.info)?.[1] ?? 'unknown') : 'unknown';
    const slotsCovered = seen ? Number(/cluster_slots_ok:(\d+)/.exec(seen.info)?.[1] ?? 0) : 0;
    // the masters as the cluster sees them (a dead master whose replica took over is still listed, failed)
    const known = new Map<string, number>(); // address -> slots served
    for (const line of (seen?.nodes ?? '').split('\n')) {
      const f = line.trim().split(' ');
      if (f.length < 8 || !/(^|,)master(,|$)/.test(f[2]!) || /handshake|noaddr/.test(f[2]!)) continue;
      const address = f[1]!.split('@')[0]!;
      const slots = f.slice(8).reduce((n, r) => {
        if (r.startsWith('[')) return n;
        const [lo, hi] = r.split('-').map(Number);
        return n + ((hi ?? lo!) - lo! + 1);
      }, 0);
      known.set(address, slots);
    }
    for (const p of probes) if (!known.has(p.address)) known.set(p.address, -1);
    const masters = [...known.keys()].sort().map((address) => {
      const p = probes.find((x) => x.address === address);
      return { address, ok: p?.ok ?? false, latency_ms: p?.latency_ms ?? null };
    });
    const reachable = masters.filter((m) => m.ok).length;
    const cluster: ClusterHealth = {
      state,
      slots_covered: slotsCovered,
      slots_total: CLUSTER_SLOTS,
      masters_reachable: reachable,
      masters_total: masters.length,
      masters,
    };
    this.metrics.topology = {
      cluster_masters_reachable: reachable,
      cluster_masters_total: masters.length,
      cluster_slots_covered: slotsCovered,
    };
    let problem: string | null = null;
    const down = masters.filter((m) => !m.ok && (known.get(m.address) ?? 0) > 0);
    const refused = seen ? null : await seeds;
    if (refused) problem = `no cluster node answered: ${refused}`;
    else if (!seen) problem = `no cluster master answered within ${timeoutMs} ms (${reachable} of ${masters.length} reachable)`;
    else if (state !== 'ok' || slotsCovered < CLUSTER_SLOTS) problem = `cluster_state:${state}, ${slotsCovered} of ${CLUSTER_SLOTS} slots served (CLUSTERDOWN)`;
    else if (down.length > 0) {
      problem = `master ${down.map((m) => `${m.address} (${known.get(m.address)} slots)`).join(', ')} unreachable and not yet replaced by its replica`;
    }
    return { cluster, problem };
  }

  /**
   * Up to 3 seed nodes asked directly (PING on a one-off connection with the nodes' options: auth, TLS): why each
   * refuses, as `host:port: reason; ...`, or null when one answers. Never throws.
   */
  private async probeSeeds(ms: number): Promise<string | null> {
    const options = ioredisClusterOptions(this.settings).redisOptions ?? {};
    const reasons = await Promise.all(
      (this.settings.clusterNodes ?? []).slice(0, 3).map(async (entry) => {
        const { host, port } = parseAddress('REDIS_CLUSTER_NODES', entry);
        const address = `${host}:${port}`;
        let failure: unknown = null;
        const node = new Redis({
          ...options,
          host,
          port,
          lazyConnect: true,
          enableOfflineQueue: true,
          enableReadyCheck: false,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        }).on('error', (err: Error) => {
          failure ??= err; // the connection's own error (TLS, refused): the command only says "Connection is closed."
        });
        try {
          await this.withDeadline(node.ping(), ms, 'seed probe');
          return null;
        } catch (err) {
          return `${address}: ${this.describe(failure ?? err, true, address)}`;
        } finally {
          node.disconnect();
        }
      }),
    );
    return reasons.includes(null) ? null : reasons.join('; ');
  }

  /** Every sentinel asked concurrently for the master's address (SENTINEL GET-MASTER-ADDR-BY-NAME). */
  private async probeSentinels(timeoutMs: number): Promise<{ sentinel: SentinelHealth; problem: string | null }> {
    const s = this.settings;
    const name = s.sentinelMaster ?? '';
    this.sentinelClients ??= (s.sentinels ?? []).map((entry) => {
      const { host, port } = parseAddress('REDIS_SENTINELS', entry);
      return new Redis({
        host,
        port,
        username: s.sentinelUsername ?? undefined,
        password: s.sentinelPassword ?? undefined,
        lazyConnect: true,
        connectTimeout: Math.ceil(s.connectTimeout * 1000),
        maxRetriesPerRequest: 0,
        retryStrategy: () => 1000,
        enableReadyCheck: false,
        Connector: GuardedStandaloneConnector,
      }).on('error', () => undefined); // a sentinel away shows as not reachable
    });
    const answers = await Promise.all(
      this.sentinelClients.map((c) =>
        this.withDeadline(c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name), timeoutMs, 'sentinel probe').then(
          (r) => (Array.isArray(r) && r.length === 2 ? `${String(r[0])}:${String(r[1])}` : null),
          () => undefined,
        ),
      ),
    );
    const reachable = answers.filter((a) => a !== undefined).length;
    const master = answers.find((a): a is string => typeof a === 'string') ?? null;
    this.metrics.topology = { sentinels_reachable: reachable };
    const sentinel: SentinelHealth = { master_name: name, master, sentinels_reachable: reachable, sentinels_total: answers.length };
    return { sentinel, problem: `sentinels answering: ${reachable} of ${answers.length}, master: ${master ?? 'unknown'}` };
  }

  /** INFO memory/keyspace/server and DBSIZE in one round trip; null when Redis is unreachable or refuses (ACL). */
  async serverInfo(): Promise<ServerInfo | null> {
    try {
      const res = await this.call(async (c) => {
        const out = (await c.pipeline().info('memory').info('keyspace').info('server').dbsize().exec()) ?? [];
        const error = out.find(([e]) => e)?.[0];
        if (error) throw error;
        return out.map(([, r]) => r);
      });
      if (res === FAILED) return null;
      const [memory, keyspace, server, dbsize] = res as [unknown, unknown, unknown, unknown];
      return { memory: String(memory), keyspace: String(keyspace), server: String(server), dbsize: Number(dbsize) };
    } catch {
      return null; // e.g. NOPERM for a least-privilege ACL user without INFO: stats are optional
    }
  }

  /** Counters, latency quantiles (seconds) and breaker state. */
  stats() {
    return { ...this.metrics.snapshot(), breaker: this.breaker.snapshot() };
  }

  /** Prometheus text exposition (rapidkit_redis_* metrics, same names as Python). */
  renderPrometheus(): string {
    return this.metrics.renderPrometheus(this.breaker.state);
  }

  /** Resolved configuration, password masked. */
  metadata(): RedisMetadata {
    return getRedisMetadata(this.settings);
  }

  /** QUIT (or disconnect when Redis is away). Safe to call twice; never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.sentinelClients ?? []) c.disconnect();
    try {
      if (this.client.status === 'ready') await this.withDeadline(this.client.quit(), 1000);
    } catch {
      /* shutting down during an outage must not fail the shutdown */
    } finally {
      this.client.disconnect();
    }
  }
}
