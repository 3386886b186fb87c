/**
 * Settings from the environment first, then the defaults baked at install time (same variables and meaning as
 * the Python runtime: docs/modules/redis/configuration.md). Invalid values throw ConfigError naming the variable.
 * Durations are seconds, as in Python (`0.5`, `500ms`, `0.5s`).
 */
import fs from 'fs';
import { DEFAULTS } from './defaults';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface RedisSettings {
  host: string;
  port: number;
  db: number;
  username: string | null;
  password: string | null;
  useTls: boolean;
  tlsCaFile: string | null;
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
  tlsCheckHostname: boolean;
  maxConnections: number;
  /** seconds */
  socketTimeout: number;
  /** seconds */
  connectTimeout: number;
  retries: number;
  /** seconds */
  backoff: number;
  preconnect: boolean;
  keyPrefix: string;
  /** seconds; 0 = no expiry */
  cacheTtl: number;
  clientName: string | null;
  breakerThreshold: number;
  /** seconds */
  breakerResetTimeout: number;
  /** unix:// URL: the socket path (host is then that path and port 0). */
  unixSocketPath: string | null;
  /**
   * Redis Cluster seed nodes (`host:port`, REDIS_CLUSTER_NODES): non-empty = cluster mode (ioredis Cluster). The
   * URL's host, port and db are then ignored; username, password and TLS apply to every node.
   */
  clusterNodes?: string[];
  /** Sentinels (`host:port`, REDIS_SENTINELS): non-empty = Sentinel mode (ioredis `sentinels`), with sentinelMaster. */
  sentinels?: string[];
  /** The master name the sentinels monitor (REDIS_SENTINEL_MASTER). */
  sentinelMaster?: string | null;
  /** ACL user and password of the sentinels themselves (REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD). */
  sentinelUsername?: string | null;
  sentinelPassword?: string | null;
}

/** How the cache reaches Redis: one server, a Redis Cluster, or the master a set of sentinels names. */
export type RedisMode = 'standalone' | 'cluster' | 'sentinel';

/** The deployment mode these settings describe (docs/modules/redis/topologies.md). */
export function modeOf(s: Pick<RedisSettings, 'clusterNodes' | 'sentinels'>): RedisMode {
  if (s.clusterNodes && s.clusterNodes.length > 0) return 'cluster';
  if (s.sentinels && s.sentinels.length > 0) return 'sentinel';
  return 'standalone';
}

