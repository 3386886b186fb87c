/** Optional: a @nestjs/terminus health indicator (import this file only when terminus is installed). */
import { Injectable } from '@nestjs/common';
import { HealthCheckError, HealthIndicator, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisService } from './nestjs';

@Injectable()
export class RedisHealthIndicator extends HealthIndicator {
  constructor(private readonly redis: RedisService) {
    super();
  }

  async isHealthy(key = 'redis'): Promise<HealthIndicatorResult> {
    const payload = await this.redis.healthCheck();
    const result = this.getStatus(key, payload.status === 'ok', { latency_ms: payload.latency?.ping_ms ?? null, breaker: payload.breaker.state });
    if (payload.status !== 'ok') throw new HealthCheckError('redis unreachable', result);
    return result;
  }
}
