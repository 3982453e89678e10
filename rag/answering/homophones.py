"""Homophone typos of pinyin input (签头 for 牵头, 负则 for 负责, 宣船部 for 宣传部): a run of the
question that the corpus never writes, whose pinyin is exactly that of one word the corpus uses, is
read as that word. Pinyin comes from pypinyin; the words are the corpus's own (unit names, task-title
words) and the words the question reader's cues are made of."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cached_property, lru_cache

import jieba
from pypinyin import lazy_pinyin

from rag.answering.rules import ASK_WORDS, LATIN_RUN, LATIN_WORD

LONGEST = 8


class Homophones:
    def __init__(self, corpus_text: str, names: Iterable[str], titles: Iterable[str]) -> None:
        jieba.initialize()
        self.corpus_text = corpus_text
        words = {w for w in names if len(w) >= 3} | set(ASK_WORDS)
        words |= {w for t in titles for w in jieba.lcut(t) if 2 <= len(w) <= LONGEST and _chinese(w)}
        by_sound: dict[tuple[str, ...], set[str]] = {}
        for w in words:
            by_sound.setdefault(tuple(lazy_pinyin(w)), set()).add(w)
        self.by_sound = {k: next(iter(v)) for k, v in by_sound.items() if len(v) == 1}  # unambiguous only
        self.lengths = sorted({len(k) for k in self.by_sound}, reverse=True)

    @cached_property
    def spelled(self) -> dict[str, str]:
        """Pinyin typed as letters (baohu, anquan) → the corpus's most frequent word with that sound;
        built on the first question that needs it."""
        counts = Counter(w for w in jieba.lcut(self.corpus_text) if 2 <= len(w) <= LONGEST and _chinese(w))
        counts.update({w: 1 for k, w in self.by_sound.items()})
        out: dict[str, tuple[int, str]] = {}
        for word, n in counts.items():
            key = "".join(lazy_pinyin(word))
            if n > out.get(key, (0, ""))[0]:
                out[key] = (n, word)
        return {k: w for k, (_, w) in out.items()}

    def _spelled_run(self, run: str) -> str:
        """Pinyin words typed apart (yanhua baozhu): the longest stretch that spells one corpus word."""
        words, out, i = run.split(), [], 0
        while i < len(words):
            for j in range(len(words), i, -1):
                word = self.spelled.get("".join(words[i:j]).lower())
                if word is not None:
                    out.append(word)
                    i = j
                    break
            else:
                out.append(words[i])
                i += 1
        return "".join(out) if all(_chinese(w) for w in out) else " ".join(out)

    def fix(self, text: str) -> str:
        if LATIN_WORD.search(text):
            text = LATIN_RUN.sub(lambda m: self._spelled_run(m.group(0)), text)
        sounds = [_sound(ch) for ch in text]
        bounds: set[int] | None = None  # where the question's words start and end (jieba), made when needed
        out, i = [], 0
        while i < len(text):
            for n in self.lengths:
                key = tuple(sounds[i : i + n])
                if len(key) < n or None in key:
                    continue
                word = self.by_sound.get(key)
                window = text[i : i + n]
                if word is None or word == window or window in self.corpus_text or (
                        _has_word(window) if n <= 3 else window[0] != word[0]):  # (是水务局 is not 市水务局)
                    continue
                if bounds is None:
                    bounds = _boundaries(text)
                if i in bounds and i + n in bounds:  # a whole word of the question, not 具体|是 → 具|提示
                    out.append(word)
                    i += n
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def _boundaries(text: str) -> set[int]:
    out, at = {0}, 0
    for token in jieba.lcut(text):
        at += len(token)
        out.add(at)
    return out


def _has_word(window: str) -> bool:
    """Does a short run hold a real word (jieba's dictionary)? Then it is not a typo: 具体是 is not
    具提示, 那些 is not 哪些, 截至 is not 截止. (A longer run that sounds exactly like a unit's name,
    自然资原规划局, holds words of that name: there the sound decides, if the first character is the
    name's own: 「是水务局吧」 is 是 and a name, not 市水务局.)"""
    freq = jieba.dt.FREQ
    return any(freq.get(window[a:b]) for a in range(len(window)) for b in range(a + 2, len(window) + 1))


@lru_cache(maxsize=20_000)
def _sound(ch: str) -> str | None:
    return lazy_pinyin(ch)[0] if _chinese(ch) else None


def _chinese(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)
