"""Follow-up questions (那它的完成时限呢?还有哪些部门配合?第二十四条呢?) resolved against the
previous turn's answer: its kind and its focus (items, departments)."""

from __future__ import annotations

import re
from typing import Any

from rag.evidence import content_text
from rag.question import Query

FOLLOW_UP = re.compile(r"^(?:那|那么|还有|另外|它|这条|这个|这项|该项|其)|呢[??]?$|它|这条|这一条|该条|这项")


def resolve_follow_up(query: Query, history: list[dict[str, Any]]) -> Query:
    """Resolve a follow-up (那它的时限呢?还有哪些部门配合?第二十四条呢?) against the last turn."""
    if not history or query.refusal:
        return query
    last = history[-1].get("focus", history[-1]) or {}
    last_items = last.get("items") or []
    last_kind = history[-1].get("kind") or last.get("kind")
    kind, item, departments = query.kind, query.item, query.departments
    content = content_text(query.text).strip()
    bare = len(content.replace(" ", "")) <= 3 or FOLLOW_UP.search(query.text) is not None
    if item is None and not departments and bare and len(last_items) == 1 and kind != "list":
        item = last_items[0]
    if not departments and bare and last.get("departments") and kind in ("department", "fact"):
        departments = tuple(last["departments"][:1])
        kind = "department"
    if kind in ("item", "fact") and item is not None and query.item is not None and last_kind in (
            "lead", "units", "deadline", "count") and bare:
        kind = last_kind
    if kind == "fact" and item is not None and query.item is None and last_kind and bare:
        kind = "item"
    return Query(query.text, kind, item, query.section, departments, query.facet, query.refusal)
