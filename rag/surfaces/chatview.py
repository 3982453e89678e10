"""Presentation for the web chat: answers as HTML citation cards, answers as plain text, the
browse panel, feedback records and the busy gate. Pure functions over the answer dict
(``Answer.to_dict()``) and the parsed documents; no web framework is imported here.

Everything that comes from a document or a user is escaped, and ASCII punctuation is written as
character references as well, so neither HTML nor Markdown (``**bold**``, ``[link](http://x)``,
``1.`` lists, ``$$`` maths) in a corpus line can turn into markup: it shows as the text it is.
"""

from __future__ import annotations

import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rag.answering.citations import ref
from rag.answering.question import MAX_QUESTION_CHARS
from rag.surfaces.quota import Quota
from rag.surfaces.roles import Roles
from rag.types import Document, Item

_PUNCT = frozenset(string.punctuation)
SET_KINDS = ("department", "list", "section")
KIND_LABELS = {
    "lead": "牵头单位", "units": "责任单位", "deadline": "完成时限", "count": "数量", "department": "部门职责",
    "list": "条目清单", "item": "条目内容", "section": "部分目录", "overview": "文件概况", "fact": "具体内容",
    "out_of_scope": "超出范围", "documents": "文件列表", "clarify": "请补充",
}
LEAD_RULES = {"explicit": "原文写明牵头", "huitong": "“会同”之前的单位", "first": "列在首位", "none": "未写明"}


def escape_text(text: str) -> str:
    """Text safe to place in HTML that a Markdown renderer will also see: every ASCII
    punctuation character becomes a numeric character reference; newlines become <br>."""
    out = []
    for ch in text:
        if ch in _PUNCT:
            out.append(f"&#{ord(ch)};")
        elif ch == "\n":
            out.append("<br>")
        elif ch == "\r":
            continue
        else:
            out.append(ch)
    return "".join(out)


def check_question(text: str | None) -> str | None:
    """A message for the user when the question cannot be asked as typed, else None."""
    text = (text or "").strip()
    if not text:
        return "请输入问题。"
    if len(text) > MAX_QUESTION_CHARS:
        return f"问题太长了({len(text)}字),请精简到{MAX_QUESTION_CHARS}字以内再提问。"
    return None


# -- lookups ----------------------------------------------------------------------------------
def _doc(docs: list[Document], title: str) -> Document | None:
    return next((d for d in docs if d.title == title or d.id == title), None)


def _item(docs: list[Document], title: str, number: int | None) -> Item | None:
    doc = _doc(docs, title)
    return doc.item(number) if doc and number is not None else None


def _section_heading(docs: list[Document], title: str, numeral: str | None) -> str:
    doc = _doc(docs, title)
    section = doc.section(numeral) if doc and numeral else None
    return section.heading if section else ""


def _context(docs: list[Document], citation: dict[str, Any]) -> str:
    """The text a quote sits in: the whole item, or the source line for text outside items."""
    item = _item(docs, citation["doc"], citation.get("item"))
    if item is not None:
        return item.text
    doc = _doc(docs, citation["doc"])
    if doc is None:
        return citation["quote"]
    for line in doc.text.splitlines():
        if citation["quote"] in line:
            return line.strip()
    return citation["quote"]


def highlight(context: str, quote: str) -> str:
    """``context`` escaped, with the first occurrence of ``quote`` wrapped in <mark>."""
    at = context.find(quote) if quote else -1
    if at < 0:
        return escape_text(context)
    end = at + len(quote)
    return (escape_text(context[:at]) + '<mark class="qa-hl">' + escape_text(quote) + "</mark>"
            + escape_text(context[end:]))


def where(citation: dict[str, Any]) -> str:
    """第23条 燃气 / 总体思路"""
    if citation.get("item") is None:
        return citation.get("title") or "正文"
    return f"第{citation['item']}条 {citation.get('title', '')}".strip()


# -- the answer as HTML -------------------------------------------------------------------------
def render_card(citation: dict[str, Any], docs: list[Document], n: int) -> str:
    heading = _section_heading(docs, citation["doc"], citation.get("section"))
    ref = citation.get("path") or (f"第{citation['item']}条" if citation.get("item") is not None else "正文")
    meta = f"《{citation['doc']}》" + (f" · {heading}" if heading else "")
    return (
        f'<details class="qa-card"><summary>'
        f'<span class="qa-num">{n}</span><span class="qa-ref">{escape_text(ref)}</span>'
        f'<span class="qa-title">{escape_text(citation.get("title") or "")}</span>'
        f'<span class="qa-meta">{escape_text(meta)}</span>'
        f'<span class="qa-quote">{escape_text(citation["quote"])}</span>'
        f'<span class="qa-more">展开原文</span></summary>'
        f'<div class="qa-full">{highlight(_context(docs, citation), citation["quote"])}</div>'
        f"</details>"
    )


