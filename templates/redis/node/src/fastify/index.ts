/**
 * Fastify layer: a fastify-plugin that decorates the instance with the cache (`app.cache`), the helpers Fastify
 * users of the systems we replace already call (getFromCache, setToCache, deleteFromCache, deleteCachePattern,
 * getCacheStats, isCacheHealthy) and the raw ioredis client (`app.redis`, as @fastify/redis), serves the health
 * route, closes the client onClose, and never blocks start-up.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type Redis from 'ioredis';
import { RedisCache, type HealthPayload, type RedisLogger } from '../core/cache';
import { settingsFromEnv, type RedisSettings } from '../core/config';
import { METRICS_PATH, HEALTH_PATH } from '../core/index';

export * from '../core/index';

export interface RedisPluginOptions extends Partial<RedisSettings> {
  /** A redis:// or rediss:// URL; wins over REDIS_URL (the other fields still override it). */
  url?: string;
  /** Serve GET /api/health/module/redis and /api/health/module/redis/metrics (default true). */
  healthRoute?: boolean;
  /**
   * Decorate the instance with `redis`, the raw ioredis client (as @fastify/redis does), default true. Skipped when
   * `redis` is already decorated (@fastify/redis registered first); pass false to register @fastify/redis after.
   */
  decorateRedis?: boolean;
}

export interface CacheStats {
  /** true when the connection is ready */
  connected: boolean;
  /** ioredis status: wait, connecting, connect, ready, reconnecting, end */
  status: string;
  hits: number;
  misses: number;
  errors: number;
  fallbacks: number;
  /** hits / (hits + misses), 0 before the first read */
  hit_rate: number;
  /** seconds */
  latency: { p50: number; p99: number; count: number };
  breaker: { state: string; failures: number };
  /** raw `INFO memory|keyspace|server` text; null when Redis is unreachable or the ACL user may not run INFO */
  memory_info: string | null;
  keyspace_info: string | null;
  server_info: string | null;
  /** used_memory_human from INFO memory */
  memory: string | null;
  /** DBSIZE: keys in the whole Redis database (every prefix) */
  keys: number | null;
  /** ttl = the default TTL in seconds (CACHE_TTL) */
  config: { host: string; port: number; db: number; ttl: number; key_prefix: string };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The full cache API (get, set, getMany, setMany, getOrSet, deletePattern, rateLimit, healthCheck, ...). */
    cache: RedisCache;
    /**
     * Parsed value; null on a miss or when Redis is unavailable (a stored non-JSON text comes back as a string).
     * AegisX's helper, typed as AegisX code uses it (`const s = await fastify.getFromCache(k); s.lastAccessed = …`
     * compiles unchanged): the one `any` of the public API. Pass a type (`getFromCache<User>(k)`) or use the typed
     * API, `fastify.cache.get<T>()`, whose result is `unknown` until you say what it is.
     */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    getFromCache<T = any>(key: string): Promise<T | null>;
    /** ttl in seconds: omitted = CACHE_TTL, 0 = no expiry. false when Redis is unavailable. */
    setToCache(key: string, value: unknown, ttl?: number): Promise<boolean>;
    /** true when the key existed. */
    deleteFromCache(key: string): Promise<boolean>;
    /** SCAN + UNLINK within the key prefix (never KEYS); the number of keys removed. */
    deleteCachePattern(pattern: string): Promise<number>;
    /** Counters, breaker, INFO sections; never throws (INFO fields are null while Redis is unavailable). */
    getCacheStats(): Promise<CacheStats>;
    /** PING within the health deadline. */
    isCacheHealthy(): Promise<boolean>;
  }
}

/** An empty or non-string key is the caller's error: HTTP 400 when it escapes a route handler. */
function badRequest(what: string, value: unknown): Error {
  return Object.assign(new TypeError(`${what} must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}`), { statusCode: 400 });
}

function checked(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw badRequest(what, value);
  return value;
}

