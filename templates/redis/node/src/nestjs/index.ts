/**
 * NestJS layer: RedisModule.forRoot()/forRootAsync(), the injectable RedisService, the health controller, the
 * ConfigModule pieces (registerAs('redis') + Joi schema) and a @nestjs/terminus health indicator.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  Global,
  Header,
  Injectable,
  Logger,
  Module,
  ServiceUnavailableException,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OptionalFactoryDependency,
  type Provider,
  type Type,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import * as Joi from 'joi';
import { RedisCache, type HealthPayload, type RedisLogger } from '../core/cache';
import { ENV_RULES, checkEnvValue, checkTopologyEnv, settingsFromEnv, type RedisSettings } from '../core/config';

export * from '../core/index';

/** `ConfigModule.forRoot({ load: [redisConfig] })`, then `configService.get('redis')` gives the resolved settings. */
export const redisConfig = registerAs('redis', (): RedisSettings => settingsFromEnv());

/**
 * `ConfigModule.forRoot({ validationSchema: redisValidationSchema })`: Joi refuses a bad value at start-up and names
 * the variable. Built from the runtime's own table (ENV_RULES + checkEnvValue), so Joi and the runtime accept and
 * refuse exactly the same values (e.g. REDIS_HOST=my_redis and an empty REDIS_URL pass; REDIS_PORT=6379.0 fails).
 * The topology rules across variables (REDIS_CLUSTER_NODES and REDIS_SENTINELS both set, REDIS_SENTINELS without
 * REDIS_SENTINEL_MASTER, a non-zero REDIS_DB in cluster mode) are checked on the whole object (checkTopologyEnv).
 */
export const redisValidationSchema = Joi.object(
  Object.fromEntries(
    Object.keys(ENV_RULES).map((name) => [
      name,
      Joi.any().custom((value: unknown) => {
        checkEnvValue(name, value === undefined || value === null ? undefined : String(value));
        return value;
      }, `gen redis rule for ${name}`),
    ]),
  ),
)
  .unknown(true)
  .custom((env: Record<string, unknown>) => {
    checkTopologyEnv(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === undefined || v === null ? undefined : String(v)])));
    return env;
  }, 'gen redis topology rules');

function nestLogger(): RedisLogger {
  const logger = new Logger('RedisModule');
  return { warn: (message) => logger.warn(message) };
}

/**
 * The cache API (see RedisCache: get, set, delete, exists, expire, ttl, incr, getMany, setMany, deletePattern,
 * getOrSet, rateLimit, healthCheck, stats, renderPrometheus, metadata) as an injectable service; `client` is the
 * raw ioredis client. Built by RedisModule (not by Nest's constructor injection).
 */