def render_answer(answer: dict[str, Any], docs: list[Document]) -> str:
    """One chat reply: a badge, the answer, then its citation cards. No blank lines, so a
    Markdown renderer takes the whole reply as one HTML block."""
    citations = answer.get("citations") or []
    if answer.get("refused"):
        return (
            '<div class="qa-reply qa-refused"><div class="qa-badge qa-badge-no">文件中没有答案</div>'
            f'<div class="qa-text">{escape_text(answer["answer"])}</div>'
            '<div class="qa-why">系统只根据文件原文回答;文件没有写到的内容不会推测。</div></div>'
        )
    kind = answer.get("kind", "")
    if kind == "clarify":  # which document: the candidates, each with the question that names it
        options = "".join(f'<li>{escape_text(c["title"])}{(" " + escape_text(c["path"])) if c.get("path") else ""}'
                          f'<div class="qa-why">可以这样问:{escape_text(c["question"])}</div></li>'
                          for c in answer.get("candidates") or [])
        return ('<div class="qa-reply qa-ok"><div class="qa-badge">请补充</div>'
                f'<div class="qa-text">{escape_text(answer["answer"])}</div><ul class="qa-candidates">{options}</ul></div>')
    label = KIND_LABELS.get(kind, "回答")
    count = len({(c["doc"], c.get("item")) for c in citations})
    head = f"出处 · 共{count}条" if kind in SET_KINDS else f"出处({len(citations)})"
    cards = "".join(render_card(c, docs, n) for n, c in enumerate(citations, 1))
    return (
        f'<div class="qa-reply qa-ok"><div class="qa-badge">{escape_text(label)}</div>'
        f'<div class="qa-text">{escape_text(answer["answer"])}</div>'
        + (f'<div class="qa-cites"><div class="qa-cites-head">{head}</div>{cards}</div>' if cards else "")
        + "</div>"
    )


def render_notice(message: str, tone: str = "warn") -> str:
    """A reply that is not an answer (busy, bad question, error)."""
    text = escape_text(message)
    return f'<div class="qa-reply qa-notice qa-{tone}"><div class="qa-text">{text}</div></div>'


def render_question(question: str) -> str:
    return f'<div class="qa-question">{escape_text(question)}</div>'


# -- plain text and feedback ------------------------------------------------------------------
def plain_text(answer: dict[str, Any]) -> str:
    """The answer and its citations as plain text, for pasting into a reply or a report."""
    lines = [f"问:{answer.get('question', '')}"]
    lines.append(("答(文件中没有答案):" if answer.get("refused") else "答:") + answer["answer"])
    citations = answer.get("citations") or []
    if citations:
        lines.append("出处:")
        for n, c in enumerate(citations, 1):
            section = f"第{c['section']}部分 " if c.get("section") else ""
            lines.append(f"[{n}] 《{c['doc']}》{section}{where(c)}:「{c['quote']}」")
    return "\n".join(lines)


def feedback_record(answer: dict[str, Any], liked: bool, when: float | None = None) -> dict[str, Any]:
    """One line of feedback/feedback.jsonl: enough to turn into an evaluation case later."""
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(when or time.time())),
        "rating": "up" if liked else "down",
        "question": answer.get("question", ""),
        "answer": answer.get("answer", ""),
        "kind": answer.get("kind"),
        "refused": bool(answer.get("refused")),
        "items": [{"doc": c["doc"], "item": c.get("item")} for c in answer.get("citations") or []],
    }


# -- the browse panel ---------------------------------------------------------------------------
def section_choices(docs: list[Document]) -> list[tuple[str, str]]:
    """(label, value) pairs; the value names the document and the section."""
    many = len(docs) > 1
    return [((f"{d.title} · " if many else "") + s.heading, f"{d.id}|{s.numeral}")
            for d in docs for s in d.sections]


def department_choices(docs: list[Document]) -> list[str]:
    names = {n for d in docs for it in d.items for n in it.units.departments}
    return sorted(names)


def filter_items(docs: list[Document], section: str | None = None, department: str | None = None
                 ) -> list[tuple[Document, Item]]:
    out = []
    for doc in docs:
        for item in doc.items:
            if section and f"{doc.id}|{item.section}" != section:
                continue
            if department and department not in item.units.departments:
                continue
            out.append((doc, item))
    return out


