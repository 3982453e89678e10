"""Documents over HTTP: admin keys add and remove documents (only their rows are indexed), reader
keys cannot, bad files and paths are refused with a JSON error, and `docs` scopes a question."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import httpx
import pytest

from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
READER, ADMIN = "documents-reader-0123", "documents-admin-0123"
NEW_PLAN = ROOT / "eval" / "multidoc" / "safety-work-plan-2021.txt"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server over a copy of the seed corpus and its index (so the embedding cache is warm)."""
    home = tmp_path_factory.mktemp("documents")
    corpus, index = home / "corpus", home / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    if (ROOT / "index").is_dir():
        shutil.copytree(ROOT / "index", index)
    env = {"RAG_API_KEYS": READER, "RAG_API_ADMIN_KEYS": ADMIN, "RAG_TODAY": "2021-06-01"}
    args = ["--corpus", str(corpus), "--index", str(index), "--rate-limit", "0"]
    with ServerProcess(args, env=env, cwd=home, log=home / "serve.log") as srv:
        srv.corpus = corpus  # type: ignore[attr-defined]
        yield srv


def _client(server: ServerProcess, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120)


def _upload(client: httpx.Client, path: str, data: bytes) -> httpx.Response:
    return client.post("/v1/documents", json={"path": path, "content_base64": base64.b64encode(data).decode()})


def test_a_reader_key_cannot_change_the_corpus(server):
    with _client(server, READER) as client:
        r = _upload(client, "2021/plan.txt", NEW_PLAN.read_bytes())
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert client.delete("/v1/documents/safety-work-plan-2020.txt").status_code == 403
    assert not (server.corpus / "2021").exists()


def test_bad_uploads_are_refused_and_nothing_is_written(server):
    with _client(server, ADMIN) as client:
        for path, data, code in [("../outside.txt", b"x", "bad_document_path"),
                                 ("notes.xlsx", b"PK\x03\x04", "unreadable_document"),
                                 ("binary.txt", bytes(range(256)) * 4, "unreadable_document")]:
            r = _upload(client, path, data)
            assert r.status_code == 400, (path, r.text)
            assert r.json()["error"]["code"] == code, r.text
        assert client.post("/v1/documents", json={"path": "a.txt", "content_base64": "***"}).status_code == 422
    assert sorted(p.name for p in server.corpus.rglob("*")) == ["safety-work-plan-2020.txt"]


def test_add_scope_and_remove_a_document(server):
    with _client(server, ADMIN) as admin, _client(server, READER) as reader:
        r = _upload(admin, "2021/safety-work-plan-2021.txt", NEW_PLAN.read_bytes())
        assert r.status_code == 201, r.text
        change = r.json()
        assert change["added"] == ["2021/safety-work-plan-2021.txt"] and change["unchanged"] == 1
        assert change["changed"] == [] and change["removed"] == []
        ids = {d["id"] for d in reader.get("/v1/documents").json()["documents"]}
        assert ids == {"safety-work-plan-2020.txt", "2021/safety-work-plan-2021.txt"}
        both = reader.post("/v1/ask", json={"question": "2021年燃气还是城管执法局牵头吗?"}).json()
        assert {c["doc_id"] for c in both["citations"]} == {"safety-work-plan-2020.txt",
                                                             "2021/safety-work-plan-2021.txt"}
        scoped = reader.post("/v1/ask", json={"question": "燃气谁牵头?", "docs": ["safety-work-plan-2020.txt"]})
        assert [c["doc_id"] for c in scoped.json()["citations"]] == ["safety-work-plan-2020.txt"]
        unknown = reader.post("/v1/ask", json={"question": "燃气谁牵头?", "docs": ["nope.txt"]})
        assert unknown.status_code == 422 and "unknown document" in unknown.json()["error"]["message"]
        item = reader.get("/v1/documents/2021/safety-work-plan-2021.txt/items/22").json()
        assert item["title"] == "燃气"
        chat = reader.post("/v1/chat/completions", json={
            "messages": [{"role": "user", "content": "燃气谁牵头?"}], "docs": ["2021/safety-work-plan-2021.txt"]})
        assert {c["doc_id"] for c in chat.json()["citations"]} == {"2021/safety-work-plan-2021.txt"}

        r = admin.delete("/v1/documents/2021/safety-work-plan-2021.txt")
        assert r.status_code == 200 and r.json()["removed"] == ["2021/safety-work-plan-2021.txt"]
        assert admin.delete("/v1/documents/2021/safety-work-plan-2021.txt").status_code == 404
        after = reader.post("/v1/ask", json={"question": "燃气谁牵头?"}).json()
        assert {c["doc_id"] for c in after["citations"]} == {"safety-work-plan-2020.txt"}
