"""A token bucket: at most ``rate`` events per second on average, in bursts of at most ``burst``.

Tokens refill continuously at ``rate`` per second up to ``burst`` (Eq. 1: tokens ← min(burst, tokens + rate·Δt));
an event takes one token and is refused when fewer than one is left.
"""

from __future__ import annotations

import time
from typing import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.clock = clock
        self.tokens = self.burst
        self.last = clock()

    def take(self) -> bool:
        """Take one token (True) or refuse (False)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)  # Eq. (1)
        self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True
