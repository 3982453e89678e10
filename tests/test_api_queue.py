"""The fair queue in front of the answering threads: at most N answers at once, the waiting ones let
in round-robin across keys, bounded. First the queue alone, then the app over the real service
through httpx's ASGI transport. The tests assert on order and counts, never on timings."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from rag.surfaces.api import ApiConfig, create_app
from rag.surfaces.api_backend import Backend
from rag.surfaces.api_limits import Busy, FairQueue, Slot

KEY_A, KEY_B = "flood-key-0123456789", "quiet-key-0123456789"


async def until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"still not so after {seconds:.0f} s")
        await asyncio.sleep(0.005)


# -- the queue alone -------------------------------------------------------------------------------
def test_waiting_clients_are_let_in_round_robin() -> None:
    async def run() -> list[str]:
        queue, order = FairQueue(slots=1), []
        held = await queue.turn("holder")
        assert held is not None

        async def work(client: str) -> None:
            slot = await queue.turn(client)
            assert slot is not None
            order.append(client)
            await asyncio.sleep(0)
            slot.release()

        tasks = []
        for client in ["A"] * 4 + ["B"] * 2 + ["C"]:
            tasks.append(asyncio.create_task(work(client)))
            await until(lambda: queue.waiting == len(tasks))
        held.release()
        await asyncio.gather(*tasks)
        assert (queue.running, queue.waiting) == (0, 0)
        return order

    assert asyncio.run(run()) == ["A", "B", "C", "A", "B", "A", "A"]  # FIFO would be A A A A B B C


def test_the_queue_is_bounded_per_client_and_in_all() -> None:
    async def run() -> list[str]:
        queue, order = FairQueue(slots=1, waiting=3, per_client=2), []
        held = await queue.turn("holder")

        async def work(client: str) -> None:
            slot = await queue.turn(client)
            assert isinstance(slot, Slot) and queue.running == 1
            order.append(client)
            slot.release()

        tasks = [asyncio.create_task(work("A")) for _ in range(2)]
        await until(lambda: queue.waiting == 2)
        with pytest.raises(Busy):
            await queue.turn("A")  # its own share is full
        tasks.append(asyncio.create_task(work("B")))
        await until(lambda: queue.waiting == 3)
        with pytest.raises(Busy):
            await queue.turn("C")  # the whole queue is full
        assert held is not None
        held.release()
        held.release()  # idempotent: the second does nothing
        await asyncio.gather(*tasks)
        assert (queue.running, queue.waiting) == (0, 0)
        return order

    assert asyncio.run(run()) == ["A", "B", "A"]


def test_a_waiter_that_leaves_gives_its_place_up() -> None:
    async def run() -> None:
        queue = FairQueue(slots=1)
        held = await queue.turn("holder")
        gone, never = asyncio.Event(), asyncio.Event()

        def receive(event: asyncio.Event) -> Callable[[], Any]:
            async def wait() -> dict[str, Any]:  # the server's receive(): a disconnect once the client leaves
                await event.wait()
                return {"type": "http.disconnect"}
            return wait

        cancelled = asyncio.create_task(queue.turn("A"))
        disconnected = asyncio.create_task(queue.turn("B", receive(gone)))
        staying = asyncio.create_task(queue.turn("C", receive(never)))
        await until(lambda: queue.waiting == 3)
        cancelled.cancel()
        await until(lambda: queue.waiting == 2)
        gone.set()
        assert await disconnected is None and queue.waiting == 1
        assert held is not None
        held.release()
        slot = await staying
        assert slot is not None and (queue.running, queue.waiting) == (1, 0)
        # A slot handed to a waiter that is cancelled before it runs goes on to the next one.
        late, next_one = asyncio.create_task(queue.turn("D")), asyncio.create_task(queue.turn("E"))
        await until(lambda: queue.waiting == 2)
        slot.release()  # D's ticket is resolved now, D has not run yet
        late.cancel()
        with pytest.raises(asyncio.CancelledError):
            await late
        last = await next_one
        assert last is not None and (queue.running, queue.waiting) == (1, 0)
        last.release()
        assert (queue.running, queue.waiting) == (0, 0)

    asyncio.run(run())


def test_queue_options_are_checked() -> None:
    with pytest.raises(ValueError):
        FairQueue(slots=0)
    with pytest.raises(ValueError):
        FairQueue(slots=1, waiting=-1)


# -- the app over the real service -----------------------------------------------------------------
class RecordingBackend(Backend):
    """The real backend; it notes which question each answer started for and how many ran at once,
    and holds answers while ``gate`` is clear."""

    def __init__(self, service: Any) -> None:
        super().__init__(lambda: service, cache_size=0)
        self.load()
        self.started: list[str] = []
        self.inside = self.most = 0
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()

    def ask(self, question: str, history: list[dict[str, Any]], docs: list[str] | None = None,
            tenant: str = "") -> Any:
        with self._lock:
            self.started.append(question)
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            self.gate.wait(60)
            return super().ask(question, history, docs, tenant)
        finally:
            with self._lock:
                self.inside -= 1


def _app(backend: Backend, **limits: Any) -> Any:
    return create_app(backend, ApiConfig(keys=frozenset({KEY_A, KEY_B}), rate_limit=0, **limits))


async def _ask(client: httpx.AsyncClient, key: str, question: str) -> httpx.Response:
    return await client.post("/v1/ask", json={"question": question}, headers={"Authorization": f"Bearer {key}"})


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=120)


def test_a_flooding_key_does_not_starve_another(service) -> None:
    """Key A has six questions waiting when key B asks two: B's are answered second and fourth,
    not after all of A's."""
    backend = RecordingBackend(service)
    app = _app(backend, answer_slots=1)
    queue: FairQueue = app.state.queue

    async def run() -> list[httpx.Response]:
        async with _client(app) as client:
            held = await queue.turn("the test")  # the one slot, so that the queue fills first
            flood = [asyncio.create_task(_ask(client, KEY_A, f"A{n} 燃气安全由谁牵头?")) for n in range(6)]
            await until(lambda: queue.waiting == 6)
            quiet = [asyncio.create_task(_ask(client, KEY_B, f"B{n} 双控机制建设什么时候要完成?")) for n in range(2)]
            await until(lambda: queue.waiting == 8)
            assert held is not None and backend.started == []
            held.release()
            return await asyncio.gather(*flood, *quiet)

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 8
    assert [q[0] for q in backend.started] == ["A", "B", "A", "B", "A", "A", "A", "A"]
    assert backend.most == 1


