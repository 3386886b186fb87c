"""Hit/miss/error/fallback counters, breaker state and latency, in Prometheus text format."""
from __future__ import annotations

from collections import deque
from typing import Any, Deque, Dict

from .breaker import STATE_CODES

PREFIX = "rapidkit_redis"
_GAUGE_HELP = {
    "cluster_masters_reachable": "Cluster masters that answered PING at the last health check.",
    "cluster_masters_total": "Cluster masters known at the last health check.",
    "cluster_slots_covered": "Hash slots served (cluster_slots_ok) at the last health check.",
    "sentinels_reachable": "Sentinels that answered at the last health check.",
}


class Metrics:
    def __init__(self, window: int = 2048) -> None:
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self.fallbacks = 0
        self.mode = "standalone"
        self.gauges: Dict[str, int] = {}  # cluster/sentinel figures from the last health check
        self.latency_sum = 0.0
        self.latency_count = 0
        self._samples: Deque[float] = deque(maxlen=window)

    def observe(self, seconds: float) -> None:
        self.latency_sum += seconds
        self.latency_count += 1
        self._samples.append(seconds)

    def quantile(self, q: float) -> float:
        if not self._samples:
            return 0.0
        ordered = sorted(self._samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def snapshot(self) -> Dict[str, Any]:
        return {
            "mode": self.mode,
            "hits": self.hits,
            "misses": self.misses,
            "errors": self.errors,
            "fallbacks": self.fallbacks,
            "latency": {"p50": self.quantile(0.5), "p99": self.quantile(0.99), "count": self.latency_count},
        }

    def render_prometheus(self, breaker_state: str) -> str:
        lines = []
        for name, value, help_text in (
            ("hits_total", self.hits, "Cache reads that found a value."),
            ("misses_total", self.misses, "Cache reads that found nothing."),
            ("errors_total", self.errors, "Cache calls that failed: Redis unreachable, slow or not serving."),
            ("fallbacks_total", self.fallbacks, "Calls answered with the fail-open fallback."),
        ):
            lines += [f"# HELP {PREFIX}_{name} {help_text}", f"# TYPE {PREFIX}_{name} counter", f"{PREFIX}_{name} {value}"]
        lines += [
            f"# HELP {PREFIX}_breaker_state Circuit breaker: 0 closed, 1 open, 2 half-open.",
            f"# TYPE {PREFIX}_breaker_state gauge",
            f"{PREFIX}_breaker_state {STATE_CODES[breaker_state]}",
            f"# HELP {PREFIX}_operation_seconds Latency of cache calls.",
            f"# TYPE {PREFIX}_operation_seconds summary",
        ]
        for q in (0.5, 0.9, 0.99):
            lines.append(f'{PREFIX}_operation_seconds{{quantile="{q}"}} {self.quantile(q):.6f}')
        lines += [f"{PREFIX}_operation_seconds_sum {self.latency_sum:.6f}", f"{PREFIX}_operation_seconds_count {self.latency_count}"]
        lines += [
            f"# HELP {PREFIX}_mode Deployment the cache talks to: standalone, cluster or sentinel.",
            f"# TYPE {PREFIX}_mode gauge",
            f'{PREFIX}_mode{{mode="{self.mode}"}} 1',
        ]
        for name, value in self.gauges.items():
            lines += [f"# HELP {PREFIX}_{name} {_GAUGE_HELP[name]}", f"# TYPE {PREFIX}_{name} gauge", f"{PREFIX}_{name} {value}"]
        return "\n".join(lines) + "\n"

