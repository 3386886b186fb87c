/** Fastify layer: a fastify-plugin that decorates the instance with the cache and the familiar helpers. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { RedisCache, type HealthPayload } from './cache';
import { settingsFromEnv, type RedisSettings } from './config';

export * from './index';

export interface RedisPluginOptions extends Partial<RedisSettings> {
  /** Serve GET /api/health/module/redis (default true). */
  healthRoute?: boolean;
}

export interface CacheStats {
  connected: boolean;
  status: string;
  hits: number;
  misses: number;
  errors: number;
  fallbacks: number;
  breaker: { state: string; failures: number };
  config: { host: string; port: number; db: number; ttl: number; key_prefix: string };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The full cache API (get, set, getMany, getOrSet, deletePattern, rateLimit, healthCheck, ...). */
    cache: RedisCache;
    /** Parsed value, or null on a miss or when Redis is unavailable. */
    getFromCache<T = unknown>(key: string): Promise<T | null>;
    /** ttl in seconds: omitted = CACHE_TTL, 0 = no expiry. false when Redis is unavailable. */
    setToCache(key: string, value: unknown, ttl?: number): Promise<boolean>;
    deleteFromCache(key: string): Promise<boolean>;
    /** SCAN + UNLINK within the key prefix (never KEYS); the number of keys removed. */
    deleteCachePattern(pattern: string): Promise<number>;
    getCacheStats(): Promise<CacheStats>;
    isCacheHealthy(): Promise<boolean>;
  }
}

const plugin: FastifyPluginAsync<RedisPluginOptions> = async (app: FastifyInstance, options: RedisPluginOptions) => {
  const { healthRoute = true, ...overrides } = options;
  const cache = new RedisCache({ ...settingsFromEnv(), ...overrides });
  app.decorate('cache', cache);
  app.decorate('getFromCache', (key: string) => cache.get(key));
  app.decorate('setToCache', (key: string, value: unknown, ttl?: number) => cache.set(key, value, ttl));
  app.decorate('deleteFromCache', async (key: string) => (await cache.delete(key)) > 0);
  app.decorate('deleteCachePattern', (pattern: string) => cache.deletePattern(pattern));
  app.decorate('isCacheHealthy', async () => (await cache.healthCheck()).status === 'ok');
  app.decorate('getCacheStats', async (): Promise<CacheStats> => {
    const s = cache.settings;
    return {
      connected: cache.client.status === 'ready',
      status: cache.client.status,
      ...cache.metrics.snapshot(),
      breaker: cache.breaker.snapshot(),
      config: { host: s.host, port: s.port, db: s.db, ttl: s.cacheTtl, key_prefix: s.keyPrefix },
    };
  });
  if (healthRoute) {
    app.get('/api/health/module/redis', async (_req, reply): Promise<HealthPayload> => {
      const payload = await cache.healthCheck();
      reply.code(payload.status === 'ok' ? 200 : 503);
      return payload;
    });
    app.get('/api/health/module/redis/metrics', async (_req, reply) => {
      reply.type('text/plain; version=0.0.4');
      return cache.renderPrometheus();
    });
  }
  // never block start-up on Redis: preconnect in the background when asked
  if (cache.settings.preconnect) void cache.connect();
  app.addHook('onClose', async () => cache.close());
};

/** `await app.register(redisPlugin)`; options override the environment (REDIS_URL, ...). */
export const redisPlugin = fp(plugin, { name: 'rapidkit-redis', fastify: '>=4' });
export default redisPlugin;
