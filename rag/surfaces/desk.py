"""The helpdesk web chat's server side: what the page's script asks for, as plain JSON.

The page (rag/surfaces/web/desk.js) builds every element itself with DOM text nodes, so nothing a
document or a user wrote can become markup there; this module gives it data, never HTML:

- ``ask``: an answer as a view (text, a table for set answers, citation cards with the whole task
  around each quote, follow-up questions, the plain text to copy), signed so that feedback about it
  can be trusted without keeping every answer in memory;
- ``feedback``: 赞 / 踩 (with a reason) / withdrawn, appended to the feedback file;
- ``browse``: a document's structure as parsed, its parse report, and the original file;
- ``export``: a conversation as Markdown or .docx;
- the admin's ``feedback_list``, ``stage`` (a file read and reported on, not yet live), ``publish``,
  ``discard`` and ``remove``: allowed only to a login whose role is admin, checked on every call.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import hmac
import io
import json
import re
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from pathlib import Path, PurePosixPath
from typing import Any

from rag.errors import RagError
from rag.reading.document import read_converted
from rag.reading.formats import CONVERTERS, MAX_FILE_BYTES, UnreadableFile, convert
from rag.surfaces import chatview
from rag.types import Document, Item, ParseReport

HISTORY_TURNS = 8  # earlier answers passed to the service for follow-ups
FEEDBACK_MAX_BYTES = 5 * 2**20  # then rotated to feedback.jsonl.1
REASON_MAX_CHARS = 300
STAGED_MAX = 8  # uploads waiting for 发布 or 放弃; the oldest is dropped beyond this
UPLOAD_TYPES = tuple(sorted(CONVERTERS))
ROLE_TEXT = {"lead": "牵头", "co": "配合"}
FORMAT_TEXT = {"txt": "纯文本", "md": "Markdown", "html": "网页", "docx": "Word 文档", "pdf": "PDF"}
LAYOUTS = (
    (re.compile(r"^outline \(tasks at (.+)\)$"), lambda m: f"分级标题,任务编号为“{m[1]}”"),
    (re.compile(r"^outline \(no tasks\)$"), lambda m: "分级标题,没有任务条目"),
    (re.compile(r"^table \(pipe rows\)$"), lambda m: "表格(竖线分隔)"),
    (re.compile(r"^table \(one cell a line\)$"), lambda m: "表格(每格一行)"),
)

# The reader's warnings (rag/reading) are written for the command line; the desk shows them in Chinese.
WARNINGS = (
    (re.compile(r"^no tasks found$"), lambda m: "没有找到任务条目"),
    (re.compile(r"^numbering gap: (.+?) level goes from (\S+) to (\S+)$"),
     lambda m: f"编号不连续:{m[1]}一级从{m[2]}跳到{m[3]}"),
    (re.compile(r"^numbering gap: row (\S+) is followed by row (\S+)$"),
     lambda m: f"编号不连续:表格第{m[1]}行之后是第{m[2]}行"),
    (re.compile(r"^(\d+) task\(s\) name no unit: (.*)$"), lambda m: f"{m[1]}项任务没有写明责任单位:{m[2]}"),
    (re.compile(r"^(\d+) characters fit no pattern and are in no chunk$"),
     lambda m: f"{m[1]}个字符不属于任何条目,检索不到"),
    (re.compile(r"^row (.+?) has no cells$"), lambda m: f"表格行{m[1]}没有内容"),
    (re.compile(r"^row (.+?): a cell fits no column: (.*)$"), lambda m: f"表格行{m[1]}有一格对不上列:{m[2]}"),
    (re.compile(r"^written in traditional characters: stored in simplified ones \((\d+) characters\)$"),
     lambda m: f"原文为繁体,已转为简体({m[1]}个字)"),
)


class DeskError(Exception):
    """A request the desk turns down; the message is shown to the user as is (Chinese)."""


def _say(table: tuple, text: str, fallback: str) -> str:
    for pattern, say in table:
        m = pattern.match(text)
        if m:
            return say(m)
    return fallback + text


def chinese_warning(text: str) -> str:
    return _say(WARNINGS, text, "解析提示:")


# -- the answer as a view ---------------------------------------------------------------------------
def _item_of(docs: dict[str, Document], citation: dict[str, Any]) -> Item | None:
    doc = docs.get(citation.get("doc_id") or "")
    if doc is None:
        return None
    if citation.get("path"):
        return doc.task(citation["path"])
    return doc.item(citation["item"]) if citation.get("item") is not None else None


def _context(docs: dict[str, Document], citation: dict[str, Any]) -> str:
    """The text a quote sits in: its whole task, or the line of the document outside tasks."""
    item = _item_of(docs, citation)
    if item is not None:
        return item.text
    doc = docs.get(citation.get("doc_id") or "")
    for line in (doc.text.splitlines() if doc else ()):
        if citation["quote"] in line:
            return line.strip()
    return citation["quote"]


def card(docs: dict[str, Document], citation: dict[str, Any]) -> dict[str, Any]:
    doc = docs.get(citation.get("doc_id") or "")
    section = doc.section(citation["section"]) if doc and citation.get("section") else None
    return {
        "ref": citation.get("path") or (f"第{citation['item']}条" if citation.get("item") is not None else "正文"),
        "title": citation.get("title") or "",
        "doc": citation["doc"],
        "doc_id": citation.get("doc_id") or "",
        "path": citation.get("path") or "",
        "section": section.heading if section else "",
        "quote": citation["quote"],
        "context": _context(docs, citation),
    }


def table(answer: dict[str, Any], many_docs: bool) -> dict[str, Any] | None:
    """Set answers (a department's tasks, a list, a section): one row per task."""
    rows = answer.get("rows") or []
    if answer.get("refused") or answer.get("kind") not in chatview.SET_KINDS or not rows:
        return None
    titles = {c.get("doc_id"): c["doc"] for c in answer.get("citations") or []}
    columns = (["文件"] if many_docs else []) + ["条目", "标题", "角色", "牵头单位", "完成时限"]
    body = []
    for r in rows:
        cells = [r["path"], r["title"], ROLE_TEXT.get(r.get("role") or "", r.get("role") or "—"),
                 r.get("lead") or "未写明", r.get("deadline") or "—"]
        body.append(([titles.get(r["doc_id"], r["doc_id"])] if many_docs else []) + cells)
    if all(row[-3] == "—" for row in body):  # no role: a list or a section, not a department
        columns.pop(-3)
        body = [row[:-3] + row[-2:] for row in body]
    return {"columns": columns, "rows": body}


def follow_ups(answer: dict[str, Any], docs: dict[str, Document]) -> list[str]:
    """Two or three questions the answer makes natural, each naming its task so that it reads the
    same wherever it is asked (牵头 → 配合单位 → 完成时限 → 原文), and only those the task can
    answer: no 时限 question for a task without a deadline, no 配合 question without co-units."""
    if answer.get("refused") or answer.get("kind") in ("clarify", "documents", "overview", "out_of_scope"):
        return []
    focus = answer.get("focus") or {}
    paths = focus.get("paths") or []
    doc = docs.get(focus.get("doc_id") or "")
    if not paths or doc is None:
        return []
    item = doc.task(paths[0])
    if item is None:
        return []
    name = item.path
    kind = answer.get("kind")
    if kind in chatview.SET_KINDS:
        return [f"{name}讲了什么?", f"{name}由谁牵头?"]
    if len(paths) != 1:
        return []
    asks = {"lead": f"{name}由谁牵头?" if item.units.lead else None,
            "units": f"{name}有哪些配合单位?" if item.units.co or item.units.local else None,
            "deadline": f"{name}什么时候完成?" if item.deadlines else None,
            "item": f"{name}原文是怎么写的?"}
    return [q for k, q in asks.items() if q and k != kind][:3]


class Signer:
    """Signs an answer record so that feedback about it needs no server-side memory of answers."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def sign(self, record: dict[str, Any]) -> str:
        body = json.dumps(_canonical(record), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def check(self, record: Any, signature: Any) -> bool:
        return isinstance(record, dict) and isinstance(signature, str) and hmac.compare_digest(
            self.sign(record), signature)


def _canonical(value: Any) -> Any:
    """The record as it comes back from the browser: JavaScript writes 2.0 as 2."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def view(answer: dict[str, Any], docs: dict[str, Document], signer: Signer) -> dict[str, Any]:
    """What the page shows for one answer; ``record`` goes back to the server with feedback and as
    the conversation's history."""
    answer = {k: v for k, v in answer.items() if k != "latency_ms"}
    record = {"id": secrets.token_hex(8), **answer}
    citations = answer.get("citations") or []
    many = len(docs) > 1
    kind = answer.get("kind", "")
    grid = table(answer, many)
    text = answer["answer"]
    if grid and ":" in text:  # the list itself is the table; the text keeps its lead-in
        text = text[: text.index(":")] + "(见下表)。"
    return {
        "type": "answer",
        "id": record["id"],
        "question": answer.get("question", ""),
        "answer": text,
        "kind": kind,
        "label": "文件中没有答案" if answer.get("refused") else chatview.KIND_LABELS.get(kind, "回答"),
        "refused": bool(answer.get("refused")),
        "candidates": [{"title": c.get("title") or "", "path": c.get("path") or "", "question": c["question"]}
                       for c in answer.get("candidates") or []],
        "cards": [card(docs, c) for c in citations],
        "count": len({(c.get("doc_id"), c.get("path") or c.get("item")) for c in citations}),
        "set": kind in chatview.SET_KINDS,
        "table": grid,
        "chips": follow_ups(answer, docs),
        "plain": plain(answer),
        "many": many,
        "record": record,
        "sig": signer.sign(record),
    }


def plain(answer: dict[str, Any]) -> str:
    """The answer as text to paste: question, answer, the table for set answers, the citations."""
    t = own_table(answer)
    listing = ["\t".join(row) for row in [t["columns"], *t["rows"]]] if t else None
    return chatview.plain_text(answer, listing)


def own_table(answer: dict[str, Any]) -> dict[str, Any] | None:
    """The table of an answer read on its own (a copy, an export): a 文件 column when its rows
    come from more than one document."""
    return table(answer, len({r.get("doc_id") for r in answer.get("rows") or []}) > 1)


# -- browsing -------------------------------------------------------------------------------------
def report_view(report: ParseReport | None) -> list[list[str]]:
    if report is None:
        return []
    return [
        ["格式", FORMAT_TEXT.get(report.format, report.format) + (f"({report.encoding})" if report.encoding else "")],
        ["版式", _say(LAYOUTS, report.layout, "")],
        ["编号层级", " ".join(report.levels) or "—"],
        ["任务条目", f"{report.tasks}条"],
        ["写明责任单位", f"{report.blocks}条"],
        ["能确定牵头单位", f"{report.leads}条"],
        ["写明完成时限", f"{report.deadlines}条"],
        ["条目覆盖正文", f"{report.structured_share:.0%}"],
        ["转换时略去", f"{report.dropped}字"],
    ]


def item_view(item: Item) -> dict[str, Any]:
    u = item.units
    return {
        "path": item.path, "title": item.title, "text": item.text,
        "lead": list(u.lead), "lead_rule": chatview.LEAD_RULES.get(u.lead_rule, ""),
        "co": list(u.co), "local": list(u.local),
        "deadlines": [d.normalized for d in item.deadlines],
        "departments": list(u.departments),
    }


def document_view(doc: Document) -> dict[str, Any]:
    sections = []
    placed: set[str] = set()
    for s in doc.sections:
        items = [it for it in doc.items if it.section == s.numeral]
        placed.update(it.path for it in items)
        sections.append({"heading": s.heading, "items": [item_view(it) for it in items]})
    rest = [it for it in doc.items if it.path not in placed]
    if rest:
        sections.append({"heading": "其他条目" if sections else "", "items": [item_view(it) for it in rest]})
    report = doc.report
    info = doc.info
    return {
        "id": doc.id, "title": doc.title,
        "meta": [[k, v] for k, v in (("发文单位", info.issuer if info else None), ("文号", info.doc_number if info else None),
                                     ("日期", info.date if info else None)) if v],
        "sections": sections,
        "report": report_view(report),
        "warnings": [chinese_warning(w) for w in (report.warnings if report else ())],
        "notes": [chinese_warning(n) for n in (report.notes if report else ())],
        "departments": pinyin_sorted({n for it in doc.items for n in it.units.departments}),
    }


def pinyin_sorted(names: set[str] | list[str]) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return sorted(names, key=lambda n: (lazy_pinyin(n, style=Style.NORMAL, errors="default"), n))


# -- export ---------------------------------------------------------------------------------------
def export_markdown(title: str, records: list[dict[str, Any]]) -> str:
    out = [f"# {title}", ""]
    for n, answer in enumerate(records, 1):
        out += [f"## {n}. {answer.get('question', '')}", ""]
        out += [("文件中没有答案:" if answer.get("refused") else "") + answer.get("answer", ""), ""]
        t = own_table(answer)
        if t:
            out.append("| " + " | ".join(t["columns"]) + " |")
            out.append("|" + "---|" * len(t["columns"]))
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in t["rows"]]
            out.append("")
        cites = answer.get("citations") or []
        if cites:
            out.append("出处:")
            out += [f"{k}. 《{c['doc']}》{chatview.where(c)}:「{c['quote']}」" for k, c in enumerate(cites, 1)]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def export_docx(title: str, records: list[dict[str, Any]]) -> bytes:
    from docx import Document as Docx

    d = Docx()
    d.add_heading(title, level=1)
    for n, answer in enumerate(records, 1):
        d.add_heading(f"{n}. {answer.get('question', '')}", level=2)
        d.add_paragraph(("文件中没有答案:" if answer.get("refused") else "") + answer.get("answer", ""))
        t = own_table(answer)
        if t:
            grid = d.add_table(rows=1, cols=len(t["columns"]))
            grid.style = "Table Grid"
            for cell, text in zip(grid.rows[0].cells, t["columns"], strict=True):
                cell.text = text
            for row in t["rows"]:
                for cell, text in zip(grid.add_row().cells, row, strict=True):
                    cell.text = text
        for k, c in enumerate(answer.get("citations") or [], 1):
            d.add_paragraph(f"[{k}] 《{c['doc']}》{chatview.where(c)}:「{c['quote']}」")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    turns = payload.get("turns")
    if not isinstance(turns, list) or len(turns) > 500:
        raise DeskError("对话内容无效。")
    out = []
    for t in turns:
        if not isinstance(t, dict) or not isinstance(t.get("answer"), str) or not isinstance(t.get("citations", []), list):
            raise DeskError("对话内容无效。")
        out.append(t)
    return out


