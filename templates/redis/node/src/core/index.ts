/** gen redis runtime for Node (vendored, read-only): the shared core used by the NestJS and Fastify layers. */
export { RedisCache, getRedisMetadata, ioredisOptions, ioredisClusterOptions, createClient, connectionOf, keySlot, FEATURES } from './cache';
export type { ClusterHealth, HealthConnection, RedisClient, SentinelHealth, HealthPayload, RateLimitResult, RedisCacheOptions, RedisLogger, RedisMetadata, ServerInfo } from './cache';
export { ConfigError, settingsFromEnv, maskedUrl, checkEnvValue, checkTopologyEnv, checkTopology, modeOf, parseAddress, ENV_RULES, URL_QUERY_PARAMETERS } from './config';
export type { EnvRule, RedisMode, RedisSettings } from './config';
export { CircuitBreaker } from './breaker';
export type { BreakerState } from './breaker';
export { Metrics } from './metrics';
export { dumps, loads } from './serialization';
export { SessionStore, SESSION_ID } from './sessions';
export type { SessionStoreOptions } from './sessions';
export { MODULE, VERSION, DEFAULTS } from './defaults';
export const HEALTH_PATH = '/api/health/module/redis';
export const METRICS_PATH = '/api/health/module/redis/metrics';
