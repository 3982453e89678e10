"""Units a client may spend in a moving window (the ``limits`` package, in memory): the API's cost
quota and failed-authentication limit, and the web chat's login and feedback limits. It imports
nothing of the API, so the web chat can use it without FastAPI."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class Quota:
    """Units a client may spend in a moving window (``limits``, in memory). ``item`` None: no limit.
    A cost above the window's amount is charged as the whole amount, so that it can pass at all."""

    def __init__(self, item: RateLimitItem | None, storage: MemoryStorage | None = None) -> None:
        self.item = item
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage()) if item is not None else None

    @classmethod
    def per_second(cls, rate: float, burst: int | None = None, storage: MemoryStorage | None = None) -> Quota:
        """``rate`` units a second on average, ``burst`` (default: twice the rate) at once: ``burst``
        units in a window of burst/rate seconds, rounded up to whole seconds; the amount is raised when
        the rounding would lower the rate. ``rate`` 0: no limit."""
        if rate < 0:
            raise ValueError("rate must be 0 (off) or greater.")
        if burst is not None and burst < 1:
            raise ValueError("burst must be at least 1.")
        if rate == 0:
            return cls(None)
        burst = burst if burst is not None else max(1, math.ceil(2 * rate))
        window = max(1, math.ceil(burst / rate))
        return cls(RateLimitItemPerSecond(max(burst, math.floor(rate * window)), window, "cost"), storage)

    @classmethod
    def per_minute(cls, amount: int, storage: MemoryStorage | None = None) -> Quota:
        if amount < 0:
            raise ValueError("amount must be 0 (off) or greater.")
        return cls(RateLimitItemPerMinute(amount, 1, "fail") if amount else None, storage)

    def wait(self, client: str, cost: int = 1) -> float:
        """0 when ``cost`` units are free now, else the seconds until the window frees some; takes nothing."""
        if self.item is None or self._limiter is None:
            return 0.0
        if self._limiter.test(self.item, client, cost=min(cost, self.item.amount)):
            return 0.0
        return self._retry(client)

    def take(self, client: str, cost: int = 1) -> float:
        """Spend ``cost`` units: 0 when allowed, else (nothing spent) the seconds to wait."""
        if self.item is None or self._limiter is None:
            return 0.0
        if self._limiter.hit(self.item, client, cost=min(cost, self.item.amount)):
            return 0.0
        return self._retry(client)

    def _retry(self, client: str) -> float:
        assert self.item is not None and self._limiter is not None
        reset = self._limiter.get_window_stats(self.item, client).reset_time
        return max(reset - time.time(), 0.001)  # when the oldest hit leaves the window
