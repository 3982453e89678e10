"""The numbered-text layout: headings and tasks numbered 一、 / （一） / 1. 1、 1． at any depth,
numbering that runs on or restarts in each section, tasks at the 1. level or, where a document
has none, at the （一） level; （1） and ① are sub-points inside a task."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.reading.duties import read_duties
from rag.reading.fields import chinese_number
from rag.reading.header import DATE_LINE, FOOTER, TITLE_WORDS, is_title_like

KINDS = ("cn", "pcn", "num")  # structural levels, top first; （1） and ① stay inside tasks
SHOWN = {"cn": "一、", "pcn": "（一）", "num": "1."}
INDENT = re.compile(r"^[ \t\u3000\xa0]*(?:#{1,6}[ \t]*)?(?:\*\*)?")
PATTERNS = {
    "cn": re.compile(r"([一二三四五六七八九十]{1,3})[ \t\u3000]*[、．.]"),
    "pcn": re.compile(r"[（(][ \t\u3000]*([一二三四五六七八九十]{1,3})[ \t\u3000]*[）)]"),
    "num": re.compile(r"(\d{1,4})[ \t\u3000]*(?:、|[.．﹒](?![\d%％])|(?P<digit>[.．﹒])(?=\d))"),
}
NOTE = re.compile(r"^\s*注[:：]")
PAGE_NUMBER = re.compile(r"^[\s\-—–－·•]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*/\s*\d+)?[\s\-—–－·•]*$")
MAX_GAP = 3


@dataclass(frozen=True)
class Label:
    line: int
    kind: str
    number: int
    text: str  # the label as written: 一、 （二） 5.
    start: int  # offset of the label in the document
    end: int  # offset right after it


def _label_at(line: str, offset: int, index: int) -> Label | None:
    lead = INDENT.match(line).end()
    for kind in KINDS:
        m = PATTERNS[kind].match(line, lead)
        if m:
            number = chinese_number(m.group(1))
            if number is None or number == 0:
                return None
            return Label(index, kind, number, m.group(0), offset + lead, offset + m.end())
    return None


def starts_with_label(line: str) -> bool:
    return _label_at(line, 0, 0) is not None


def find_labels(lines: list[str], offsets: list[int], first: int = 0) -> tuple[list[Label], list[str]]:
    """Numbered lines that continue their level's sequence: the next number, 1 again after a higher
    level moved on, or a small gap (reported). Anything else that looks like a number is text."""
    accepted: list[Label] = []
    warnings: list[str] = []
    last: dict[str, int] = {}
    moved: dict[str, bool] = {}  # a higher level moved on since this level's last label
    for i in range(first, len(lines)):
        label = _label_at(lines[i], offsets[i], i)
        if label is None:
            continue
        kind, n = label.kind, label.number
        previous = last.get(kind)
        digit_follows = PATTERNS["num"].match(lines[i], INDENT.match(lines[i]).end())
        strict = kind == "num" and digit_follows is not None and digit_follows.group("digit")
        if previous is None:
            ok = n == 1 or (not strict and n <= MAX_GAP)
        elif n == previous + 1:
            ok = True
        elif n == 1 and moved.get(kind):
            ok = True
        else:
            ok = not strict and previous + 1 < n <= previous + MAX_GAP
            if ok:
                warnings.append(f"numbering gap: {SHOWN[kind]} level goes from {previous} to {n}")
        if not ok:
            continue
        accepted.append(label)
        last[kind] = n
        moved[kind] = False
        for lower in KINDS[KINDS.index(kind) + 1 :]:
            moved[lower] = True
    return accepted, warnings


def wrapper_end(lines: list[str]) -> int:
    """Where a 印发通知 wrapper ends: after its signature date, when a document title follows."""
    limit = max(10, len(lines) // 2)
    for i, line in enumerate(lines[:limit]):
        if not DATE_LINE.match(line.strip(" \t\u3000\xa0")):
            continue
        for j in range(i + 1, min(len(lines), i + 6)):
            s = lines[j].strip(" \t\u3000\xa0#*\n")
            if not s or re.fullmatch(r"附件\s*\d*[:：]?", s):
                continue
            if is_title_like(s) and TITLE_WORDS.search(s):
                return j
            break
    return 0


def task_kind(labels: list[Label], spans_text) -> str | None:
    """The level that carries the tasks: the deepest level whose spans mostly end in a
    responsibility block; with no blocks anywhere, the deepest level used twice or more."""
    present = [k for k in KINDS if sum(lb.kind == k for lb in labels) >= 2]
    if not present:
        present = [k for k in KINDS if any(lb.kind == k for lb in labels)]
    if not present:
        return None
    shares = {}
    for kind in present:
        spans = spans_text(kind)
        with_block = sum(1 for s in spans if (units := read_duties(s).units).raw or units.lead)
        shares[kind] = with_block / len(spans) if spans else 0.0
    best = max(shares.values())
    if best == 0:
        return present[-1]
    for kind in reversed(present):
        if shares[kind] >= 0.4 * best and shares[kind] >= 0.3:
            return kind
    return max(present, key=lambda k: shares[k])


def furniture_start(lines: list[str], first: int, end: int) -> int:
    """Where the page numbers (— 2 —) and blank lines that close ``lines[first:end]`` begin: a
    page break after a task is not part of it."""
    while end - 1 > first and (not lines[end - 1].strip() or PAGE_NUMBER.match(lines[end - 1])):
        end -= 1
    return end


def tail_start(lines: list[str], start: int, end: int) -> int:
    """The first footer line between ``start`` (exclusive) and ``end``: 抄送, 印发, 附件, a note,
    or a signature (a unit's name, then a date line)."""
    for i in range(start + 1, end):
        s = lines[i].strip(" \t\u3000\xa0\n")
        if FOOTER.match(s) or NOTE.match(s):
            return i
        if DATE_LINE.match(s):
            k = i - 1
            while k > start and not lines[k].strip():
                k -= 1
            return k if k > start and is_title_like(lines[k]) else i
    return end
