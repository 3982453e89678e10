"""Questions in English: what is asked is read from English cue words, which task from the
multilingual embedder (multilingual-e5 places 「Which department leads gas safety?」 next to the 燃气
task), and the answer is the Chinese answer of that task, with the question echoed."""

from __future__ import annotations

import re

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
