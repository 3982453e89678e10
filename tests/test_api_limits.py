"""Cost-weighted rate limits and the failed-authentication limit: in process (the FastAPI app over
the real service through httpx's ASGI transport), and against a real ``rag serve``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from rag.surfaces.api import ApiConfig, create_app
from rag.surfaces.api_backend import Backend
from rag.surfaces.api_limits import address_key, embed_cost, question_cost, request_cost
from rag.surfaces.api_process import ServerProcess
from rag.surfaces.quota import Quota

ROOT = Path(__file__).resolve().parents[1]

KEY_A, KEY_B = "flood-key-0123456789", "quiet-key-0123456789"
SHORT = "燃气安全由谁牵头?"
LONG = ("燃气安全由谁牵头负责城市管网改造工作的落实情况如何" * 20)[:500]


def _chat(*users: str) -> bytes:
    messages = []
    for text in users:
        messages += [{"role": "user", "content": text}, {"role": "assistant", "content": "答" * 1000}]
    return json.dumps({"messages": messages[:-1]}).encode()


def test_question_cost_follows_the_measured_embedding_time() -> None:
    assert [question_cost(n) for n in (0, 20, 50, 100, 200, 300, 500)] == [1, 1, 2, 4, 9, 16, 36]
    assert question_cost(501) == 1  # refused (422) before it is embedded
    assert embed_cost(600) == 49  # the longest earlier question a follow-up may be answered as


@pytest.mark.parametrize(("path", "body", "cost"), [
    ("/v1/ask", json.dumps({"question": SHORT}).encode(), 1),
    ("/v1/ask", json.dumps({"question": LONG}).encode(), 36),
    ("/v1/ask", json.dumps({"question": LONG, "history": [{"question": LONG}]}).encode(), 36),
    ("/v1/ask", json.dumps({"question": "那市公安局呢", "history": [{"question": SHORT}]}).encode(), 1),
    ("/v1/ask", json.dumps({"question": "那市公安局呢", "history": [{"question": LONG}]}).encode(), 36),
    ("/v1/ask", json.dumps({"question": "那市公安局呢", "history": [{"question": LONG}, {}]}).encode(), 1),
    ("/v1/ask", json.dumps({"question": "那市公安局呢", "history": [{"question": "问" * 600}]}).encode(), 49),
    ("/v1/ask", json.dumps({"question": "那市公安局呢", "history": [{"question": "问" * 601}]}).encode(), 1),
    ("/v1/search", json.dumps({"query": "问" * 100}).encode(), 4),
    ("/v1/chat/completions", _chat("问" * 100, "问" * 200), 4 + 9),  # every user message answered
    ("/v1/chat/completions", _chat(*["问" * 100] * 7), 5 * 4),  # the last one and four earlier
    ("/v1/chat/completions", json.dumps({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "问" * 100}, {"type": "image_url"}]}]}).encode(), 4),
    ("/v1/ask", b'{"question":', 1),
    ("/v1/ask", b"[1, 2]", 1),
    ("/v1/ask", b"[" * 50_000 + b"]" * 50_000, 1),  # too deep for json: the app answers
    ("/v1/documents", json.dumps({"question": LONG}).encode(), 1),
])
def test_request_cost(path: str, body: bytes, cost: int) -> None:
    assert request_cost(path, body) == cost


def test_quota_is_a_moving_window_of_the_burst() -> None:
    quota = Quota.per_second(20)
    assert quota.item is not None and (quota.item.amount, quota.item.get_expiry()) == (40, 2)
    quota = Quota.per_second(0.5, 3)
    assert quota.item is not None and (quota.item.amount, quota.item.get_expiry()) == (3, 6)
    quota = Quota.per_second(3, 1)  # the window is at least a second: the rate is kept
    assert quota.item is not None and (quota.item.amount, quota.item.get_expiry()) == (3, 1)
    assert Quota.per_second(0).item is None and Quota.per_second(0).take("anyone", 10**6) == 0
    with pytest.raises(ValueError):
        Quota.per_second(-1)
    with pytest.raises(ValueError):
        Quota.per_second(1, 0)


def test_a_cost_over_the_burst_is_charged_as_the_whole_burst() -> None:
    quota = Quota.per_second(1, 5)
    assert quota.take("a", 100) == 0  # allowed once the window is empty, never refused for ever
    assert quota.wait("a") > 0 and quota.take("a", 1) > 0
    assert quota.take("b", 5) == 0  # per client


def test_addresses_are_counted_per_host_and_ipv6_per_64() -> None:
    assert address_key("203.0.113.7") == "203.0.113.7"
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("local") == "local"


@pytest.fixture(scope="module")
def backend(service) -> Backend:
    return Backend.of(service)


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=60)


def test_long_questions_spend_the_quota_faster(backend: Backend) -> None:
    app = create_app(backend, ApiConfig(keys=frozenset({KEY_A, KEY_B}), rate_limit=1, burst=40))

    async def run() -> tuple[list[int], list[int], httpx.Response]:
        async with _client(app) as client:
            async def ask(key: str, question: str) -> httpx.Response:
                return await client.post("/v1/ask", json={"question": question},
                                         headers={"Authorization": f"Bearer {key}"})

            a = [(await ask(KEY_A, q)).status_code for q in (LONG, LONG, SHORT, SHORT, SHORT, SHORT, SHORT)]
            b = [(await ask(KEY_B, SHORT + str(n))).status_code for n in range(40)]
            return a, b, await ask(KEY_B, SHORT)

    a, b, limited = asyncio.run(run())
    assert a == [200, 429, 200, 200, 200, 200, 429]  # 36 + 4 × 1 = the burst of 40
    assert b == [200] * 40  # the same 40 units as 40 short questions
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 40


def test_failed_authentication_is_limited_per_client_address(tmp_path: Path) -> None:
    """Ten failures a minute per address, then 429 without the key being looked at. The address is
    the peer's, or the X-Forwarded-For entry a trusted proxy (here: loopback, the default) added."""
    args = ["--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "index")]
    with ServerProcess(args, env={"RAG_API_KEYS": KEY_A}, cwd=ROOT, log=tmp_path / "serve.log",
                       ready_path="/healthz") as srv:
        def get(key: str, address: str | None = None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {key}", **({"X-Forwarded-For": address} if address else {})}
            return httpx.get(f"{srv.url}/v1/documents", headers=headers)

        guesser, neighbour = "203.0.113.7", "198.51.100.9"
        statuses = [get(f"guess-{n:08d}", guesser).status_code for n in range(11)]
        assert statuses == [401] * 10 + [429]
        limited = get(KEY_A, guesser)  # the right key is not even checked: guessing gains nothing
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "too_many_auth_failures"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert get(KEY_A, neighbour).status_code == 503  # past the guard: the index failed to load
        assert get("guess-x-000000", neighbour).status_code == 401
        assert get(KEY_A).status_code == 503  # this machine itself, no proxy header
        assert httpx.get(f"{srv.url}/healthz").status_code == 200


def test_an_earlier_question_is_bounded_like_a_question(backend: Backend) -> None:
    """A follow-up can be answered as the last turn's question again, so that question is embedded:
    it may be at most 100 characters longer than a question (a swapped name, an added phrase)."""
    app = create_app(backend, ApiConfig(keys=frozenset({KEY_A}), rate_limit=0))

    async def run() -> list[httpx.Response]:
        async with _client(app) as client:
            return [await client.post("/v1/ask", headers={"Authorization": f"Bearer {KEY_A}"}, json={
                "question": "那市公安局呢", "history": [{"question": "燃气安全由谁牵头?" + "。" * n}]})
                for n in (591, 592)]  # 600 and 601 characters

    fits, too_long = asyncio.run(run())
    assert fits.status_code == 200
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "invalid_request"
