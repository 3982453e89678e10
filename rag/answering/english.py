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

# Words of any English question, not of its topic: what is left after them (and the cue words
# above) says whether an English question names a task or follows up on the last one.
FUNCTION_WORDS = frozenset("""
a an the this that these those it its one ones same else other others there here about for of to in on
at by with and or but is are was were be been being do does did has have had will would can could should
must may might what which who whom whose when where why how about tell me please plan document say says
said task tasks item items work else also too then so again now""".split())
# An English follow-up by its kind, as the Chinese follow-up it stands for.
ENGLISH_FOLLOW_UP = {"units": "还有哪些部门配合?", "deadline": "那它什么时候完成?", "lead": "那它由谁牵头?",
                     "count": "那它有多少?", "fact": "那它具体要做什么?"}


def english_topic(text: str) -> list[str]:
    """The words of an English question beyond its cue and function words."""
    for _, cue in ENGLISH_KINDS:
        text = cue.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z-]*", text.lower()) if w not in FUNCTION_WORDS]

# (Word edges are written as "no Latin letter next to it": \b would see no edge between 的 and co-.)
# A Chinese question with English ask words (「市公安局 lead 了哪些 task」「section 九 有哪些 items」):
# the ask words, in the Chinese the question reader knows; topic words stay as typed.
MIXED_ASK = (
    (re.compile(r"(?<![A-Za-z])section\s*([一二三四五六七八九十0-9]+)", re.I), r"第\1部分"),
    (re.compile(r"(?<![A-Za-z])(?:item|task|article)\s*([0-9]+)", re.I), r"第\1条"),
    (re.compile(r"(?<![A-Za-z])(?:co-?responsible|partners?|supporting|support|co-?operating|assisting)(?![A-Za-z])", re.I), "配合"),
    (re.compile(r"(?<![A-Za-z])(?:leads?|leading|in charge)(?![A-Za-z])", re.I), "牵头"),
    (re.compile(r"(?<![A-Za-z])(?:deadlines?|due)(?![A-Za-z])", re.I), "时限"),
    (re.compile(r"(?<![A-Za-z])(?:units?|departments?|agenc(?:y|ies))(?![A-Za-z])", re.I), "单位"),
    (re.compile(r"(?<![A-Za-z])(?:tasks?|items?|work)(?![A-Za-z])", re.I), "工作"),
    (re.compile(r"(?<![A-Za-z])safety(?![A-Za-z])", re.I), "安全"),
)


def mixed_to_chinese(text: str) -> str:
    for pattern, chinese in MIXED_ASK:
        text = pattern.sub(chinese, text)
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", text)  # 配合 单位 → 配合单位
