"""Scoring evidence against a question: which items a question is about, how well a sentence
supports it. Pure functions over text; no index, no model."""

from __future__ import annotations

import re

from rag.lexical import STOPWORDS
from rag.types import Hit, Item

# Words that open an item title but say nothing of its topic (加强, 完善 …).
TITLE_VERBS = re.compile(r"^(?:加强|强化|完善|加大|突出|坚持|全面|切实|严格|及时|着力|深入|推进|扎实|加快)")
NON_CONTENT = re.compile(r"[\s\W_0-9a-zA-Z]")


def content_text(text: str, remove: list[str] = ()) -> str:
    """The question with cue words, stopwords and the given names (departments) removed."""
    for word in sorted(remove, key=len, reverse=True):
        text = text.replace(word, " ")
    for word in sorted(STOPWORDS, key=len, reverse=True):
        if len(word) >= 2:
            text = text.replace(word, " ")
    return NON_CONTENT.sub(" ", text)


def bigrams(text: str) -> set[str]:
    out = set()
    for part in NON_CONTENT.split(text):
        out.update(part[i : i + 2] for i in range(len(part) - 1))
    return out


def support(question_content: str, evidence: str) -> float:
    """Share of the question's content bigrams that the evidence contains (typo-tolerant overlap)."""
    q = bigrams(question_content)
    if not q:
        return 0.0
    return len(q & bigrams(evidence)) / len(q)


def title_match(question: str, item: Item) -> float:
    """How much of the item's topical title the question names (燃气 in 燃气安全由谁牵头 → 1.0)."""
    title = TITLE_VERBS.sub("", item.title)
    grams = bigrams(title)
    if not grams:
        return 0.0
    if title in question:
        return 1.0
    return len(grams & bigrams(question)) / len(grams)


def rank_items(
    hits: list[Hit], items: dict[tuple[str, int], Item], question: str, content: str,
) -> list[tuple[tuple[str, int], float]]:
    """Items ordered by retrieval (fused scores of their chunks), title match and text support."""
    score: dict[tuple[str, int], float] = {}
    for rank, hit in enumerate(hits):
        if hit.chunk.item is None:
            continue
        key = (hit.chunk.doc, hit.chunk.item)
        score[key] = score.get(key, 0.0) + hit.score * (1.0 if key not in score else 0.5)
    for key, item in items.items():
        bonus = 0.04 * title_match(question, item) + 0.02 * support(content, item.text)
        if key in score or bonus >= 0.03:
            score[key] = score.get(key, 0.0) + bonus
    return sorted(score.items(), key=lambda kv: (-kv[1], kv[0][1]))
