"""Re-indexing swaps the index atomically: requests issued during a re-index all succeed, and the
answer cache forgets answers of the old index."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest

from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
KEY = "reindex-test-key-0123"  # an admin key: re-indexing needs one
READER = "reindex-reader-key-4567"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture()
def server(tmp_path: Path):
    """A server over copies of the corpus and index (with its embedding cache), so rebuilding is
    quick and the project's own index is left alone."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    if (ROOT / "index").is_dir():
        shutil.copytree(ROOT / "index", index)
    args = ["--corpus", str(corpus), "--index", str(index), "--rate-limit", "0"]
    with ServerProcess(args, env={"RAG_API_KEYS": READER, "RAG_API_ADMIN_KEYS": KEY}, cwd=tmp_path, log=tmp_path / "serve.log") as srv:
        srv.corpus = corpus  # type: ignore[attr-defined]
        yield srv


def test_requests_during_reindex_see_no_error(server: ServerProcess) -> None:
    before = httpx.get(f"{server.url}/readyz").json()
    stop = threading.Event()
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def hammer(kind: str) -> None:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as client:
            n = 0
            while not stop.is_set() and n < 2000:
                n += 1
                if kind == "ask":  # distinct questions, so the cache does not hide the index
                    r = client.post("/v1/ask", json={"question": f"燃气安全由谁牵头{'?' * (n % 7)}{' ' * (n % 5)}"})
                    ok = r.status_code == 200 and [c["item"] for c in r.json()["citations"]][:1] == [23]
                elif kind == "search":
                    r = client.post("/v1/search", json={"query": "燃气管网改造", "k": 5})
                    ok = r.status_code == 200 and [h["item"] for h in r.json()["hits"]][:1] == [23]
                else:
                    r = client.get("/v1/departments/市安委办")
                    ok = r.status_code == 200 and r.json()["count"] >= 3
                with lock:
                    results.append((kind, r.status_code, "ok" if ok else r.text[:200]))

    threads = [threading.Thread(target=hammer, args=(kind,)) for kind in ("ask", "search", "department")]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=120) as admin:
            first = admin.post("/v1/admin/reindex", json={"force": True})
            second = admin.post("/v1/admin/reindex")  # no body: force by default
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
    assert first.json()["corpus_hash"] == before["corpus_hash"]
    after = httpx.get(f"{server.url}/readyz").json()
    assert after["index_created"] >= before["index_created"] and after["corpus_hash"] == before["corpus_hash"]
    failures = [r for r in results if r[2] != "ok"]
    assert not failures, failures[:5]
    assert {kind for kind, _, _ in results} == {"ask", "search", "department"} and len(results) >= 30


def test_reindex_picks_up_a_changed_corpus_and_drops_cached_answers(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=120) as client:
        question = {"question": "燃气安全由谁牵头"}
        assert client.post("/v1/ask", json=question).headers["x-cache"] == "miss"
        assert client.post("/v1/ask", json=question).headers["x-cache"] == "hit"
        old_hash = client.get("/readyz").json()["corpus_hash"]
        doc = next(server.corpus.glob("*.txt"))  # type: ignore[attr-defined]
        doc.write_text(doc.read_text("utf-8").replace("市城管执法局、市公安局", "市公安局、市城管执法局", 1), "utf-8")
        body = client.post("/v1/admin/reindex", json={"force": False}).json()
        assert body["corpus_hash"] != old_hash and client.get("/readyz").json()["corpus_hash"] == body["corpus_hash"]
        fresh = client.post("/v1/ask", json=question)
        assert fresh.headers["x-cache"] == "miss"
        assert fresh.json()["answer"].index("市公安局") < fresh.json()["answer"].index("市城管执法局")


def test_reindex_needs_an_admin_key_and_a_valid_body(server: ServerProcess) -> None:
    assert httpx.post(f"{server.url}/v1/admin/reindex").status_code == 401
    reader = httpx.post(f"{server.url}/v1/admin/reindex", headers={"Authorization": f"Bearer {READER}"})
    assert reader.status_code == 403 and reader.json()["error"]["code"] == "forbidden"
    bad = httpx.post(f"{server.url}/v1/admin/reindex", headers=AUTH, json={"force": "yes"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_the_answer_cache_is_kept_per_key(server: ServerProcess) -> None:
    """A cache hit must not tell one key what another asked."""
    question = {"question": "烟花爆竹的配合单位有哪些?"}
    admin = {"Authorization": f"Bearer {KEY}"}
    reader = {"Authorization": f"Bearer {READER}"}
    assert httpx.post(f"{server.url}/v1/ask", headers=admin, json=question).headers["x-cache"] == "miss"
    assert httpx.post(f"{server.url}/v1/ask", headers=reader, json=question).headers["x-cache"] == "miss"
    assert httpx.post(f"{server.url}/v1/ask", headers=reader, json=question).headers["x-cache"] == "hit"