def test_at_most_the_slots_answer_at_once(service) -> None:
    backend = RecordingBackend(service)
    app = _app(backend, answer_slots=2)
    queue: FairQueue = app.state.queue

    async def run() -> list[httpx.Response]:
        async with _client(app) as client:
            backend.gate.clear()  # answers wait inside, so that whoever can get in does
            tasks = [asyncio.create_task(_ask(client, key, f"{n} 燃气安全由谁牵头?"))
                     for n in range(4) for key in (KEY_A, KEY_B)]
            await until(lambda: backend.inside == 2 and queue.waiting == 6)
            assert queue.running == 2 and len(backend.started) == 2
            backend.gate.set()
            return await asyncio.gather(*tasks)

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 8
    assert backend.most == 2 and len(backend.started) == 8


def test_a_full_queue_answers_503_busy(service) -> None:
    backend = RecordingBackend(service)
    app = _app(backend, answer_slots=1, queue=3, queue_per_key=2)
    queue: FairQueue = app.state.queue

    async def run() -> tuple[list[httpx.Response], list[httpx.Response]]:
        async with _client(app) as client:
            held = await queue.turn("the test")
            a = [asyncio.create_task(_ask(client, KEY_A, f"A{n} 燃气安全由谁牵头?")) for n in range(3)]
            await until(lambda: queue.waiting == 2 and sum(t.done() for t in a) == 1)
            b = [asyncio.create_task(_ask(client, KEY_B, f"B{n} 燃气安全由谁牵头?")) for n in range(2)]
            await until(lambda: queue.waiting == 3 and sum(t.done() for t in b) == 1)
            assert held is not None
            held.release()
            return list(await asyncio.gather(*a)), list(await asyncio.gather(*b))

    a, b = asyncio.run(run())
    assert sorted(r.status_code for r in a) == [200, 200, 503]  # A's own share (2) was full
    assert sorted(r.status_code for r in b) == [200, 503]  # then the whole queue (3)
    busy = next(r for r in a + b if r.status_code == 503)
    assert busy.json()["error"]["code"] == "busy" and busy.headers["retry-after"] == "1"
    assert (queue.running, queue.waiting) == (0, 0)
