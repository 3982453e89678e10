"""Responsibility blocks: find the block at the end of an item and parse it into units.

Forms seen in the corpus (brackets may be unclosed, units may contain brackets themselves):
  (责任单位:市A、市B,各县(区)党委、政府,秦皇岛开发区、北戴河新区工管委)
  责任单位:市A,相关县区党委、政府
  (市A、市B牵头,各有关部门分工负责)
  (市A会同市B等有关部门负责)
"""

from __future__ import annotations

import re

from rag.types import Units

OPEN, CLOSE = "((", "))"
BLOCK_LABEL = re.compile(r"责任单位[::]")
LOCAL_MARKERS = ("党委", "政府", "工管委", "开发区", "新区", "乡镇", "街道")
VAGUE_UNITS = ("有关部门", "各有关部门", "相关部门", "各相关部门")
TRAILING_DUTY = re.compile(r"(?:等)?(?:各)?(?:有关部门)?(?:分工)?负责$")


def find_block(text: str) -> tuple[int, int] | None:
    """Span of the responsibility block inside an item's text (label and brackets excluded)."""
    labels = list(BLOCK_LABEL.finditer(text))
    if labels:
        start = labels[-1].end()
        return start, _strip_closing(text, start)
    if text.rstrip().endswith(tuple(CLOSE)):
        end = len(text.rstrip()) - 1
        opening = _matching_open(text, end)
        if opening is not None:
            inner = text[opening + 1 : end]
            if "牵头" in inner or "会同" in inner or "负责" in inner:
                return opening + 1, end
    return None


def _strip_closing(text: str, start: int) -> int:
    end = len(text.rstrip())
    while end > start and text[end - 1] in "。;;,, ":
        end -= 1
    if end > start and text[end - 1] in CLOSE and _depth(text[start:end]) < 0:
        end -= 1
    return end


def _depth(s: str) -> int:
    return sum(ch in OPEN for ch in s) - sum(ch in CLOSE for ch in s)


def _matching_open(text: str, close_at: int) -> int | None:
    depth = 0
    for i in range(close_at, -1, -1):
        if text[i] in CLOSE:
            depth += 1
        elif text[i] in OPEN:
            depth -= 1
            if depth == 0:
                return i
    return None


def split_top_level(s: str, seps: str) -> list[str]:
    """Split on separators that are not inside brackets: 各县(区)党委 stays whole."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth = max(0, depth - 1)
        if ch in seps and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def is_local(unit: str) -> bool:
    return unit == "政府" or any(m in unit for m in LOCAL_MARKERS) or unit.startswith(("各县", "相关县"))


def _units_in(group: str) -> tuple[list[str], list[str]]:
    """Departments and local governments in one comma group; adjacent local pieces join with 、."""
    departments: list[str] = []
    local: list[str] = []
    run: list[str] = []
    for token in split_top_level(group, "、"):
        if is_local(token):
            run.append(token)
            continue
        if run:
            local.append("、".join(run))
            run = []
        departments.append(token)
    if run:
        local.append("、".join(run))
    return departments, local


def parse_block(raw: str, canonical=lambda name: name) -> Units:
    """Parse the inside of a responsibility block, following the lead rule:
    explicit 牵头, else the unit(s) before 会同, else the first unit listed."""
    rule = "first"
    lead_part, rest = "", raw
    if "牵头" in raw:
        rule = "explicit"
        head, _, rest = raw.partition("牵头")
        lead_part = head
    elif "会同" in raw:
        rule = "huitong"
        lead_part, _, rest = raw.partition("会同")

    departments: list[str] = []
    local: list[str] = []
    lead_names: list[str] = []
    if lead_part:
        for group in split_top_level(lead_part, ",,"):
            deps, locs = _units_in(group)
            lead_names += deps
            local += locs
    for group in split_top_level(rest, ",,"):
        group = TRAILING_DUTY.sub("", group).strip()
        if not group:
            continue
        deps, locs = _units_in(group)
        departments += deps
        local += locs

    departments = [d for d in departments if d not in VAGUE_UNITS]
    if rule == "first":
        lead_names, departments = departments[:1], departments[1:]
        if not lead_names:
            rule = "none"
    written: dict[str, str] = {}
    for name in lead_names + departments:
        written.setdefault(canonical(name), name)
    lead = tuple(dict.fromkeys(canonical(n) for n in lead_names))
    co = tuple(n for n in dict.fromkeys(canonical(n) for n in departments) if n not in lead)
    return Units(raw=raw, lead=lead, lead_rule=rule, co=co, local=tuple(local), written=written)


def written_names(raw: str) -> list[str]:
    """Unit names as written in a block, before canonicalization (to build the alias table)."""
    units = parse_block(raw)
    return list(units.written.values())
