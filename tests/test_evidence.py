"""The typo check behind title matching: the regex form says what the plain window scan says. The
text index's shares are the ones ``support`` computes item by item."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answering.evidence import TextIndex, _near_copy, bigrams, idf_weights, support
from rag.reading.corpus import load_corpus

ALPHABET = "燃气安全牵头单位a^]\\.*-[ "


def window_scan(word: str, text: str) -> bool:
    """Some window of ``text`` differs from ``word`` in exactly one character."""
    n = len(word)
    return any(sum(a != b for a, b in zip(word, text[i : i + n], strict=True)) == 1 for i in range(len(text) - n + 1))


@settings(max_examples=3000, deadline=None)
@given(st.text(ALPHABET, max_size=6), st.text(ALPHABET, max_size=14))
def test_near_copy_is_the_window_scan(word: str, text: str) -> None:
    assert _near_copy(word, text) == window_scan(word, text)


def test_near_copy_examples() -> None:
    assert _near_copy("特种设备", "特种设被的检验由谁负责")  # one character replaced
    assert not _near_copy("特种设备", "特种设备的检验由谁负责")  # the word itself is not a typo of it
    assert not _near_copy("特种设备", "特殊设被")  # two replaced
    assert not _near_copy("", "任何文字")


@functools.cache
def seed_items():
    docs = load_corpus(Path(__file__).resolve().parents[1] / "corpus").docs
    items = {it.key: it for d in docs for it in d.items}
    return items, idf_weights([s for it in items.values() for s in it.sentences]), TextIndex(items)


@pytest.mark.parametrize("weighted", [False, True])
@settings(max_examples=300, deadline=None)
@given(content=st.text("危险化学品道路交通运输旅游景区安全监管疫苗煤气罐、 ", max_size=12))
def test_the_text_index_ranks_items_by_the_share_support_gives(weighted: bool, content: str) -> None:
    items, idf, index = seed_items()
    weights = idf if weighted else None
    brute = sorted((support(content, it.text, weights) for it in items.values()), reverse=True)[:3]
    best = index.best(content, weights, n=3)
    if not bigrams(content):
        assert best == []  # nothing to hold
        return
    assert [round(share, 9) for share, _ in best] == [round(x, 9) for x in brute]
    for share, key in best:
        assert share == pytest.approx(support(content, items[key].text, weights))
