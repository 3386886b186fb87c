/** Circuit breaker around Redis: closed -> open after N consecutive failures -> half-open probe -> closed. */
export type BreakerState = 'closed' | 'open' | 'half_open';
export const BREAKER_CODES: Record<BreakerState, number> = { closed: 0, open: 1, half_open: 2 };

/**
 * While open, allow() answers false at once (no network, no timer). After resetTimeoutMs one caller is let
 * through as the probe (half-open); its success closes the breaker, its failure re-opens it. A probe that ends
 * without a verdict (a caller error before Redis answered) hands the probe on (release), and a probe that never
 * reports back expires after probeTimeoutMs, so the breaker can never stay half-open for good.
 * (Same state machine as the Python runtime's breaker.)
 */
export class CircuitBreaker {
  state: BreakerState = 'closed';
  failures = 0;
  private openedAt = 0;
  private probeAt = 0;
  readonly probeTimeoutMs: number;

  constructor(
    readonly threshold = 5,
    readonly resetTimeoutMs = 1000,
    probeTimeoutMs = 10_000,
  ) {
    this.probeTimeoutMs = Math.max(probeTimeoutMs, resetTimeoutMs);
  }

  /** True when a call may go to Redis; while open, false at once. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    const now = Date.now();
    if ((this.state === 'open' && now - this.openedAt >= this.resetTimeoutMs) || (this.state === 'half_open' && now - this.probeAt >= this.probeTimeoutMs)) {
      this.state = 'half_open'; // this caller is the single probe
      this.probeAt = now;
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

  /** True while open and before the next probe is due: calls (and health) answer from this state at once. */
  isBlocking(): boolean {
    return this.state === 'open' && Date.now() - this.openedAt < this.resetTimeoutMs;
  }

  /** A call ended without telling whether Redis is healthy: let the next caller probe at once. */
  release(): void {
    if (this.state === 'half_open') {
      this.state = 'open';
      this.openedAt = Date.now() - this.resetTimeoutMs;
    }
  }

  snapshot(): { state: BreakerState; failures: number } {
    return { state: this.state, failures: this.failures };
  }
}