@Injectable()
export class RedisService extends RedisCache implements OnModuleInit, OnModuleDestroy {
  /**
   * `set(key, value)` (CACHE_TTL), `set(key, value, ttlSeconds)` (0 = no expiry), or ioredis' spelling
   * `set(key, value, 'EX', seconds)` / `set(key, value, 'PX', milliseconds)`. False when Redis is unavailable.
   */
  override set(key: string, value: unknown, ttlSeconds?: number | null): Promise<boolean>;
  override set(key: string, value: unknown, mode: 'EX' | 'PX' | 'ex' | 'px', amount: number): Promise<boolean>;
  override set(key: string, value: unknown, ttlOrMode?: number | null | string, amount?: number): Promise<boolean> {
    if (typeof ttlOrMode !== 'string') return super.set(key, value, ttlOrMode);
    const mode = ttlOrMode.toUpperCase();
    if (mode !== 'EX' && mode !== 'PX') {
      throw new TypeError(`RedisService.set supports the 'EX' and 'PX' expiry modes, got '${ttlOrMode}' (use the raw ioredis client, redis.client, for others)`);
    }
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount <= 0) {
      throw new TypeError(`set(key, value, '${mode}', n) needs a positive integer n, got ${String(amount)}`);
    }
    return super.set(key, value, mode === 'EX' ? amount : amount / 1000);
  }

  async onModuleInit(): Promise<void> {
    if (this.settings.preconnect && !(await this.connect())) {
      new Logger('RedisModule').warn('preconnect failed; the app starts anyway and serves without cache until Redis is back');
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}

@Controller('api/health/module')
export class RedisHealthController {
  constructor(private readonly redis: RedisService) {}

  /** 200 with the health payload, or 503 with `status: "fail"` within the deadline. */
  @Get('redis')
  async health(): Promise<HealthPayload> {
    const payload = await this.redis.healthCheck();
    if (payload.status !== 'ok') throw new ServiceUnavailableException(payload);
    return payload;
  }

  /** Prometheus text (rapidkit_redis_*). */
  @Get('redis/metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): string {
    return this.redis.renderPrometheus();
  }
}

export type RedisIndicatorResult = Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;

/** The @nestjs/terminus HealthCheckError when terminus is installed (optional require), else an equivalent error. */
function healthCheckError(message: string, causes: RedisIndicatorResult): Error {
  try {
    const terminus = require('@nestjs/terminus') as { HealthCheckError?: new (m: string, c: unknown) => Error };
    if (typeof terminus.HealthCheckError === 'function') return new terminus.HealthCheckError(message, causes);
  } catch {
    /* terminus not installed */
  }
  return Object.assign(new Error(message), { isHealthCheckError: true, causes });
}

/** Whether the installed terminus reads `down` results from a resolved indicator (terminus >= 11). */
function terminusReadsDownResults(): boolean {
  try {
    return typeof (require('@nestjs/terminus') as { HealthIndicatorService?: unknown }).HealthIndicatorService === 'function';
  } catch {
    return true;
  }
}

/**
 * @nestjs/terminus health indicator (needs no terminus import of yours):
 * `this.health.check([() => this.redisIndicator.isHealthy('redis')])`. Follows the installed terminus: on
 * terminus >= 11 an unreachable Redis resolves to `{redis: {status: 'down', ...}}`; on older versions it throws a
 * HealthCheckError carrying that result, as those versions expect.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(private readonly redis: RedisService) {}

  async isHealthy(key = 'redis'): Promise<RedisIndicatorResult> {
    const p = await this.redis.healthCheck();
    const up = p.status === 'ok';
    const result: RedisIndicatorResult = {
      [key]: up
        ? { status: 'up', ping_ms: p.latency?.ping_ms ?? null, breaker: p.breaker.state }
        : { status: 'down', message: p.detail ?? 'redis unreachable', breaker: p.breaker.state },
    };
    if (up || terminusReadsDownResults()) return result;
    throw healthCheckError('redis unreachable', result);
  }
}

export interface RedisModuleOptions extends Partial<RedisSettings> {
  /** A redis:// or rediss:// URL; wins over REDIS_URL (the other fields still override it). */
  url?: string;
  /** Serve GET /api/health/module/redis and /metrics (default true). */
  healthRoute?: boolean;
  /**
   * forRoot() only: load the `.env` file(s) through `ConfigModule.forRoot` (variables already in the environment
   * win) and check the REDIS_* values with redisValidationSchema at start-up. Default `.env` in the working
   * directory, as ConfigModule does; a path or list of paths, or false when your app loads its environment itself.
   */
  envFile?: string | string[] | false;
}

/** A class that builds the module's options: `forRootAsync({ useClass })` or `forRootAsync({ useExisting })`. */
export interface RedisOptionsFactory {
  createRedisOptions(): RedisModuleOptions | undefined | Promise<RedisModuleOptions | undefined>;
}

