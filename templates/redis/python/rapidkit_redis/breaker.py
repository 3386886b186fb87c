"""Circuit breaker around Redis: closed -> open after N consecutive failures -> half-open probe -> closed."""
from __future__ import annotations

import threading
import time
from typing import Any, Dict

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATE_CODES = {CLOSED: 0, OPEN: 1, HALF_OPEN: 2}


class CircuitBreaker:
    """Thread-safe; cheap on the hot path (a closed breaker costs one attribute read).

    While open, allow() answers False at once. After reset_timeout one caller is let through as the probe
    (half-open); its success closes the breaker, its failure re-opens it. A probe that ends without a verdict
    (cancelled, or a caller error) hands the probe on (release), and a probe that never reports back expires
    after probe_timeout, so the breaker can never stay half-open for good.
    """

    def __init__(self, threshold: int = 5, reset_timeout: float = 1.0, probe_timeout: float = 10.0) -> None:
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self.probe_timeout = max(probe_timeout, reset_timeout)
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self._probe_at = 0.0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """True when a call may go to Redis. While open, False at once (no network, no timeout)."""
        if self.state == CLOSED:
            return True
        now = time.monotonic()
        with self._lock:
            if (self.state == OPEN and now - self.opened_at >= self.reset_timeout) or (
                self.state == HALF_OPEN and now - self._probe_at >= self.probe_timeout
            ):
                self.state, self._probe_at = HALF_OPEN, now  # this caller is the single probe
                return True
            return self.state == CLOSED

    def success(self) -> None:
        if self.state != CLOSED or self.failures:
            with self._lock:
                self.state, self.failures = CLOSED, 0

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.state == HALF_OPEN or self.failures >= self.threshold:
                self.state, self.opened_at = OPEN, time.monotonic()

    def release(self) -> None:
        """A call ended without telling whether Redis is healthy: let the next caller probe at once."""
        if self.state == HALF_OPEN:
            with self._lock:
                if self.state == HALF_OPEN:
                    self.state, self.opened_at = OPEN, time.monotonic() - self.reset_timeout

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()

    def snapshot(self) -> Dict[str, Any]:
        return {"state": self.state, "failures": self.failures}