function infoField(text: string | null, field: string): string | null {
  const m = text ? new RegExp(`^${field}:(.*)$`, 'm').exec(text) : null;
  return m ? m[1]!.trim() : null;
}

const plugin: FastifyPluginAsync<RedisPluginOptions> = async (app: FastifyInstance, options: RedisPluginOptions) => {
  const { healthRoute = true, decorateRedis = true, url, ...overrides } = options;
  const logger: RedisLogger = { warn: (message, fields) => app.log.warn(fields, message) }; // pino: (object, message)
  const base = url ? settingsFromEnv({ ...process.env, REDIS_URL: url }) : settingsFromEnv();
  const cache = new RedisCache({ ...base, ...overrides }, { logger });

  app.decorate('cache', cache);
  if (decorateRedis && app.hasDecorator('redis')) {
    app.log.info({ module: 'redis' }, "'redis' is already decorated (@fastify/redis?): kept it; the cache's own client is app.cache.client");
  } else if (decorateRedis) {
    // keys are not prefixed there; commands are not fail-open (it is the raw client). In cluster mode it is an ioredis
    // Cluster: the same command methods, typed as @fastify/redis declares `redis` (docs/modules/redis/topologies.md)
    app.decorate('redis', cache.client as Redis);
  }
  app.decorate('getFromCache', async (key: string) => cache.get(checked(key, 'cache key')));
  app.decorate('setToCache', async (key: string, value: unknown, ttl?: number) => cache.set(checked(key, 'cache key'), value, ttl));
  app.decorate('deleteFromCache', async (key: string) => (await cache.delete(checked(key, 'cache key'))) > 0);
  app.decorate('deleteCachePattern', async (pattern: string) => cache.deletePattern(checked(pattern, 'cache pattern')));
  app.decorate('isCacheHealthy', async () => (await cache.healthCheck()).status === 'ok');
  app.decorate('getCacheStats', async (): Promise<CacheStats> => {
    const s = cache.settings;
    const m = cache.metrics.snapshot();
    const info = cache.breaker.state === 'closed' ? await cache.serverInfo() : null;
    return {
      connected: cache.client.status === 'ready',
      status: cache.client.status,
      hits: m.hits,
      misses: m.misses,
      errors: m.errors,
      fallbacks: m.fallbacks,
      hit_rate: m.hits + m.misses > 0 ? m.hits / (m.hits + m.misses) : 0,
      latency: m.latency,
      breaker: cache.breaker.snapshot(),
      memory_info: info?.memory ?? null,
      keyspace_info: info?.keyspace ?? null,
      server_info: info?.server ?? null,
      memory: infoField(info?.memory ?? null, 'used_memory_human'),
      keys: info ? info.dbsize : null,
      config: { host: s.host, port: s.port, db: s.db, ttl: s.cacheTtl, key_prefix: s.keyPrefix },
    };
  });

  if (healthRoute) {
    app.get(HEALTH_PATH, async (_req, reply): Promise<HealthPayload> => {
      const payload = await cache.healthCheck();
      reply.code(payload.status === 'ok' ? 200 : 503);
      return payload;
    });
    app.get(METRICS_PATH, async (_req, reply) => {
      reply.type('text/plain; version=0.0.4; charset=utf-8');
      return cache.renderPrometheus();
    });
  }
  // never block start-up on Redis (lazyConnect): preconnect in the background when asked
  if (cache.settings.preconnect) {
    void cache.connect().then((ok) => {
      if (!ok) app.log.warn({ module: 'redis' }, 'redis preconnect failed; serving without cache until Redis is back');
    });
  }
  app.addHook('onClose', async () => cache.close());
};

/** `await app.register(redisPlugin)`; options override the environment (REDIS_URL, ...). */
export const redisPlugin = fp(plugin, { name: 'rapidkit-redis', fastify: '>=4' });
export default redisPlugin;
