/**
 * Express layer (Express 4 and 5): `useRedis(app)` puts the cache on `app.locals.cache` and `req.cache`, mounts a
 * router serving the health and metrics routes, and never blocks start-up. Every handler settles its own promise
 * (Express 4 does not catch rejected handlers), so nothing here relies on Express 5's async error handling.
 * The app closes the client on shutdown: `server.on('close', () => void app.locals.cache.close())`.
 */
import type { Application, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { RedisCache, type RedisLogger } from '../core/cache';
import { settingsFromEnv, type RedisSettings } from '../core/config';
import { METRICS_PATH, HEALTH_PATH } from '../core/index';

export * from '../core/index';

declare global {
  namespace Express {
    interface Locals {
      /** The full cache API (get, set, getMany, setMany, getOrSet, deletePattern, rateLimit, healthCheck, ...). */
      cache: RedisCache;
    }
    interface Request {
      /** The app's cache (the same instance as `app.locals.cache`), set by the gen redis router. */
      cache: RedisCache;
    }
  }
}

export interface RedisExpressOptions extends Partial<RedisSettings> {
  /** A redis:// or rediss:// URL; wins over REDIS_URL (the other fields still override it). */
  url?: string;
  /** Serve GET /api/health/module/redis and /api/health/module/redis/metrics (default true). */
  healthRoute?: boolean;
  /** Where warnings go (default: console.warn, as in the core). */
  logger?: RedisLogger;
}

const consoleLogger: RedisLogger = { warn: (message) => console.warn(`[rapidkit.redis] ${message}`) };

/**
 * A cache from the environment (REDIS_URL, REDIS_KEY_PREFIX, CACHE_TTL, ...) and the given overrides. An invalid
 * setting throws a ConfigError naming the variable (fail fast at start-up); Redis itself is never contacted here
 * except for the background preconnect when REDIS_PRECONNECT is on.
 */
export function createCache(options: Omit<RedisExpressOptions, 'healthRoute'> = {}): RedisCache {
  const { url, logger = consoleLogger, ...overrides } = options;
  const base = url ? settingsFromEnv({ ...process.env, REDIS_URL: url }) : settingsFromEnv();
  const cache = new RedisCache({ ...base, ...overrides }, { logger });
  if (cache.settings.preconnect) {
    void cache.connect().then((ok) => {
      if (!ok) logger.warn('redis preconnect failed; serving without cache until Redis is back', { module: 'redis' });
    });
  }
  return cache;
}

/** GET handler: the health payload, 200 when Redis answers PING within the deadline, else 503 with a detail. */
export function healthHandler(cache: RedisCache): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    cache
      .healthCheck()
      .then((payload) => {
        res.status(payload.status === 'ok' ? 200 : 503).json(payload);
      })
      .catch(next);
  };
}

/** GET handler: the cache metrics in the Prometheus text format (rapidkit_redis_*). */
export function metricsHandler(cache: RedisCache): RequestHandler {
  return (_req: Request, res: Response) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send(cache.renderPrometheus());
  };
}

/**
 * A router that sets `req.cache` for every request after it and, unless `healthRoute: false`, serves the health
 * and metrics routes. `express` is required here (not at load time of the layer) so a project without Express
 * can still use the rest of this file's exports.
 */
export function redisRouter(cache: RedisCache, options: { healthRoute?: boolean } = {}): Router {
  const express = require('express') as typeof import('express');
  const router = express.Router();
  router.use((req: Request, _res: Response, next: NextFunction) => {
    req.cache = cache;
    next();
  });
  if (options.healthRoute ?? true) {
    router.get(HEALTH_PATH, healthHandler(cache));
    router.get(METRICS_PATH, metricsHandler(cache));
  }
  return router;
}

/**
 * Wires the cache into an Express app: `app.locals.cache`, `req.cache`, the health and metrics routes. Call it
 * before the routes that use `req.cache`; calling it again returns the same cache. Close it when the server closes:
 * `server.on('close', () => void app.locals.cache.close())`.
 */
export function useRedis(app: Application, options: RedisExpressOptions = {}): RedisCache {
  // a second call (another module wiring the same app) returns the first cache and mounts nothing more
  const existing: unknown = app.locals.cache;
  if (existing instanceof RedisCache) return existing;
  const { healthRoute, ...rest } = options;
  const cache = createCache(rest);
  app.locals.cache = cache;
  app.use(redisRouter(cache, healthRoute === undefined ? {} : { healthRoute }));
  return cache;
}
