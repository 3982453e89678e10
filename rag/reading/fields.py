"""Deadlines and counts inside sentences, read through the extraction damage.

「425日前」 is read as 4月25日前 and 「20206月底前」 as 2020年6月底前; the source text is never changed.
"""

from __future__ import annotations

import re

from rag.types import Count, Deadline

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

DEADLINE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # 2020年6月底前, and the damaged 20206月底前 (年 lost)
    (re.compile(r"(?<!\d)(20\d\d)年?(1[0-2]|[1-9])月(底|末|中旬|上旬|下旬)?前"), "ym"),
    (re.compile(r"(?<!\d)(20\d\d)年(底|末)前"), "y_end"),
    (re.compile(r"(?<!\d)(20\d\d)年(1[0-2]|[1-9])月(\d{1,2})日前"), "ymd"),
    (re.compile(r"(?<![\d年])(1[0-2]|[1-9])月(\d{1,2})日前"), "md"),
    # 425日前: the 月 was lost
    (re.compile(r"(?<![\d月年.])(1[0-2]|[1-9])([0-3]\d)日前"), "md_damaged"),
    (re.compile(r"(?<![\d年])(1[0-2]|[1-9])月(底|末|中旬|上旬|下旬)?前"), "m"),
    (re.compile(r"(?<![\d])年(底|末)前"), "end"),
    (re.compile(r"汛期?(?:之)?前"), "flood"),
    (re.compile(r"年内"), "within_year"),
]

COUNT_PATTERN = re.compile(r"(\d+|[一二两三四五六七八九十]+)(家|类|个|项|座|处|所|人以上|人|小时|天)")


def chinese_number(text: str) -> int | None:
    """Parse 1–99 written in digits or Chinese numerals (二十三, 十五, 23)."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10
    if ones:
        if ones not in _CN_DIGITS:
            return None
        value += _CN_DIGITS[ones]
    return value


def _normalize(match: re.Match[str], form: str) -> str:
    g = match.groups()
    if form == "ym":
        return f"{g[0]}年{g[1]}月{g[2] or ''}前"
    if form == "ymd":
        return f"{g[0]}年{g[1]}月{int(g[2])}日前"
    if form == "y_end":
        return f"{g[0]}年{g[1]}前"
    if form in ("md", "md_damaged"):
        return f"{g[0]}月{int(g[1])}日前"
    if form == "m":
        return f"{g[0]}月{g[1] or ''}前"
    if form == "end":
        return f"年{g[0]}前"
    if form == "flood":
        return "汛期前"
    return "年内"


def deadlines_in(sentence: str) -> list[Deadline]:
    found: list[Deadline] = []
    taken: list[tuple[int, int]] = []
    for pattern, form in DEADLINE_PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append(m.span())
            found.append(Deadline(text=m.group(0), normalized=_normalize(m, form), sentence=sentence))
    order = {d.text: sentence.find(d.text) for d in found}
    return sorted(found, key=lambda d: order[d.text])


def counts_in(sentence: str) -> list[Count]:
    found = []
    for m in COUNT_PATTERN.finditer(sentence):
        value = chinese_number(m.group(1))
        if value is not None:
            found.append(Count(text=m.group(0), value=value, unit=m.group(2), sentence=sentence))
    return found


def deadline_order(normalized: str, year: int) -> tuple[int, int, int]:
    """A deadline as read (6月底前, 2020年底前, 4月25日前, 上半年) as (year, month, day) for ordering;
    a month without a day is its end, a year without a month its December."""
    y = re.search(r"(20\d\d)年", normalized)
    m = re.search(r"(1[0-2]|[1-9])月", normalized)
    d = re.search(r"月([0-9]{1,2})日", normalized)
    month = int(m.group(1)) if m else 6 if "上半年" in normalized else 12
    part = {"上旬": 10, "中旬": 20}
    day = int(d.group(1)) if d else next((v for k, v in part.items() if k in normalized), 31)
    return (int(y.group(1)) if y else year, month, day)