/** `host:port` → parts (IPv6 as `[::1]:6379`); throws ConfigError naming the variable and the entry. */
export function parseAddress(name: string, entry: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]/,]+)):(\d{1,5})$/.exec(entry.trim());
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new ConfigError(`${name}: '${entry}' is not a host:port entry (expected e.g. 10.0.0.1:6379,10.0.0.2:6379; IPv6 as [::1]:6379)`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** A comma-separated `host:port` list (REDIS_CLUSTER_NODES, REDIS_SENTINELS), each entry checked. */
function parseAddressList(name: string, raw: string): string[] {
  const entries = raw.split(',').map((e) => e.trim());
  if (entries.some((e) => e === '')) throw new ConfigError(`${name}: empty entry in '${raw}' (expected host:port,host:port,...)`);
  for (const e of entries) parseAddress(name, e);
  return entries;
}

/**
 * The rules across variables of the topology (both modes at once, a Sentinel set-up without its master name, a
 * non-zero database in cluster mode). Throws ConfigError naming the variables and the remedy; settingsFromEnv and
 * the Joi schema both call it.
 */
export function checkTopologyEnv(env: Env): void {
  const cluster = get(env, 'REDIS_CLUSTER_NODES');
  const sentinels = get(env, 'REDIS_SENTINELS');
  const master = get(env, 'REDIS_SENTINEL_MASTER');
  if (cluster !== undefined && sentinels !== undefined) {
    throw new ConfigError(
      'REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set: a deployment is either a cluster or a Sentinel set-up; unset one',
    );
  }
  if (sentinels !== undefined && master === undefined) {
    throw new ConfigError('REDIS_SENTINELS is set without REDIS_SENTINEL_MASTER: set it to the master name the sentinels monitor (e.g. mymaster)');
  }
  if (master !== undefined && sentinels === undefined) {
    throw new ConfigError('REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS: list the sentinels (host:port,host:port,...) or unset it');
  }
  const db = get(env, 'REDIS_DB');
  if (cluster !== undefined && db !== undefined && /^\d+$/.test(db) && Number(db) !== 0) {
    throw new ConfigError(`REDIS_DB: Redis Cluster has only database 0, got '${db}' with REDIS_CLUSTER_NODES set; unset REDIS_DB or set it to 0`);
  }
}

/** The same rules for settings given in code (options over the environment): thrown by the RedisCache constructor. */
export function checkTopology(s: RedisSettings): void {
  const cluster = s.clusterNodes ?? [];
  const sentinels = s.sentinels ?? [];
  if (cluster.length > 0 && sentinels.length > 0) {
    throw new ConfigError('clusterNodes and sentinels are both set: a deployment is either a cluster or a Sentinel set-up; unset one');
  }
  for (const e of cluster) parseAddress('clusterNodes', e);
  for (const e of sentinels) parseAddress('sentinels', e);
  if (sentinels.length > 0 && !s.sentinelMaster) throw new ConfigError('sentinels are set without sentinelMaster (REDIS_SENTINEL_MASTER): set the master name');
  if (cluster.length > 0 && s.db !== 0) throw new ConfigError(`db: Redis Cluster has only database 0, got ${s.db}; set it to 0`);
  if (cluster.length > 0 && s.unixSocketPath) throw new ConfigError('clusterNodes: a unix:// socket cannot be used in cluster mode');
}

type Env = Record<string, string | undefined>;
const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** How a variable's value is read and checked. The one table both settingsFromEnv and the Joi schema use. */
export type EnvRule =
  | { kind: 'url' }
  | { kind: 'text' }
  | { kind: 'file' }
  | { kind: 'bool' }
  | { kind: 'int'; min: number; max?: number }
  | { kind: 'seconds'; min: number }
  | { kind: 'addresses' };

/**
 * Every variable the runtime reads, with its rule (same as the Python runtime's config.py). An empty or blank value
 * means "unset" for every variable except REDIS_KEY_PREFIX (where "" is a real value: no prefix).
 */
export const ENV_RULES: Readonly<Record<string, EnvRule>> = Object.freeze({
  REDIS_URL: { kind: 'url' },
  REDIS_HOST: { kind: 'text' },
  REDIS_PORT: { kind: 'int', min: 1, max: 65535 },
  REDIS_DB: { kind: 'int', min: 0 },
  REDIS_USERNAME: { kind: 'text' },
  REDIS_PASSWORD: { kind: 'text' },
  REDIS_TLS: { kind: 'bool' },
  REDIS_TLS_CA_FILE: { kind: 'file' },
  REDIS_TLS_CERT_FILE: { kind: 'file' },
  REDIS_TLS_KEY_FILE: { kind: 'file' },
  REDIS_TLS_CHECK_HOSTNAME: { kind: 'bool' },
  REDIS_MAX_CONNECTIONS: { kind: 'int', min: 1 },
  REDIS_SOCKET_TIMEOUT: { kind: 'seconds', min: 0.001 },
  REDIS_CONNECT_TIMEOUT: { kind: 'seconds', min: 0.001 },
  REDIS_RETRIES: { kind: 'int', min: 0, max: 10 },
  REDIS_BACKOFF: { kind: 'seconds', min: 0 },
  REDIS_PRECONNECT: { kind: 'bool' },
  REDIS_KEY_PREFIX: { kind: 'text' },
  CACHE_TTL: { kind: 'int', min: 0 },
  REDIS_CACHE_TTL: { kind: 'int', min: 0 },
  REDIS_TTL: { kind: 'int', min: 0 },
  REDIS_CLIENT_NAME: { kind: 'text' },
  REDIS_BREAKER_THRESHOLD: { kind: 'int', min: 1 },
  REDIS_BREAKER_RESET_TIMEOUT: { kind: 'seconds', min: 0.01 },
  REDIS_CLUSTER_NODES: { kind: 'addresses' },
  REDIS_SENTINELS: { kind: 'addresses' },
  REDIS_SENTINEL_MASTER: { kind: 'text' },
  REDIS_SENTINEL_USERNAME: { kind: 'text' },
  REDIS_SENTINEL_PASSWORD: { kind: 'text' },
} satisfies Record<string, EnvRule>);

/** URL query parameters the runtime honours (redis-py's names); any other one is refused, never ignored. */
export const URL_QUERY_PARAMETERS = ['db', 'socket_timeout', 'socket_connect_timeout', 'max_connections', 'client_name'] as const;

function get(env: Env, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

function parseBool(name: string, raw: string): boolean {
  const low = raw.toLowerCase();
  if (TRUE.has(low)) return true;
  if (FALSE.has(low)) return false;
  throw new ConfigError(`${name}: expected a boolean (1/true/yes/on or 0/false/no/off), got '${raw}'`);
}

function parseInt(name: string, raw: string, min: number, max?: number): number {
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name}: expected an integer, got '${raw}'`);
  const n = Number(raw);
  if (n < min || (max !== undefined && n > max)) {
    throw new ConfigError(`${name}: expected an integer ${max === undefined ? `>= ${min}` : `between ${min} and ${max}`}, got '${raw}'`);
  }
  return n;
}

function parseSeconds(name: string, raw: string, min: number): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s)?$/i.exec(raw);
  if (!m) throw new ConfigError(`${name}: expected a number of seconds (e.g. 0.5, 500ms), got '${raw}'`);
  const v = Number(m[1]) / (m[2]?.toLowerCase() === 'ms' ? 1000 : 1);
  if (v < min) throw new ConfigError(`${name}: expected a number of seconds >= ${min}, got '${raw}'`);
  return v;
}

/**
 * Checks one variable's raw value by its rule (ENV_RULES); throws ConfigError naming the variable. What
 * settingsFromEnv accepts for that variable, and what the Joi schema (NestJS) accepts: both call this.
 */
export function checkEnvValue(name: string, value: string | undefined): void {
  const rule = ENV_RULES[name];
  if (rule === undefined || value === undefined || value.trim() === '') return;
  const raw = value.trim();
  switch (rule.kind) {
    case 'url':
      parseUrl(raw, name);
      return;
    case 'file':
      if (!fs.existsSync(raw) || !fs.statSync(raw).isFile()) throw new ConfigError(`${name}: file '${raw}' does not exist`);
      return;
    case 'bool':
      parseBool(name, raw);
      return;
    case 'int':
      parseInt(name, raw, rule.min, rule.max);
      return;
    case 'seconds':
      parseSeconds(name, raw, rule.min);
      return;
    case 'addresses':
      parseAddressList(name, raw);
      return;
    case 'text':
      return;
  }
}

/** The first set variable of `names` (checked by its rule), else undefined. */
function read(env: Env, ...names: string[]): string | undefined {
  for (const n of names) {
    const raw = get(env, n);
    if (raw !== undefined) {
      checkEnvValue(n, raw);
      return raw;
    }
  }
  return undefined;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = read(env, name);
  return raw === undefined ? def : parseBool(name, raw);
}

function int(env: Env, names: string[], def: number): number {
  const raw = read(env, ...names);
  return raw === undefined ? def : Number(raw);
}

function seconds(env: Env, name: string, def: number): number {
  const raw = read(env, name);
  const rule = ENV_RULES[name] as { min: number };
  return raw === undefined ? def : parseSeconds(name, raw, rule.min);
}

function file(env: Env, name: string): string | null {
  return read(env, name) ?? null;
}

interface UrlParts {
  host: string;
  port: number;
  db: number;
  username: string | null;
  password: string | null;
  tls: boolean;
  unixSocketPath: string | null;
  query: Record<string, string>;
}

function parseQuery(search: string, name: string): Record<string, string> {
  const query: Record<string, string> = {};
  const params = new URLSearchParams(search);
  for (const key of new Set(params.keys())) {
    if (!(URL_QUERY_PARAMETERS as readonly string[]).includes(key)) {
      throw new ConfigError(`${name}: query parameter '${key}' is not supported (supported: ${URL_QUERY_PARAMETERS.join(', ')})`);
    }
    const values = params.getAll(key);
    if (values.length !== 1) throw new ConfigError(`${name}: query parameter '${key}' is given ${values.length} times`);
    query[key] = values[0]!;
  }
  try {
    if (query.db !== undefined) parseInt('db', query.db, 0);
    if (query.max_connections !== undefined) parseInt('max_connections', query.max_connections, 1);
    if (query.socket_timeout !== undefined) parseSeconds('socket_timeout', query.socket_timeout, 0.001);
    if (query.socket_connect_timeout !== undefined) parseSeconds('socket_connect_timeout', query.socket_connect_timeout, 0.001);
  } catch (err) {
    throw new ConfigError(`${name} query parameter ${(err as Error).message}`);
  }
  return query;
}

/** redis://[user[:password]@]host[:port][/db][?query], rediss://... (TLS) or unix://[user[:password]@]/path[?db=N]. */
function parseUrl(url: string, name: string): UrlParts {
  const unix = /^unix:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?(\/[^?#]*)(?:\?([^#]*))?$/i.exec(url);
  if (unix) {
    const query = parseQuery(unix[4] ?? '', name);
    return {
      host: decodeURIComponent(unix[3]!),
      port: 0,
      db: query.db !== undefined ? Number(query.db) : 0,
      username: unix[1] ? decodeURIComponent(unix[1]) : null,
      password: unix[2] ? decodeURIComponent(unix[2]) : null,
      tls: false,
      unixSocketPath: decodeURIComponent(unix[3]!),
      query,
    };
  }
  if (/^unix:/i.test(url)) throw new ConfigError(`${name}: expected unix:///absolute/path/to/redis.sock`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${name}: expected a URL like redis://host:6379/0`);
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) {
    throw new ConfigError(`${name}: expected a redis://, rediss:// or unix:// URL with a host`);
  }
  const query = parseQuery(u.search, name);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new ConfigError(`${name}: expected a numeric database in the path, got '/${path}'`);
  let db = path ? Number(path) : 0;
  if (query.db !== undefined) {
    if (path && Number(path) !== Number(query.db)) {
      throw new ConfigError(`${name}: database ${path} in the path and db=${query.db} in the query disagree`);
    }
    db = Number(query.db);
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    db,
    username: u.username ? decodeURIComponent(u.username) : null,
    password: u.password ? decodeURIComponent(u.password) : null,
    tls: u.protocol === 'rediss:',
    unixSocketPath: null,
    query,
  };
}

