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
}

type Env = Record<string, string | undefined>;
const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function get(env: Env, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = get(env, name);
  if (raw === undefined) return def;
  const low = raw.toLowerCase();
  if (TRUE.has(low)) return true;
  if (FALSE.has(low)) return false;
  throw new ConfigError(`${name}: expected a boolean (1/true/yes/on or 0/false/no/off), got '${raw}'`);
}

function int(env: Env, names: string[], def: number, min = 0, max?: number): number {
  const raw = get(env, ...names);
  if (raw === undefined) return def;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${names[0]}: expected an integer, got '${raw}'`);
  const n = Number(raw);
  if (n < min || (max !== undefined && n > max)) {
    throw new ConfigError(`${names[0]}: expected an integer ${max === undefined ? `>= ${min}` : `between ${min} and ${max}`}, got '${raw}'`);
  }
  return n;
}

function seconds(env: Env, name: string, def: number, min = 0): number {
  const raw = get(env, name);
  if (raw === undefined) return def;
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s)?$/i.exec(raw);
  if (!m) throw new ConfigError(`${name}: expected a number of seconds (e.g. 0.5, 500ms), got '${raw}'`);
  const v = Number(m[1]) / (m[2]?.toLowerCase() === 'ms' ? 1000 : 1);
  if (v < min) throw new ConfigError(`${name}: expected a number of seconds >= ${min}, got '${raw}'`);
  return v;
}

function file(env: Env, name: string): string | null {
  const p = get(env, name);
  if (p === undefined) return null;
  if (!fs.existsSync(p)) throw new ConfigError(`${name}: file '${p}' does not exist`);
  return p;
}

interface UrlParts {
  host: string;
  port: number;
  db: number;
  username: string | null;
  password: string | null;
  tls: boolean;
}

function parseUrl(url: string, name: string): UrlParts {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${name}: expected a URL like redis://host:6379/0`);
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) throw new ConfigError(`${name}: expected a redis:// or rediss:// URL with a host`);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new ConfigError(`${name}: expected a numeric database in the path, got '/${path}'`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    db: path ? Number(path) : 0,
    username: u.username ? decodeURIComponent(u.username) : null,
    password: u.password ? decodeURIComponent(u.password) : null,
    tls: u.protocol === 'rediss:',
  };
}

export function settingsFromEnv(env: Env = process.env): RedisSettings {
  const url = get(env, 'REDIS_URL');
  const parts = parseUrl(url ?? DEFAULTS.url, url ? 'REDIS_URL' : 'default url');
  if (!url) {
    parts.host = get(env, 'REDIS_HOST') ?? parts.host;
    parts.port = int(env, ['REDIS_PORT'], parts.port, 1, 65535);
    parts.db = int(env, ['REDIS_DB'], parts.db, 0);
    parts.username = get(env, 'REDIS_USERNAME') ?? parts.username;
  }
  return {
    host: parts.host,
    port: parts.port,
    db: parts.db,
    username: parts.username,
    password: parts.password ?? get(env, 'REDIS_PASSWORD') ?? null,
    useTls: parts.tls || bool(env, 'REDIS_TLS', false),
    tlsCaFile: file(env, 'REDIS_TLS_CA_FILE'),
    tlsCertFile: file(env, 'REDIS_TLS_CERT_FILE'),
    tlsKeyFile: file(env, 'REDIS_TLS_KEY_FILE'),
    tlsCheckHostname: bool(env, 'REDIS_TLS_CHECK_HOSTNAME', true),
    maxConnections: int(env, ['REDIS_MAX_CONNECTIONS'], DEFAULTS.maxConnections, 1),
    socketTimeout: seconds(env, 'REDIS_SOCKET_TIMEOUT', DEFAULTS.socketTimeout, 0.001),
    connectTimeout: seconds(env, 'REDIS_CONNECT_TIMEOUT', DEFAULTS.connectTimeout, 0.001),
    retries: int(env, ['REDIS_RETRIES'], DEFAULTS.retries, 0, 10),
    backoff: seconds(env, 'REDIS_BACKOFF', DEFAULTS.backoff),
    preconnect: bool(env, 'REDIS_PRECONNECT', DEFAULTS.preconnect),
    keyPrefix: env.REDIS_KEY_PREFIX ?? DEFAULTS.keyPrefix,
    cacheTtl: int(env, ['CACHE_TTL', 'REDIS_CACHE_TTL'], DEFAULTS.cacheTtl, 0),
    clientName: get(env, 'REDIS_CLIENT_NAME') ?? DEFAULTS.clientName,
    breakerThreshold: int(env, ['REDIS_BREAKER_THRESHOLD'], DEFAULTS.breakerThreshold, 1),
    breakerResetTimeout: seconds(env, 'REDIS_BREAKER_RESET_TIMEOUT', DEFAULTS.breakerResetTimeout, 0.01),
  };
}

/** The connection URL with the password masked: safe to log and show. */
export function maskedUrl(s: RedisSettings): string {
  const user = s.username ? encodeURIComponent(s.username) : '';
  const auth = s.password ? `${user}:***@` : user ? `${user}@` : '';
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  return `${s.useTls ? 'rediss' : 'redis'}://${auth}${host}:${s.port}/${s.db}`;
}