/** Exactly one of useFactory, useClass and useExisting (as in @nestjs/typeorm or @nestjs/cache-manager). */
export interface RedisModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** The providers useFactory receives, in order (e.g. `[ConfigService]`). */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /**
   * Settings overrides (e.g. `(config: ConfigService) => config.get('redis')`), applied over the environment.
   * (A method signature, so a factory taking its injected providers by their own types type-checks.)
   */
  useFactory?(...args: never[]): RedisModuleOptions | undefined | Promise<RedisModuleOptions | undefined>;
  /** A RedisOptionsFactory this module instantiates (its own dependencies injected). */
  useClass?: Type<RedisOptionsFactory>;
  /** A RedisOptionsFactory provider the imported modules already have. */
  useExisting?: InjectionToken<RedisOptionsFactory>;
  healthRoute?: boolean;
}

/** The resolved options of forRootAsync (a provider token of this module). */
export const REDIS_MODULE_OPTIONS = Symbol('REDIS_MODULE_OPTIONS');

function optionsProviders(options: RedisModuleAsyncOptions): Provider[] {
  const fromFactory = (factory: RedisOptionsFactory) => factory.createRedisOptions();
  const given = [options.useFactory, options.useClass, options.useExisting].filter((x) => x !== undefined).length;
  if (given !== 1) throw new Error('RedisModule.forRootAsync: give exactly one of useFactory, useClass or useExisting');
  if (options.useFactory) {
    const factory = options.useFactory as (...args: unknown[]) => RedisModuleOptions | undefined | Promise<RedisModuleOptions | undefined>;
    return [{ provide: REDIS_MODULE_OPTIONS, inject: options.inject ?? [], useFactory: factory }];
  }
  if (options.useClass) {
    return [
      { provide: options.useClass, useClass: options.useClass },
      { provide: REDIS_MODULE_OPTIONS, inject: [options.useClass], useFactory: fromFactory },
    ];
  }
  return [{ provide: REDIS_MODULE_OPTIONS, inject: [options.useExisting!], useFactory: fromFactory }];
}

function build(overrides: RedisModuleOptions | undefined): RedisService {
  const { healthRoute: _ignored, envFile: _loaded, url, ...settings } = overrides ?? {};
  const base = url ? settingsFromEnv({ ...process.env, REDIS_URL: url }) : settingsFromEnv();
  return new RedisService({ ...base, ...settings }, { logger: nestLogger() });
}

/** Global module: import it once (AppModule); RedisService and RedisHealthIndicator are injectable everywhere. */
@Global()
@Module({})
export class RedisModule {
  /** Settings: the environment (REDIS_URL, ...) over the baked defaults, then `options` over both. */
  static forRoot(options: RedisModuleOptions = {}): DynamicModule {
    const envFile = options.envFile ?? '.env';
    return {
      module: RedisModule,
      // ConfigModule.forRoot reads the file into process.env when called (before any provider is built)
      imports: envFile === false ? [] : [ConfigModule.forRoot({ envFilePath: envFile, validationSchema: redisValidationSchema })],
      providers: [{ provide: RedisService, useFactory: () => build(options) }, RedisHealthIndicator],
      controllers: options.healthRoute === false ? [] : [RedisHealthController],
      exports: [RedisService, RedisHealthIndicator],
    };
  }

  /**
   * e.g. `forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (c: ConfigService) =>
   * c.get('redis') })`, or `forRootAsync({ useClass: RedisConfig })` with a class implementing RedisOptionsFactory.
   */
  static forRootAsync(options: RedisModuleAsyncOptions): DynamicModule {
    return {
      module: RedisModule,
      imports: options.imports ?? [],
      providers: [
        ...optionsProviders(options),
        { provide: RedisService, inject: [REDIS_MODULE_OPTIONS], useFactory: (resolved?: RedisModuleOptions) => build(resolved) },
        RedisHealthIndicator,
      ],
      controllers: options.healthRoute === false ? [] : [RedisHealthController],
      exports: [RedisService, RedisHealthIndicator],
    };
  }
}
