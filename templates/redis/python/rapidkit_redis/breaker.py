"""Circuit breaker around Redis: closed -> open after N consecutive failures -> half-open probe -> closed."""
from __future__ import annotations

import threading
import time

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATE_CODES = {CLOSED: 0, OPEN: 1, HALF_OPEN: 2}


class CircuitBreaker:
    def __init__(self, threshold: int = 5, reset_timeout: float = 2.0) -> None:
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """True when a call may go to Redis. While open, False at once (no network, no timeout)."""
        if self.state == CLOSED:
            return True
        with self._lock:
            if self.state == OPEN and time.monotonic() - self.opened_at >= self.reset_timeout:
                self.state = HALF_OPEN  # this caller is the single probe
                return True
            return False

    def success(self) -> None:
        if self.state != CLOSED or self.failures:
            with self._lock:
                self.state, self.failures = CLOSED, 0

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.state == HALF_OPEN or self.failures >= self.threshold:
                self.state, self.opened_at = OPEN, time.monotonic()

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()

    def snapshot(self) -> dict:
        return {"state": self.state, "failures": self.failures}