export function settingsFromEnv(env: Env = process.env): RedisSettings {
  checkTopologyEnv(env);
  const clusterRaw = read(env, 'REDIS_CLUSTER_NODES');
  const sentinelsRaw = read(env, 'REDIS_SENTINELS');
  const url = read(env, 'REDIS_URL');
  const parts = parseUrl(url ?? DEFAULTS.url, url ? 'REDIS_URL' : 'default url');
  const q = parts.query;
  if (!url) {
    parts.host = read(env, 'REDIS_HOST') ?? parts.host;
    parts.port = int(env, ['REDIS_PORT'], parts.port);
    parts.db = int(env, ['REDIS_DB'], parts.db);
    parts.username = read(env, 'REDIS_USERNAME') ?? parts.username;
  }
  return {
    host: parts.host,
    port: parts.port,
    db: clusterRaw ? 0 : parts.db, // Redis Cluster has only db 0 (a non-zero REDIS_DB was refused above)
    username: parts.username,
    password: parts.password ?? read(env, 'REDIS_PASSWORD') ?? null,
    useTls: parts.tls || bool(env, 'REDIS_TLS', false),
    tlsCaFile: file(env, 'REDIS_TLS_CA_FILE'),
    tlsCertFile: file(env, 'REDIS_TLS_CERT_FILE'),
    tlsKeyFile: file(env, 'REDIS_TLS_KEY_FILE'),
    tlsCheckHostname: bool(env, 'REDIS_TLS_CHECK_HOSTNAME', true),
    maxConnections: int(env, ['REDIS_MAX_CONNECTIONS'], q.max_connections !== undefined ? Number(q.max_connections) : DEFAULTS.maxConnections),
    socketTimeout: seconds(env, 'REDIS_SOCKET_TIMEOUT', q.socket_timeout !== undefined ? parseSeconds('socket_timeout', q.socket_timeout, 0.001) : DEFAULTS.socketTimeout),
    connectTimeout: seconds(
      env,
      'REDIS_CONNECT_TIMEOUT',
      q.socket_connect_timeout !== undefined ? parseSeconds('socket_connect_timeout', q.socket_connect_timeout, 0.001) : DEFAULTS.connectTimeout,
    ),
    retries: int(env, ['REDIS_RETRIES'], DEFAULTS.retries),
    backoff: seconds(env, 'REDIS_BACKOFF', DEFAULTS.backoff),
    preconnect: bool(env, 'REDIS_PRECONNECT', DEFAULTS.preconnect),
    keyPrefix: env.REDIS_KEY_PREFIX ?? DEFAULTS.keyPrefix,
    cacheTtl: int(env, ['CACHE_TTL', 'REDIS_CACHE_TTL', 'REDIS_TTL'], DEFAULTS.cacheTtl),
    clientName: read(env, 'REDIS_CLIENT_NAME') ?? q.client_name ?? DEFAULTS.clientName,
    breakerThreshold: int(env, ['REDIS_BREAKER_THRESHOLD'], DEFAULTS.breakerThreshold),
    breakerResetTimeout: seconds(env, 'REDIS_BREAKER_RESET_TIMEOUT', DEFAULTS.breakerResetTimeout),
    unixSocketPath: clusterRaw || sentinelsRaw ? null : parts.unixSocketPath,
    clusterNodes: clusterRaw ? parseAddressList('REDIS_CLUSTER_NODES', clusterRaw) : [],
    sentinels: sentinelsRaw ? parseAddressList('REDIS_SENTINELS', sentinelsRaw) : [],
    sentinelMaster: read(env, 'REDIS_SENTINEL_MASTER') ?? null,
    sentinelUsername: read(env, 'REDIS_SENTINEL_USERNAME') ?? null,
    sentinelPassword: read(env, 'REDIS_SENTINEL_PASSWORD') ?? null,
  };
}

/** The connection URL with the password masked: safe to log and show. */
export function maskedUrl(s: RedisSettings): string {
  const mode = modeOf(s);
  if (mode !== 'standalone') {
    const user = s.username ? `${encodeURIComponent(s.username)}${s.password ? ':***' : ''}@` : s.password ? ':***@' : '';
    const scheme = s.useTls ? 'rediss' : 'redis';
    if (mode === 'cluster') return `${scheme}+cluster://${user}${(s.clusterNodes ?? []).join(',')}`;
    return `${scheme}+sentinel://${user}${(s.sentinels ?? []).join(',')}/${s.sentinelMaster ?? ''}/${s.db}`;
  }
  const user = s.username ? encodeURIComponent(s.username) : '';
  const auth = s.password ? `${user}:***@` : user ? `${user}@` : '';
  if (s.unixSocketPath) return `unix://${auth}${s.unixSocketPath}?db=${s.db}`;
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  return `${s.useTls ? 'rediss' : 'redis'}://${auth}${host}:${s.port}/${s.db}`;
}