def _units_html(item: Item) -> str:
    u = item.units
    rows = [("牵头", "、".join(u.lead) or "未写明", LEAD_RULES.get(u.lead_rule, ""))]
    rows.append(("配合", "、".join(u.co) or "—", ""))
    if u.local:
        rows.append(("属地", ";".join(u.local), ""))
    if item.deadlines:
        rows.append(("时限", ";".join(d.normalized for d in item.deadlines), ""))
    cells = "".join(
        f'<div class="qa-unit"><span class="qa-unit-k">{k}</span><span class="qa-unit-v">{escape_text(v)}'
        + (f'<small>({escape_text(note)})</small>' if note else "") + "</span></div>"
        for k, v, note in rows
    )
    return f'<div class="qa-units">{cells}</div>'


def render_browse(docs: list[Document], section: str | None = None, department: str | None = None) -> str:
    """Sections → items, each item with its units and full text; filtered by section or department."""
    rows = filter_items(docs, section, department)
    what = []
    if section:
        label = dict((v, k) for k, v in section_choices(docs)).get(section, section)
        what.append(label)
    if department:
        what.append(f"{department}参与的条目")
    summary = (" · ".join(what) + " · " if what else "全部条目 · ") + f"共{len(rows)}条"
    parts = [f'<div class="qa-browse"><div class="qa-browse-head">{escape_text(summary)}</div>']
    current = None
    for doc, item in rows:
        key = (doc.id, item.section)
        if key != current:
            current = key
            heading = _section_heading(docs, doc.title, item.section)
            parts.append(f'<div class="qa-sec">{escape_text(heading)}</div>')
        parts.append(
            f'<details class="qa-card qa-item"><summary><span class="qa-ref">{ref(item)}</span>'
            f'<span class="qa-title">{escape_text(item.title)}</span>'
            f'<span class="qa-meta">牵头:{escape_text("、".join(item.units.lead) or "未写明")}</span>'
            f'<span class="qa-more">展开</span></summary>'
            f'{_units_html(item)}<div class="qa-full">{escape_text(item.text)}</div></details>'
        )
    if not rows:
        parts.append('<div class="qa-empty">没有符合条件的条目。</div>')
    parts.append("</div>")
    return "".join(parts)


# -- the busy gate ----------------------------------------------------------------------------
class Gate:
    """At most ``active`` answers at once and ``waiting`` more in line; anything beyond is told
    the service is busy instead of waiting without end."""

    def __init__(self, active: int = 2, waiting: int = 16, timeout: float = 20.0) -> None:
        if active < 1 or waiting < 0:
            raise ValueError("active must be at least 1 and waiting at least 0.")
        self._slots = threading.BoundedSemaphore(active)
        self._lock = threading.Lock()
        self._inside = 0
        self.limit = active + waiting
        self.timeout = timeout

    @contextmanager
    def enter(self) -> Iterator[bool]:
        """Yields True when the caller may answer, False when the service is busy."""
        with self._lock:
            if self._inside >= self.limit:
                admitted = False
            else:
                self._inside += 1
                admitted = True
        if not admitted:
            yield False
            return
        try:
            got = self._slots.acquire(timeout=self.timeout)
            try:
                yield got
            finally:
                if got:
                    self._slots.release()
        finally:
            with self._lock:
                self._inside -= 1


BUSY_MESSAGE = "系统繁忙,请稍后再试。"


class Login:
    """The web chat's login check, for Gradio's ``auth``: the logins of the role configuration
    (rag/surfaces/roles.py, shared with the API keys), each checked by scrypt, and guessing limited:
    after ``per_name`` failed logins for one user name in a minute (or ``overall`` for all names
    together) every login for it fails until the minute has passed, the right password included, so
    a guess that lands gains nothing."""

    def __init__(self, roles: Roles, per_name: int = 10, overall: int = 60) -> None:
        self._roles = roles
        self._per_name, self._overall = Quota.per_minute(per_name), Quota.per_minute(overall)

    def __call__(self, username: str, password: str) -> bool:
        name = f"name:{username}"
        if self._per_name.wait(name) or self._overall.wait("all"):
            return False
        who = self._roles.login(username, password)
        if who is None:
            self._per_name.take(name)
            self._overall.take("all")
        return who is not None

    def role(self, username: str | None) -> str | None:
        """The role of a signed-in user (for what only admins may do), None when unknown."""
        entry = self._roles.logins.get(username or "")
        return entry[1].role if entry else None


class FeedbackLimit:
    """At most ``per_minute`` feedback events a minute from one chat session: a script clicking the
    thumbs cannot fill the feedback file (which also rotates at its size limit)."""

    def __init__(self, per_minute: int = 30) -> None:
        self._quota = Quota.per_minute(per_minute)

    def allow(self, session: str) -> bool:
        return self._quota.take(session or "anonymous") == 0