# -- the desk -------------------------------------------------------------------------------------
class Desk:
    """Every call the page makes; each takes the JSON payload and the HTTP request's user."""

    def __init__(self, service: Any, feedback_path: Path, gate: chatview.Gate,
                 login: chatview.Login | None = None, staging: Path | None = None) -> None:
        self.service = service
        self.feedback_path = feedback_path
        self.gate = gate
        self.login = login
        self.signer = Signer()
        self.feedback_limit = chatview.FeedbackLimit(per_minute=30)
        self.staging = staging or Path(service.index) / ".staging"  # inside the index: never served
        shutil.rmtree(self.staging, ignore_errors=True)  # uploads a stopped app left unpublished
        self._staged: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def _docs(self) -> dict[str, Document]:
        return {d.id: d for d in self.service.documents()}

    def is_admin(self, user: str | None) -> bool:
        return bool(self.login and user and self.login.role(user) == "admin")

    def documents(self) -> list[dict[str, Any]]:
        return [{"id": d.id, "title": d.title, "tasks": len(d.items)} for d in self.service.documents()]

    def session(self, user: str | None) -> dict[str, Any]:
        return {
            "user": user or "", "admin": self.is_admin(user), "documents": self.documents(),
            "max_question": chatview.MAX_QUESTION_CHARS,
            "types": list(UPLOAD_TYPES), "max_upload": MAX_FILE_BYTES,
        }

    def ask(self, payload: dict[str, Any]) -> dict[str, Any]:
        question = str(payload.get("question") or "").strip()
        problem = chatview.check_question(question)
        if problem:
            return {"type": "notice", "tone": "warn", "text": problem}
        history = [h for h in payload.get("history") or [] if _answer_like(h)][-HISTORY_TURNS:]
        picked = [str(d) for d in payload.get("docs") or []] or None
        with self.gate.enter() as admitted:
            if not admitted:
                return {"type": "notice", "tone": "warn", "text": chatview.BUSY_MESSAGE}
            try:
                try:
                    answer = self.service.ask(question, history, picked).to_dict()
                except (KeyError, TypeError, ValueError, AttributeError):
                    if not history:
                        raise
                    # the history comes from the browser's storage: one the service cannot read
                    # (an older page's, or edited by hand) costs the follow-up, not the answer
                    answer = self.service.ask(question, [], picked).to_dict()
            except RagError as exc:
                return {"type": "notice", "tone": "error", "text": _chinese_error(exc)}
        return view(answer, self._docs(), self.signer)

    def feedback(self, payload: dict[str, Any], user: str | None, session: str) -> dict[str, Any]:
        rating = payload.get("rating")
        record = payload.get("record")
        if rating not in ("up", "down", "withdrawn"):
            raise DeskError("反馈无效。")
        if not self.signer.check(record, payload.get("sig")):
            raise DeskError("这条回答来自较早的会话(服务已重启),无法记录反馈;请重新提问后再评价。")
        if not self.feedback_limit.allow(session):
            raise DeskError("反馈太频繁,这次没有记录,请稍后再试。")
        from rag.indexing.store import append_jsonl

        reason = str(payload.get("reason") or "").strip()[:REASON_MAX_CHARS]
        line = {
            **chatview.feedback_record(record, rating), "id": record["id"],
            "reason": reason, "user": user or "", "citations": record.get("citations") or [],
        }
        append_jsonl(self.feedback_path, line, max_bytes=FEEDBACK_MAX_BYTES)
        said = {"up": "已记录:有帮助。谢谢!", "down": "已记录:没有帮助。谢谢,我们会改进。", "withdrawn": "已撤销评价。"}
        return {"ok": True, "text": said[rating] if not reason else "已记录反馈和原因。谢谢!"}

    def browse(self, payload: dict[str, Any]) -> dict[str, Any]:
        docs = self._docs()
        doc = docs.get(str(payload.get("doc") or "")) or next(iter(docs.values()), None)
        if doc is None:
            return {"documents": [], "document": None}
        return {"documents": [{"id": d.id, "title": d.title} for d in docs.values()], "document": document_view(doc)}

    def original(self, payload: dict[str, Any]) -> dict[str, Any]:
        doc = self._docs().get(str(payload.get("doc") or ""))
        if doc is None:
            raise DeskError("没有这份文件。")
        path = Path(self.service.corpus) / doc.id
        return {"name": PurePosixPath(doc.id).name, "data": base64.b64encode(path.read_bytes()).decode()}

    def export(self, payload: dict[str, Any]) -> dict[str, Any]:
        records = _records(payload)
        title = str(payload.get("title") or "问答记录")[:80]
        stamp = time.strftime("%Y%m%d-%H%M")
        try:  # the records come from the browser's storage, which a user can edit
            if payload.get("format") == "docx":
                data = export_docx(title, records)
                return {"name": f"问答记录-{stamp}.docx", "data": base64.b64encode(data).decode(),
                        "mime": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
            text = export_markdown(title, records)
        except (KeyError, TypeError, AttributeError, ValueError):
            raise DeskError("对话内容无效,无法导出。") from None
        return {"name": f"问答记录-{stamp}.md", "data": base64.b64encode(text.encode()).decode(),
                "mime": "text/markdown;charset=utf-8"}

    # -- admin ------------------------------------------------------------------------------------
    def admin(self, payload: dict[str, Any], user: str | None) -> dict[str, Any]:
        if not self.is_admin(user):
            raise DeskError("需要管理员账号登录。")
        op = payload.get("op")
        if op == "feedback":
            return self.feedback_list(payload)
        if op == "stage":
            return self.stage(payload)
        if op == "publish":
            return self.publish(payload)
        if op == "discard":
            with self._lock:
                entry = self._staged.pop(str(payload.get("token")), None)
            if entry:
                shutil.rmtree(entry["dir"], ignore_errors=True)
            return {"ok": True, "text": "已放弃这次上传。"}
        if op == "remove":
            doc_id = str(payload.get("doc") or "")
            if len(self.service.documents()) <= 1 and doc_id in self._docs():
                raise DeskError("文件库至少要保留一份文件:请先上传新文件,再删除这一份。")
            try:
                self.service.remove_document(doc_id)
            except LookupError:
                raise DeskError("没有这份文件。") from None
            except RagError as exc:
                raise DeskError(_chinese_error(exc, "删除失败:")) from None
            return {"ok": True, "text": f"已删除:{doc_id}", "documents": self.documents()}
        raise DeskError("未知操作。")

    def feedback_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Feedback, newest first, one line per answer (its latest rating; withdrawn ones left out)."""
        lines: list[dict[str, Any]] = []
        for path in (self.feedback_path.with_name(self.feedback_path.name + ".1"), self.feedback_path):
            if path.is_file():
                for raw in path.read_text("utf-8", errors="replace").splitlines():
                    try:
                        lines.append(json.loads(raw))
                    except json.JSONDecodeError:
                        continue
        latest: dict[str, dict[str, Any]] = {}
        for n, line in enumerate(lines):
            latest[str(line.get("id") or f"line-{n}")] = line
        rows = [r for r in reversed(latest.values()) if r.get("rating") in ("up", "down")]
        rating = payload.get("rating")
        if rating in ("up", "down"):
            rows = [r for r in rows if r["rating"] == rating]
        words = str(payload.get("text") or "").strip()
        if words:
            rows = [r for r in rows if words in r.get("question", "") or words in r.get("answer", "")
                    or words in r.get("reason", "")]
        out = [{
            "time": r.get("time", ""), "rating": "赞" if r["rating"] == "up" else "踩", "reason": r.get("reason", ""),
            "question": r.get("question", ""), "answer": r.get("answer", ""), "user": r.get("user", ""),
            "citations": [f"《{c.get('doc', '')}》{chatview.where(c)}:「{c.get('quote', '')}」"
                          for c in r.get("citations") or []],
        } for r in rows]
        result: dict[str, Any] = {"rows": out[:500], "total": len(out)}
        if payload.get("csv"):
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["时间", "评价", "原因", "问题", "回答", "出处", "账号"])
            for r in out:
                w.writerow([r["time"], r["rating"], r["reason"], r["question"], r["answer"],
                            "\n".join(r["citations"]), r["user"]])
            data = ("\ufeff" + buf.getvalue()).encode()  # with a BOM, so spreadsheet programs read UTF-8
            result["csv"] = {"name": f"反馈-{time.strftime('%Y%m%d-%H%M')}.csv",
                             "data": base64.b64encode(data).decode(), "mime": "text/csv;charset=utf-8"}
        return result

    def stage(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Read an uploaded file without publishing it: its parse report and first tasks."""
        name = PurePosixPath(str(payload.get("name") or "").replace("\\", "/")).name
        suffix = PurePosixPath(name).suffix.lower()
        if not name or name.startswith("."):
            raise DeskError("文件名无效。")
        if suffix not in CONVERTERS:
            raise DeskError(f"不支持这种文件类型({suffix or '无扩展名'}):请上传 " + "、".join(UPLOAD_TYPES) + " 文件。")
        try:
            data = base64.b64decode(str(payload.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise DeskError("文件内容无效。") from None
        if not data:
            raise DeskError("文件是空的。")
        if len(data) > MAX_FILE_BYTES:
            raise DeskError(f"文件太大({len(data) / 2**20:.1f} MB),上限 {MAX_FILE_BYTES // 2**20} MB。")
        token = secrets.token_hex(12)
        folder = self.staging / token
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        try:
            doc = read_converted(convert(folder / name), name)
        except (UnreadableFile, RagError, ValueError, OSError):
            shutil.rmtree(folder, ignore_errors=True)
            raise DeskError(f"无法读取这个文件:内容与{suffix}格式不符,或文件已损坏(扫描件 PDF 需先识别文字)。") from None
        exists = name in self._docs()
        with self._lock:
            self._staged[token] = {"dir": folder, "name": name, "time": time.time()}
            while len(self._staged) > STAGED_MAX:
                _, old = self._staged.popitem(last=False)
                shutil.rmtree(old["dir"], ignore_errors=True)
        preview = document_view(doc)
        return {"token": token, "name": name, "replace": exists, "title": doc.title, "report": preview["report"],
                "warnings": preview["warnings"], "notes": preview["notes"],
                "tasks": [{"path": it.path, "title": it.title, "lead": "、".join(it.units.lead) or "未写明"}
                          for it in doc.items[:8]], "total": len(doc.items)}

    def publish(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry = self._staged.pop(str(payload.get("token")), None)
        if entry is None:
            raise DeskError("这次上传已过期,请重新上传。")
        try:
            data = (entry["dir"] / entry["name"]).read_bytes()
            status, _ = self.service.add_document(entry["name"], data)
        except RagError as exc:
            raise DeskError(_chinese_error(exc, "发布失败:")) from None
        finally:
            shutil.rmtree(entry["dir"], ignore_errors=True)
        said = "已替换" if status == "replaced" else "已发布"
        return {"ok": True, "text": f"{said}:{entry['name']},现在可以提问了。", "documents": self.documents()}


def _answer_like(h: Any) -> bool:
    return (isinstance(h, dict) and isinstance(h.get("question", ""), str) and isinstance(h.get("answer"), str)
            and isinstance(h.get("citations", []), list) and isinstance(h.get("focus", {}), dict))


def _chinese_error(exc: Exception, doing: str = "") -> str:
    """The error's own message when it is written in Chinese, else a Chinese one: the service's
    messages for the command line and the API are English."""
    text = str(exc)
    if re.search(r"[\u4e00-\u9fff]", text) and not re.search(r"[A-Za-z]{4,}", text):
        return doing + text
    if doing:
        return doing + "文件无法读取或索引出错,请检查文件后重试;如果一再出现,请联系管理员。"
    return "出错了,这次没有得到回答,请换个说法再试;如果一再出现,请联系管理员。"
