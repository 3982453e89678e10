"""What the web chat and its desk share: the answer as plain text, feedback records, the labels of
answer kinds and lead rules, the question check, the busy gate and the login check. Pure Python;
no web framework is imported here (the page itself is rag/surfaces/web/desk.js, fed by desk.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rag.answering.question import MAX_QUESTION_CHARS
from rag.surfaces.quota import Quota
from rag.surfaces.roles import Roles

SET_KINDS = ("department", "list", "section")
KIND_LABELS = {
    "lead": "牵头单位", "units": "责任单位", "deadline": "完成时限", "count": "数量", "department": "部门职责",
    "list": "条目清单", "item": "条目内容", "section": "部分目录", "overview": "文件概况", "fact": "具体内容",
    "out_of_scope": "超出范围", "documents": "文件列表", "clarify": "请补充",
}
LEAD_RULES = {"explicit": "原文写明牵头", "huitong": "“会同”之前的单位", "first": "列在首位", "none": "未写明"}


def check_question(text: str | None) -> str | None:
    """A message for the user when the question cannot be asked as typed, else None."""
    text = (text or "").strip()
    if not text:
        return "请输入问题。"
    if len(text) > MAX_QUESTION_CHARS:
        return f"问题太长了({len(text)}字),请精简到{MAX_QUESTION_CHARS}字以内再提问。"
    return None


def where(citation: dict[str, Any]) -> str:
    """第23条 燃气 / 总体思路"""
    if citation.get("item") is None:
        return citation.get("title") or "正文"
    return f"第{citation['item']}条 {citation.get('title', '')}".strip()


# -- plain text and feedback ------------------------------------------------------------------
def plain_text(answer: dict[str, Any], listing: list[str] | None = None) -> str:
    """The answer and its citations as plain text, for pasting into a reply or a report;
    ``listing`` (lines, e.g. a table's rows tab-separated) goes under 清单 before the citations."""
    lines = [f"问:{answer.get('question', '')}"]
    lines.append(("答(文件中没有答案):" if answer.get("refused") else "答:") + answer["answer"])
    if listing:
        lines += ["清单:", *listing]
    citations = answer.get("citations") or []
    if citations:
        lines.append("出处:")
        for n, c in enumerate(citations, 1):
            section = f"第{c['section']}部分 " if c.get("section") else ""
            lines.append(f"[{n}] 《{c['doc']}》{section}{where(c)}:「{c['quote']}」")
    return "\n".join(lines)


def feedback_record(answer: dict[str, Any], rating: str, when: float | None = None) -> dict[str, Any]:
    """One line of feedback/feedback.jsonl (``rating``: up, down or withdrawn): enough to turn into
    an evaluation case later."""
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(when or time.time())),
        "rating": rating,
        "question": answer.get("question", ""),
        "answer": answer.get("answer", ""),
        "kind": answer.get("kind"),
        "refused": bool(answer.get("refused")),
        "items": [{"doc": c["doc"], "item": c.get("item")} for c in answer.get("citations") or []],
    }


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
