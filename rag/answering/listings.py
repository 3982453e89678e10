"""Answers read straight off the parsed structure, no evidence scoring: one item, a section's
items, every item a department is named in, every item that mentions a term. Lists are complete,
with their count; each listed item is cited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rag.answering.citations import cite, item_body, label, ref
from rag.answering.citations import shown_name as display_name
from rag.answering.question import Query
from rag.answering.rules import (
    BOTH_UNITS,
    CO_ASKED,
    DISTRIBUTIVE,
    LEADS_ONLY,
    NOT_ASKED,
    ONLY_CO,
    ONLY_LEADS,
    POINTER_LEADS,
    QUOTED_PHRASE,
    TOPIC_MARKED,
    UNITS_FIELD,
    WHO,
    WHO_LEADS,
)
from rag.types import Answer, Document, Item


def row(item: Item, role: str | None = None) -> dict[str, object]:
    """One task as a table row (PRODUCT.md: rows of a set answer)."""
    return {"doc_id": item.doc_id, "path": item.path, "title": item.title, "role": role,
            "lead": "、".join(item.units.lead) or None,
            "deadline": "；".join(d.normalized for d in item.deadlines) or None}


@dataclass(frozen=True)
class Refusal:
    why: str
    near: list[Item] | None = field(default=None)  # None: let the caller point at retrieved items


class Listings:
    def __init__(self, docs: list[Document]) -> None:
        self.docs = docs
        self.by_id = {d.id: d for d in docs}
        self.items = [it for d in sorted(docs, key=lambda d: d.title) for it in d.items]  # document order

    def _doc(self, item: Item) -> Document:
        return self.by_id[item.doc_id]

    def item(self, query: Query) -> Answer | Refusal:
        item = None
        if query.path is not None:
            item = self.docs[0].task(query.path)
        elif query.item is not None:
            item = self.docs[0].item(query.item)
        if item is None:
            return Refusal("没有这一条")
        section = self._doc(item).section(item.section)
        head = item_body(item)
        text = (f"{label(item)}(第{item.section}部分“{section.title if section else ''}”):{head}"
                f" 牵头单位:{'、'.join(item.units.lead) or '未写明'}。")
        return Answer(query.text, text, [cite(self._doc(item), item, head)], False, query.kind,
                      focus={"items": [item.number], "departments": list(query.departments)})

    def section(self, query: Query) -> Answer | Refusal:
        doc = self.docs[0]
        section = doc.section(query.section) if query.section else None
        if section is None and query.item is not None and (item := doc.item(query.item)) is not None:
            section = doc.section(item.section)  # 「这一部分包括哪几条」 after a task: the task's section
        if section is None:
            return Refusal(f"文件只有{len(doc.sections)}个部分", near=[])
        items = [doc.task(p) for p in section.paths]
        if not items:
            return Refusal(f"第{section.numeral}部分“{section.title}”下没有编号的任务", near=[])
        if WHO.search(query.text):  # 「第三部分谁牵头」: each item with its lead, citing the block
            listing = ";".join(f"{ref(i)} {i.title}(牵头:{'、'.join(i.units.lead) or '未写明'})" for i in items)
            cites = [cite(doc, i, i.units.raw or i.sentences[0]) for i in items]
        else:
            listing = ";".join(f"{ref(i)} {i.title}" for i in items)
            cites = [cite(doc, i, i.title if i.title_damaged else i.sentences[0]) for i in items]
        text = f"第{section.numeral}部分“{section.title}”共{len(items)}条:{listing}。"
        return Answer(query.text, text, cites, False, query.kind,
                      focus={"items": [i.number for i in items], "section": section.numeral},
                      rows=[row(i) for i in items])

    def department(self, query: Query) -> Answer | Refusal:
        if len(query.departments) >= 2 and BOTH_UNITS.search(query.text) and not DISTRIBUTIVE.search(query.text):
            return self._shared(query)  # 「X和Y都参与的有哪些」
        if len(query.departments) >= 2:  # 「X和Y分别参与了哪些」: each unit's list
            parts = [self.department(replace(query, departments=(name,))) for name in query.departments]
            answers = [a for a in parts if isinstance(a, Answer)]
            if not answers:
                return parts[0]
            return Answer(query.text, "\n".join(a.answer if isinstance(a, Answer) else a.why + "。" for a in parts),
                          [c for a in answers for c in a.citations], False, query.kind,
                          focus={"items": [n for a in answers for n in a.focus["items"]],
                                 "departments": list(query.departments)},
                          rows=[r for a in answers for r in a.rows])
        name = query.departments[0]
        rows = [it for it in self._in_section(query) if name in it.units.departments]
        where = f"第{query.section}部分" if query.section else ""
        term, about = self._about(query, rows)
        if about:  # 「市安委办在双控这块干什么」: those of its tasks that are about the words named
            rows, where = about, f"“{term}”方面"
        if not rows:
            return Refusal(f"{name}没有出现在{where or '任何'}条目的责任单位中")
        led = [it for it in rows if name in it.units.lead]
        written = next((it.units.written[name] for it in rows if it.units.written.get(name, name) != name), None)
        doc = self._doc(rows[0])
        own = display_name(doc, rows[0], name) if written else name
        shown_name = own if own != name else (f"{written}(即{name})" if written else name)  # the document's spelling
        if where:
            shown_name += f"在{where}"
        unit = "条"
        split = f"其中牵头{len(led)}{unit}、配合{len(rows) - len(led)}{unit}"
        co = [it for it in rows if it not in led]
        if ONLY_CO.search(NOT_ASKED.sub(" ", query.text)) and co:  # 「只是配合、不是牵头的有哪几项」
            text = f"{shown_name}作为配合单位的工作共{len(co)}{unit}:" + ";".join(f"{ref(it)} {it.title}" for it in co) + "。"
            if led:
                text += f"另有{len(led)}{unit}由它牵头。"
            shown = co
        elif self._asks_what_it_leads(query) and led:  # 「市公安局牵头哪些工作」: only the items it leads
            text = f"{shown_name}牵头的工作共{len(led)}{unit}:" + ";".join(f"{ref(it)} {it.title}" for it in led) + "。"
            if len(rows) > len(led):
                text += f"另有{len(rows) - len(led)}{unit}为配合单位。"
            shown = led
        else:
            with_leads = WHO_LEADS.search(query.text) is not None  # 「每项谁牵头」: each item with its lead
            parts = [f"{ref(it)} {it.title}({'牵头' if it in led else '配合'}"
                     + (f";牵头:{'、'.join(display_name(self._doc(it), it, n) for n in it.units.lead) or '未写明'}"
                        if with_leads else "") + ")" for it in rows]
            text = f"{shown_name}参与的工作共{len(rows)}{unit},{split}:" + ";".join(parts) + "。"
            if self._asks_what_it_leads(query):  # it leads nothing: say so, and list where it takes part
                text = f"{shown_name}没有牵头的工作;" + text
            shown = rows
        cites = [cite(self._doc(it), it, it.units.raw) for it in shown]
        if about and len(shown) == 1:  # one task on the topic: what it says, not only its name
            body = item_body(shown[0])
            text += f"{ref(shown[0])}原文:{body}"
            cites = [cite(self._doc(shown[0]), shown[0], body), *cites]
        return Answer(query.text, text, cites, False, query.kind,
                      focus={"items": [it.number for it in shown], "departments": [name]},
                      rows=[row(it, "牵头" if it in led else "配合") for it in shown])

    def _about(self, query: Query, rows: list[Item]) -> tuple[str, list[Item]]:
        """「X在双控这块干什么」「X在宣传方面负责哪些」: the unit's tasks about the words marked as a
        topic, when some (not all) of them contain those words."""
        rest = query.text
        for name in (*query.unit_mentions, *query.departments):
            rest = rest.replace(name, " ")
        m = TOPIC_MARKED.search(rest)
        if m is None:
            return "", []
        piece = m.group(1) or m.group(2)
        for length in range(len(piece), 1, -1):
            for i in range(len(piece) - length + 1):
                term = piece[i : i + length]
                about = [it for it in rows if term in it.title + "。" + it.body]
                if about and len(about) < len(rows):
                    return term, about
        return "", []

    def _in_section(self, query: Query) -> list[Item]:
        """The tasks a listing draws from: the section the question names (「第八部分里X牵头的」), or all."""
        if not query.section:
            return list(self.items)
        return [it for it in self.items if it.section == query.section]

    def _shared(self, query: Query) -> Answer | Refusal:
        names = query.departments
        rows = [it for it in self._in_section(query) if all(n in it.units.departments for n in names)]
        joined = "和".join(names)
        if not rows:
            return Refusal(f"没有{joined}都参与的条目")
        def roles(it: Item) -> str:
            return "、".join(f"{n}{'牵头' if n in it.units.lead else '配合'}" for n in names)
        text = f"{joined}都参与的工作共{len(rows)}条:" + ";".join(f"{ref(it)} {it.title}({roles(it)})" for it in rows) + "。"
        return Answer(query.text, text, [cite(self._doc(it), it, it.units.raw) for it in rows], False, query.kind,
                      focus={"items": [it.number for it in rows], "departments": list(names)},
                      rows=[row(it) for it in rows])

    @staticmethod
    def _asks_what_it_leads(query: Query) -> bool:
        """「市公安局牵头哪些」: the lead word follows the unit's name; in 「X参与的那条谁牵头」 it asks
        who leads X's items instead."""
        asked = NOT_ASKED.sub(" ", query.text)  # 「配合的就不用说了」 asks for less, not more
        if ONLY_LEADS.search(asked):  # 「只要它牵头的那几项」
            return True
        clauses = [c for c in re.split(r"[?？。;；]", asked) if c.strip()]
        if POINTER_LEADS.search(asked) and len(clauses) == 1:  # 「其中它牵头的是哪一项」 (not 「都有哪些?哪项是它牵头的?」)
            return True
        if WHO_LEADS.search(asked) or CO_ASKED.search(asked):  # 「牵头几项、配合几项」: both
            return False
        names = [*query.unit_mentions, *query.departments]
        return any(re.search(re.escape(n) + r"[^,，。?？]{0,4}?(?:" + LEADS_ONLY.pattern + ")", query.text)
                   or re.search("(?:" + LEADS_ONLY.pattern + r")(?:单位|部门)?(?:是|为)[^,，。?？]{0,2}?" + re.escape(n),
                                query.text) for n in names) or (not names and LEADS_ONLY.search(query.text) is not None)

    def term(self, query: Query, content: str) -> Answer | Refusal:
        term, rows = self.quoted_items(query.text)
        if not rows:
            term, rows = self.term_items(content)
        if not rows:
            return Refusal("没有条目写到这个内容")
        text = f"提到“{term}”的共{len(rows)}条:" + ";".join(f"{ref(it)} {it.title}" for it in rows) + "。"
        numbers = tuple(it.number for it in rows)
        if len({it.doc for it in rows}) == 1 and (section := next(
                (sec for sec in self._doc(rows[0]).sections if sec.items == numbers), None)):
            text += f"这正是第{section.numeral}部分“{section.title}”的全部条目。"
        cites = [cite(self._doc(it), it, next((s for s in (*it.sentences, it.units.raw) if _plain(term) in _plain(s)),
                                              it.title)) for it in rows]
        return Answer(query.text, text, cites, False, query.kind,
                      focus={"items": [it.number for it in rows], "term": term}, rows=[row(it) for it in rows])

    def quoted_items(self, question: str) -> tuple[str, list[Item]]:
        """「责任单位写的是“相关县区”的有哪些」: the quoted words as the text writes them, in any part
        of a task (its responsibility block too), brackets aside (相关县区 = 相关县(区))."""
        in_units = UNITS_FIELD.search(question) is not None  # 「责任单位写的是“…”」: that block only
        for quoted in QUOTED_PHRASE.findall(question):
            rows = [it for it in self.items
                    if _plain(quoted) in _plain(it.units.raw if in_units else f"{it.title}。{it.body}。{it.units.raw}")]
            if rows:
                return quoted, rows
        return "", []

    def term_items(self, content: str) -> tuple[str, list[Item]]:
        """The longest piece of the question that items contain literally, and all those items."""
        best: tuple[str, list[Item]] = ("", [])
        for piece in (p for p in content.split() if len(p) >= 2):
            for length in range(len(piece), len(best[0]), -1):
                found = next((
                    (piece[i : i + length], rows) for i in range(len(piece) - length + 1)
                    if (rows := [it for it in self.items if piece[i : i + length] in it.title + "。" + it.body])
                ), None)
                if found and length >= 2:
                    best = found
                    break
        return best


def _plain(text: str) -> str:
    """Text without brackets and spaces, for matching words the way a reader sees them."""
    return re.sub(r"[()（）\s]", "", text)
