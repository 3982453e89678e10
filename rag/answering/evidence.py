"""Scoring evidence against a question: which items a question is about, how well a sentence
supports it. Pure functions over text; no index, no model."""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from rag.answering.rules import (
    A_NOT_A,
    BIGRAM_CACHE_BYTES,
    FUNCTION_CHARS,
    GENERIC_TITLE_WORDS,
    LONG_STOPWORDS,
    NON_CONTENT,
    QUOTE_WEIGHT,
    QUOTED_PHRASE,
    SENTENCE_WEIGHT,
    TITLE_VERBS,
    TITLE_WEIGHT,
)
from rag.types import Hit, Item


def content_text(text: str, remove: list[str] = ()) -> str:
    """The question with cue words, function words and the given names (departments) removed."""
    for word in sorted(remove, key=len, reverse=True):
        text = text.replace(word, " ")
    text = A_NOT_A.sub(" ", text)
    for word in LONG_STOPWORDS:
        text = text.replace(word, " ")
    text = "".join(" " if ch in FUNCTION_CHARS else ch for ch in text)
    return NON_CONTENT.sub(" ", text)


class _BoundedCache:
    """Bigram sets of recent texts, least recently used dropped first, bounded by an estimate of the
    bytes held (a question-keyed ``lru_cache`` grew by ~110 KB per distinct long question)."""

    def __init__(self, budget: int) -> None:
        self.budget, self.used = budget, 0
        self._entries: OrderedDict[str, tuple[frozenset[str], int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> frozenset[str] | None:
        with self._lock:
            entry = self._entries.get(text)
            if entry is not None:
                self._entries.move_to_end(text)
                return entry[0]
        return None

    def put(self, text: str, grams: frozenset[str]) -> None:
        size = 100 + 4 * len(text) + 120 * len(grams)  # str, frozenset slots and 2-character strs
        with self._lock:
            if text in self._entries or size > self.budget:
                return
            self._entries[text] = (grams, size)
            self.used += size
            while self.used > self.budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.used -= dropped


_BIGRAMS = _BoundedCache(BIGRAM_CACHE_BYTES)


def bigrams(text: str) -> frozenset[str]:
    if (cached := _BIGRAMS.get(text)) is not None:
        return cached
    out = set()
    for part in NON_CONTENT.split(text):
        out.update(part[i : i + 2] for i in range(len(part) - 1))
    grams = frozenset(out)
    _BIGRAMS.put(text, grams)
    return grams


def support(question_content: str, evidence: str, weights: Mapping[str, float] | None = None) -> float:
    """Share of the question's content bigrams that the evidence contains (typo-tolerant overlap),
    each bigram weighted by how rare it is in the corpus when ``weights`` (IDF) are given:
    「主线」 counts for more than 「安全」."""
    q = bigrams(question_content)
    return _mass(q & bigrams(evidence), weights) / _mass(q, weights) if q else 0.0


def _mass(grams: frozenset[str], weights: Mapping[str, float] | None) -> float:
    """How many bigrams, or their summed IDF weight ("" holds an unseen bigram's weight)."""
    if weights is None:
        return float(len(grams))
    unknown = weights.get("", 1.0)
    return sum(weights.get(g, unknown) for g in grams)


def idf_weights(passages: list[str]) -> dict[str, float]:
    """IDF of every bigram over the passages; the key "" holds the weight of an unseen bigram."""
    df: dict[str, int] = {}
    for passage in passages:
        for g in bigrams(passage):
            df[g] = df.get(g, 0) + 1
    n = len(passages)
    weights = {g: math.log((n + 1) / (d + 0.5)) for g, d in df.items()}
    weights[""] = math.log((n + 1) / 0.5)
    return weights


def title_match(question: str, item: Item) -> float:
    """How much of the item's topical title the question names (燃气 in 燃气安全由谁牵头 → 1.0)."""
    title = TITLE_VERBS.sub("", item.title)
    grams = bigrams(title) - GENERIC_TITLE_WORDS
    if not grams:
        return 0.0
    if title in question:
        return 1.0
    if len(title) >= 3 and _near_copy(title, question):
        return 0.9  # one character off: 民暴器材, 特种设被
    return len(grams & bigrams(question)) / len(grams)


FUZZY_TITLES = 300


class TitleIndex:
    """Items by the topical bigrams of their titles, so a question finds the items it names
    without scanning them all."""

    def __init__(self, items: dict[tuple[str, str], Item], max_postings: int = 1000) -> None:
        postings: dict[str, list[tuple[str, str]]] = {}
        for key, item in items.items():
            for g in bigrams(TITLE_VERBS.sub("", item.title)) - GENERIC_TITLE_WORDS:
                postings.setdefault(g, []).append(key)
        self._postings = {g: keys for g, keys in postings.items() if len(keys) <= max_postings}
        # The typo scan compares the question with every title: kept to small corpora.
        self._fuzzy = [(key, item.title) for key, item in items.items()] if len(items) <= FUZZY_TITLES else []

    def lookup(self, question: str) -> list[tuple[str, int]]:
        found = dict.fromkeys(k for g in bigrams(question) for k in self._postings.get(g, ()))
        for key, title in self._fuzzy:  # one-character typos share no bigram with short titles
            if key not in found and len(title) >= 3 and _near_copy(TITLE_VERBS.sub("", title), question):
                found[key] = None
        return list(found)


class TextIndex:
    """Items by the bigrams of their text: the items that best support a question, found from the
    postings of the question's bigrams instead of comparing it with every item. ``best`` gives the
    same shares as ``support(content, item.text, weights)``."""

    def __init__(self, items: dict[tuple[str, str], Item]) -> None:
        self._keys = list(items)
        postings: dict[str, list[int]] = {}
        for row, item in enumerate(items.values()):
            for g in bigrams(item.text):
                postings.setdefault(g, []).append(row)
        self._postings = {g: np.array(rows, dtype=np.int32) for g, rows in postings.items()}

    def best(self, content: str, weights: Mapping[str, float] | None = None, n: int = 2) -> list[tuple[float, tuple[str, str]]]:
        """The ``n`` items whose text holds the largest share of the content's bigrams, best first."""
        grams = bigrams(content)
        if not grams or not self._keys:
            return []
        held = np.zeros(len(self._keys))
        unknown = weights.get("", 1.0) if weights is not None else 1.0
        for g in grams:
            if (rows := self._postings.get(g)) is not None:
                held[rows] += 1.0 if weights is None else weights.get(g, unknown)
        total = _mass(grams, weights)
        top = np.argpartition(-held, n)[:n] if len(held) > n else np.arange(len(held))
        top = top[np.argsort(-held[top], kind="stable")]
        return [(float(held[i]) / total, self._keys[i]) for i in top]


def _near_copy(word: str, text: str) -> bool:
    """``text`` holds ``word`` with exactly one character replaced (a typo or a homophone)."""
    return _one_off(word).search(text) is not None


@functools.lru_cache(maxsize=8192)
def _one_off(word: str) -> re.Pattern[str]:
    """The copies of ``word`` with exactly one character replaced: every other character as
    written, the replaced one anything else. The regex engine scans the text (a Python loop over
    its windows took most of an answer's time)."""
    if not word:
        return re.compile(r"(?!)")
    return re.compile("|".join(f"{re.escape(word[:j])}[^{re.escape(word[j])}]{re.escape(word[j + 1 :])}"
                               for j in range(len(word))))


def best_window(content: str, sentences: Sequence[str], weights: Mapping[str, float] | None = None) -> float:
    """The best support of one sentence, or of two neighbours read together: a question often
    joins what an item says in two sentences running (复工复产 in one, 网络培训 for 员工 in the
    next). Sentences end in punctuation, so two together hold just the union of their bigrams."""
    q = bigrams(content)
    if not q:
        return 0.0
    matched = [q & bigrams(s) for s in sentences]
    windows = [*matched, *(a | b for a, b in zip(matched, matched[1:], strict=False))]
    return max((_mass(m, weights) for m in windows), default=0.0) / _mass(q, weights)


def rank_items(
    hits: list[Hit], items: dict[tuple[str, str], Item], question: str, content: str,
    weights: Mapping[str, float] | None = None, titled: Iterable[tuple[str, str]] | None = None,
) -> list[tuple[tuple[str, str], float]]:
    """Items ordered by retrieval (fused scores of their chunks), title match and text support.
    Scored are the retrieved items and ``titled`` (items whose title shares words with the
    question), or every item when ``titled`` is None: the cost follows the hits, not the corpus."""
    per_item: dict[tuple[str, str], list[float]] = {}
    for hit in hits:
        if hit.chunk.item is not None:
            per_item.setdefault((hit.chunk.doc_id, hit.chunk.path), []).append(hit.score)
    # The best chunk counts, the runner-up a little: a long item must not win by many weak hits.
    score = {key: s[0] + 0.3 * (s[1] if len(s) > 1 else 0.0) for key, s in per_item.items()}
    keys = items.keys() if titled is None else dict.fromkeys([*score, *titled])
    quoted = QUOTED_PHRASE.findall(question)  # 「要做到“八个必须”」: the words the text itself uses
    for key in keys:
        item = items[key]
        best_sentence = best_window(content, item.sentences, weights)
        bonus = TITLE_WEIGHT * title_match(question, item) + SENTENCE_WEIGHT * best_sentence
        bonus += QUOTE_WEIGHT * any(q in item.text for q in quoted)
        if key in score or bonus >= 0.03:
            score[key] = score.get(key, 0.0) + bonus
    return sorted(score.items(), key=lambda kv: (-kv[1], kv[0][1]))
