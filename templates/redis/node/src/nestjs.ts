/** NestJS layer: RedisModule.forRoot()/forRootAsync(), RedisService, the health controller, ConfigModule pieces. */
import 'reflect-metadata';
import {
  Controller,
  Get,
  Global,
  Header,
  Injectable,
  Module,
  ServiceUnavailableException,
  type DynamicModule,
  type ModuleMetadata,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import * as Joi from 'joi';
import { RedisCache, type HealthPayload } from './cache';
import { settingsFromEnv, type RedisSettings } from './config';

export * from './index';

/** `ConfigModule.forRoot({ load: [redisConfig] })` then `configService.get('redis')` gives the resolved settings. */
export const redisConfig = registerAs('redis', () => settingsFromEnv());

const seconds = Joi.alternatives(Joi.number().min(0), Joi.string().pattern(/^\d+(\.\d+)?(ms|s)?$/));
const bool = Joi.string().valid('1', 'true', 'yes', 'on', '0', 'false', 'no', 'off').insensitive();

/** `ConfigModule.forRoot({ validationSchema: redisValidationSchema })`: fails at start-up naming the variable. */
export const redisValidationSchema = Joi.object({
  REDIS_URL: Joi.string().uri({ scheme: ['redis', 'rediss'] }),
  REDIS_HOST: Joi.string().hostname(),
  REDIS_PORT: Joi.number().integer().min(1).max(65535),
  REDIS_DB: Joi.number().integer().min(0),
  REDIS_USERNAME: Joi.string(),
  REDIS_PASSWORD: Joi.string().allow(''),
  REDIS_TLS: bool,
  REDIS_TLS_CA_FILE: Joi.string(),
  REDIS_TLS_CERT_FILE: Joi.string(),
  REDIS_TLS_KEY_FILE: Joi.string(),
  REDIS_MAX_CONNECTIONS: Joi.number().integer().min(1),
  REDIS_SOCKET_TIMEOUT: seconds,
  REDIS_CONNECT_TIMEOUT: seconds,
  REDIS_RETRIES: Joi.number().integer().min(0).max(10),
  REDIS_BACKOFF: seconds,
  REDIS_PRECONNECT: bool,
  REDIS_KEY_PREFIX: Joi.string().allow(''),
  CACHE_TTL: Joi.number().integer().min(0),
  REDIS_CACHE_TTL: Joi.number().integer().min(0),
  REDIS_BREAKER_THRESHOLD: Joi.number().integer().min(1),
  REDIS_BREAKER_RESET_TIMEOUT: seconds,
}).unknown(true);

/** The cache API (see RedisCache) as an injectable service; `client` is the raw ioredis client. */
@Injectable()
export class RedisService extends RedisCache implements OnModuleInit, OnModuleDestroy {
  async onModuleInit(): Promise<void> {
    if (this.settings.preconnect && !(await this.connect())) {
      console.warn('[rapidkit.redis] preconnect failed; the app starts anyway and serves without cache until Redis is back');
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}

@Controller('api/health/module')
export class RedisHealthController {
  constructor(private readonly redis: RedisService) {}

  /** 200 with the health payload, or 503 `status: "fail"` within the deadline. */
  @Get('redis')
  async health(): Promise<HealthPayload> {
    const payload = await this.redis.healthCheck();
    if (payload.status !== 'ok') throw new ServiceUnavailableException(payload);
    return payload;
  }

  @Get('redis/metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(): string {
    return this.redis.renderPrometheus();
  }
}

export interface RedisModuleOptions extends Partial<RedisSettings> {
  /** Serve GET /api/health/module/redis (default true). */
  healthRoute?: boolean;
}

export interface RedisModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: any[];
  useFactory: (...args: any[]) => RedisModuleOptions | Promise<RedisModuleOptions>;
  healthRoute?: boolean;
}

@Global()
@Module({})
export class RedisModule {
  /** Settings: environment (REDIS_URL, ...) over the baked defaults, then `options` over both. */
  static forRoot(options: RedisModuleOptions = {}): DynamicModule {
    const { healthRoute = true, ...overrides } = options;
    return {
      module: RedisModule,
      providers: [{ provide: RedisService, useFactory: () => new RedisService({ ...settingsFromEnv(), ...overrides }) }],
      controllers: healthRoute ? [RedisHealthController] : [],
      exports: [RedisService],
    };
  }

  /** e.g. `forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (c) => c.get('redis') })`. */
  static forRootAsync(options: RedisModuleAsyncOptions): DynamicModule {
    return {
      module: RedisModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: RedisService,
          inject: options.inject ?? [],
          useFactory: async (...args: any[]) => {
            const { healthRoute: _ignored, ...overrides } = await options.useFactory(...args);
            return new RedisService({ ...settingsFromEnv(), ...overrides });
          },
        },
      ],
      controllers: options.healthRoute === false ? [] : [RedisHealthController],
      exports: [RedisService],
    };
  }
}
