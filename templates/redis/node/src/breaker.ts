/** Circuit breaker around Redis: closed -> open after N consecutive failures -> half-open probe -> closed. */
export type BreakerState = 'closed' | 'open' | 'half_open';
export const BREAKER_CODES: Record<BreakerState, number> = { closed: 0, open: 1, half_open: 2 };

export class CircuitBreaker {
  state: BreakerState = 'closed';
  failures = 0;
  private openedAt = 0;

  constructor(readonly threshold = 5, readonly resetTimeoutMs = 2000) {}

  /** True when a call may go to Redis; while open, false at once (no network, no timeout). */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && Date.now() - this.openedAt >= this.resetTimeoutMs) {
      this.state = 'half_open'; // this caller is the single probe
      return true;
    }
    return false;
  }

  success(): void {
    this.state = 'closed';
    this.failures = 0;
  }

  failure(): void {
    this.failures += 1;
    if (this.state === 'half_open' || this.failures >= this.threshold) {
      this.state = 'open';
      this.openedAt = Date.now();
    }
  }

  snapshot(): { state: BreakerState; failures: number } {
    return { state: this.state, failures: this.failures };
  }
}
