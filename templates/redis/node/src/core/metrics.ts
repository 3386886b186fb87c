import { BREAKER_CODES, type BreakerState } from './breaker';

const P = 'rapidkit_redis';

/** Hit/miss/error/fallback counters and latency, rendered in Prometheus text format (same names as Python). */
export class Metrics {
  hits = 0;
  misses = 0;
  errors = 0;
  fallbacks = 0;
  latencySum = 0;
  latencyCount = 0;
  /** standalone, cluster or sentinel (set by the cache). */
  mode = 'standalone';
  /** Gauges of the last health check in cluster/Sentinel mode (cluster_masters_reachable, sentinels_reachable, ...). */
  topology: Record<string, number> = {};
  private samples: number[] = [];
  private next = 0;

  constructor(private readonly window = 2048) {}

  /** seconds */
  observe(s: number): void {
    this.latencySum += s;
    this.latencyCount += 1;
    if (this.samples.length < this.window) this.samples.push(s);
    else {
      this.samples[this.next] = s;
      this.next = (this.next + 1) % this.window;
    }
  }

  quantile(q: number): number {
    if (this.samples.length === 0) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  }

  snapshot() {
    return {
      mode: this.mode,
      hits: this.hits,
      misses: this.misses,
      errors: this.errors,
      fallbacks: this.fallbacks,
      latency: { p50: this.quantile(0.5), p99: this.quantile(0.99), count: this.latencyCount },
    };
  }

  renderPrometheus(breaker: BreakerState): string {
    const lines: string[] = [];
    const counters: Array<[string, number, string]> = [
      ['hits_total', this.hits, 'Cache reads that found a value.'],
      ['misses_total', this.misses, 'Cache reads that found nothing.'],
      ['errors_total', this.errors, 'Cache calls that failed: Redis unreachable, slow or not serving.'],
      ['fallbacks_total', this.fallbacks, 'Calls answered with the fail-open fallback.'],
    ];
    for (const [name, v, help] of counters) lines.push(`# HELP ${P}_${name} ${help}`, `# TYPE ${P}_${name} counter`, `${P}_${name} ${v}`);
    lines.push(`# HELP ${P}_mode Deployment mode of the cache (the current one is 1).`, `# TYPE ${P}_mode gauge`, `${P}_mode{mode="${this.mode}"} 1`);
    const help: Record<string, string> = {
      cluster_masters_reachable: 'Cluster masters that answered the last health check.',
      cluster_masters_total: 'Cluster masters known at the last health check.',
      cluster_slots_covered: 'Hash slots served (cluster_slots_ok) at the last health check.',
      sentinels_reachable: 'Sentinels that answered the last health check.',
    };
    for (const [name, v] of Object.entries(this.topology)) {
      lines.push(`# HELP ${P}_${name} ${help[name] ?? name}`, `# TYPE ${P}_${name} gauge`, `${P}_${name} ${v}`);
    }
    lines.push(
      `# HELP ${P}_breaker_state Circuit breaker: 0 closed, 1 open, 2 half-open.`,
      `# TYPE ${P}_breaker_state gauge`,
      `${P}_breaker_state ${BREAKER_CODES[breaker]}`,
      `# HELP ${P}_operation_seconds Latency of cache calls.`,
      `# TYPE ${P}_operation_seconds summary`,
    );
    for (const q of [0.5, 0.9, 0.99]) lines.push(`${P}_operation_seconds{quantile="${q}"} ${this.quantile(q).toFixed(6)}`);
    lines.push(`${P}_operation_seconds_sum ${this.latencySum.toFixed(6)}`, `${P}_operation_seconds_count ${this.latencyCount}`);
    return lines.join('\n') + '\n';
  }
}
