"""Questions in English: what is asked is read from English cue words, which task from the
multilingual embedder (multilingual-e5 places 「Which department leads gas safety?」 next to the 燃气
task), and the answer is the Chinese answer of that task, with the question echoed."""

from __future__ import annotations

import re

LETTERS = re.compile(r"[A-Za-z]")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("units", re.compile(r"\b(?:alongside|co-?responsible|co-?operat\w*|partners?|involved|support(?:ing|s)?|"
                         r"assist\w*|other (?:departments|units|agencies|bodies)|who else|which (?:departments|units|agencies))\b",
                         re.I)),
    ("deadline", re.compile(r"\b(?:deadline|due|by when|when (?:must|do|does|should|will|is|are)|until when|"
                            r"finish\w*|complet\w*)\b", re.I)),
    ("lead", re.compile(r"\b(?:who|which (?:department|agency|unit|bureau|office|body|organi[sz]ation))\b|"
                        r"\b(?:lead|leads|leading|in charge|responsible)\b", re.I)),
    ("count", re.compile(r"\bhow (?:many|much)\b", re.I)),
)
# Asks the documents never answer, in English as the Chinese gates have them.
ENGLISH_UNSTATED = re.compile(r"\b(?:budget|cost|costs|funding|how much money|yuan|phone|telephone|email|address|"
                              r"names? of (?:the )?(?:companies|firms|enterprises)|fine|penalt\w*)\b", re.I)


def is_english(text: str) -> bool:
    """Mostly English: at least twelve Latin letters and Chinese characters no more than a few."""
    return len(LETTERS.findall(text)) >= 12 and len(CHINESE.findall(text)) <= 2


def english_kind(text: str) -> str:
    for kind, cue in ENGLISH_KINDS:
        if cue.search(text):
            return kind
    return "fact"
