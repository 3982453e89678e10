"""Questions over many documents: scope the question, answer it in each document that can answer,
and join the answers, newest document first, each naming its document.

Inside one document everything works as it does for a corpus of one (its own reader of questions,
its own answerer); what this module adds is which documents are asked, and what to do when a
question can only be resolved by a document it does not name (a clarify answer, never a guess).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from rag.answering.answer import Answerer, title_quote
from rag.answering.asks import (
    ASK_PHRASE,
    compared_kind,
    compares,
    split_asks,
    split_member,
    split_target,
    ticket_question,
)
from rag.answering.citations import cite, label
from rag.answering.english import (
    ENGLISH_FOLLOW_UP,
    Glossary,
    english_kind,
    english_topic,
    is_english,
    mixed_to_chinese,
)
from rag.answering.evidence import bigrams, title_match
from rag.answering.followup import anchor_of, resolve_follow_up, topic_residue, turn_anchor
from rag.answering.homophones import Homophones
from rag.answering.question import QuestionAnalyzer, clean_question
from rag.answering.retrieve import HybridRetriever, LazyHits
from rag.answering.rules import (
    ASK_CUE,
    CLAUSE,
    COMPARED_WITH,
    CONTENTS,
    CONTEXT_POINTER,
    CORRECTION,
    CUES,
    DEADLINE_NAMED,
    DEADLINE_PERIOD,
    DIFFERENCE,
    DISTRIBUTIVE,
    DOCUMENT_LIST,
    DOMAIN_UNIT,
    ELLIPSIS,
    ENGLISH_UNSTATED,
    FACT_KINDS,
    FOLLOW_KINDS,
    FOLLOW_SHAPE,
    GROUP_MARGIN,
    LETTERS,
    NAMELESS,
    NARROW,
    ORDER,
    OVERLAP,
    OWN_UNIT,
    PATH_REF,
    QUESTION_MARK,
    QUOTED_PHRASE,
    RESOLVED_BY_DOCUMENT,
    SAME_CUE,
    SECTION_POSITION,
    SELF_INTRODUCTION,
    SPEAKER,
    SWAP,
    SWAP_OPENING,
    TARGET_FILLERS,
    TASK_COUNT,
    THESE_TASKS,
    TICKET_WORDS,
    TITLED_KINDS,
    WHICH_ITEM,
    YEAR_SLOT,
)
from rag.answering.scope import Scope, Scoper, newest_first
from rag.reading.departments import Directory
from rag.reading.fields import chinese_number, deadline_order
from rag.types import Answer, Citation, Document, Item

SEARCH_K = 30
CANDIDATE_DOCS = 4  # documents, taken from the top hits, that a topic question is put to


def analyzer_for(docs: list[Document], directory: Directory) -> QuestionAnalyzer:
    text = "\n".join(d.text for d in docs)
    return QuestionAnalyzer(directory, text, {it.number for d in docs for it in d.items},
                            [(s.numeral, s.title) for d in docs for s in d.sections],
                            [it.title for d in docs for it in d.items],
                            [it.text for d in docs for it in d.items])


@dataclass(frozen=True)
class View:
    """One document with its own reader of questions and its own answerer."""

    doc: Document
    analyzer: QuestionAnalyzer
    answerer: Answerer


class Library:
    def __init__(self, docs: list[Document], directory: Directory, retriever: HybridRetriever,
                 today: date | None = None) -> None:
        self.docs = newest_first(docs)
        self.by_id = {d.id: d for d in self.docs}
        self.scoper = Scoper(self.docs, today, directory.mentions)
        self.retriever = retriever
        self.views = {
            d.id: View(d, analyzer_for([d], directory.preferring(_units_of(d)) if len(self.docs) > 1 else directory),
                       Answerer([d], vocabulary=frozenset(bigrams(d.text))))
            for d in self.docs
        }
        self.whole = analyzer_for(self.docs, directory) if len(self.docs) > 1 else None
        self.many = len(self.docs) > 1
        self.directory = directory
        self.glossary = Glossary([f"{it.title}。{it.body}" for d in self.docs for it in d.items])
        self.homophones = Homophones("\n".join(d.text for d in self.docs), directory.all_aliases(),
                                     [it.title for d in self.docs for it in d.items]
                                     + [sec.title for d in self.docs for sec in d.sections])  # (双控 of a heading)

    # -- entry -------------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict[str, Any]] | None = None,
            chosen: list[str] | None = None) -> Answer:
        asked = self.homophones.fix(clean_question(question))
        if is_english(asked):
            if english_topic(asked):
                return self._english(asked, chosen)
            # 「Who else is involved?」 names no topic: the same follow-up, asked in Chinese.
            answer = self.ask(ENGLISH_FOLLOW_UP[english_kind(asked)], history, chosen)
            answer.question, answer.answer = asked, f"(Q: {asked}) " + answer.answer
            return answer
        if LETTERS.search(asked):
            asked = mixed_to_chinese(asked)
        text, history = self.rewrite(asked, history or [])
        # A ticket's context is not its question: only the question is read and embedded, and the
        # context may pick a document only by naming one.
        question = self._in_section_at(self._domain_unit(self._own_unit(ticket_question(text), text), chosen), chosen)
        scope = self.scoper.scope(question, chosen)
        if not scope.why and question != text:
            in_context = self.scoper.scope(text[: text.rfind(question)] if question in text else text, chosen, explicit=True)
            if in_context.why:
                scope = replace(in_context, text=scope.text)
        if scope.refusal:
            return _refusal(text, scope.refusal)
        if ((self.scoper.asks_for_documents(scope.text) or self.scoper.asks_for_documents(text))
                and len(topic_residue(DOCUMENT_LIST.sub(" ", scope.text))) < 3
                or (not scope.text.strip() and scope.narrowed)) and not self.directory.find(scope.text):
            return self._documents(text, scope)  # (「宣传部在这个文件里有哪些任务」 asks about a unit)
        several = (self._these_tasks(scope, text, history) or self._unit_in_targets(scope, text, history)
                   or self._several_asks(scope, text, history) or self._two_kinds(scope, text, history))
        if several is not None:
            return several
        return self._route(scope, text, history)

    def _own_unit(self, question: str, text: str) -> str:
        """「我是市农业农村局的,…跟我们局有关的条目」: 我们局 is the unit the asker introduced."""
        intro = SELF_INTRODUCTION.match(SPEAKER.sub("", text, count=1))
        if intro is None or not OWN_UNIT.search(question):
            return question
        units = self.directory.mentions(intro.group(0))
        return OWN_UNIT.sub(units[0], question) if len(units) == 1 else question

    def _in_section_at(self, question: str, chosen: list[str] | None) -> str:
        """「第五部分里排第三的那条」: the task at that place in that section, by its own number, when
        one document has the section."""
        m = SECTION_POSITION.search(question)
        if m is None:
            return question
        numeral, at = m.group(1), chinese_number(m.group(2))
        docs = [d for d in self.docs if (chosen is None or d.id in chosen) and d.section(numeral)]
        if len(docs) != 1 or at is None or not 1 <= at <= len(paths := docs[0].section(numeral).paths):
            return question
        return question.replace(m.group(0), paths[at - 1], 1)

    def _domain_unit(self, question: str, chosen: list[str] | None) -> str:
        """「管学校的那个局」: a unit named by what it looks after is the lead of the task about that."""
        m = DOMAIN_UNIT.search(question)
        if m is None or self.directory.mentions(m.group(0)):
            return question
        hits = self.retriever.search(m.group(1), k=5, docs=frozenset(chosen) if chosen else None)
        task = next((self.by_id[h.chunk.doc_id].task(h.chunk.path) for h in hits if h.chunk.path), None)
        if task is None or len(task.units.lead) != 1 or task.units.lead[0] not in task.units.departments:
            return question
        return question.replace(m.group(0), task.units.lead[0], 1)

    def _two_kinds(self, scope: Scope, text: str, history: list[dict[str, Any]]) -> Answer | None:
        """Two asks in one question, each in its own clause: 「尾矿库在线监测要建几家,哪个部门牵头?」
        「想了解…有什么要求,另外交通运输这块是哪个局打头」. Clauses that ask nothing before them are a
        ticket's context. Each ask is answered (the second with the first's topic when it names none of
        its own: 「这项工作哪个部门牵头」) and the answers joined. A lead answer already names the
        co-responsible units, so lead with units of one topic stays one ask; so do two asks of one kind
        and one topic."""
        between = r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"  # 「A 是哪条 B也参与么」: spaces typed as commas
        spaced = re.sub(between, ",", scope.text) if re.search(between, text) else scope.text
        clauses = [c for c in CLAUSE.split(spaced) if c.strip()]
        asking = [i for i, c in enumerate(clauses) if QUESTION_MARK.search(c) or ASK_CUE.search(c)]
        if len(asking) != 2:
            return None  # (three asks or more: not two plain ones)
        i, j = asking[-2], asking[-1]
        reader = self._reader(scope.docs)
        first_text = clauses[i]
        pointer = CONTEXT_POINTER.search(first_text)
        if i > 0 and ((pointer and len(topic_residue(first_text[: pointer.start()])) < 2)
                      or len(topic_residue(TICKET_WORDS.sub(" ", first_text))) < 2):
            first_text = clauses[i - 1] + "," + first_text  # 「…玻璃栈道项目,这类项目有什么要求」「A,是哪条里的」
        first, second = reader.analyze(first_text), reader.analyze(clauses[j])
        bare = TARGET_FILLERS.sub(" ", TICKET_WORDS.sub(" ", clauses[j]))  # (那一条, 归, 管: no topic)
        own = len(topic_residue(bare, (*second.unit_mentions, *second.departments))) >= 2 \
            or second.item is not None  # (「归哪个部门管」 names nothing: 归, 管 are words of the ask)
        cue = CUES.get(first.kind)
        topic = cue.sub("", first_text) if cue is not None else first_text
        second_text = clauses[j] if own else topic + clauses[j]
        if not own:  # what the second ask is, once it has the first's topic (「科技局也参与么」: units)
            second = reader.analyze(second_text)
        kinds = {first.kind, second.kind}
        if not kinds <= {*FACT_KINDS, "fact", "list"} or first.refusal or second.refusal:
            return None
        points_back = re.search(r"[这那该此]一?(?:条|项)", clauses[j]) is not None
        if not own and (first.kind == second.kind or kinds <= {"lead", "units"} or first.item is not None
                        or (WHICH_ITEM.search(first_text) and points_back)):
            return None  # (「…是哪一条里提到的,那一条的责任单位」: the units answer names the task)
        if own and first.kind == second.kind and first.kind not in ("count", "deadline", "fact"):
            return None  # (「燃气谁牵头,消防谁牵头」 is a comparison's business)
        answers = [self._route(replace(scope, text=first_text), text, history),
                   self._route(replace(scope, text=second_text), text, history)]
        answered = [a for a in answers if not a.refused]
        if not answered or any(a.kind == "clarify" for a in answers):
            return None  # (an ask that cannot stand alone: the question is one ask after all)
        return _joined(text, [a.answer for a in answers], answers, answered, answered[0].kind, answered[-1].focus)

    def _route(self, scope: Scope, text: str, history: list[dict[str, Any]]) -> Answer:
        docs = list(scope.docs)
        named = self._paths_in(scope.text, docs)
        if len({d for d, _ in named}) > 1:
            return self._clarify_paths(text, scope, named)
        if named:
            doc_id, path = named[0]
            return self._in_one(self.views[doc_id], scope, text, [], path=path)
        if TASK_COUNT.search(scope.text) and len(docs) == 1:
            return self._task_count(text, self.by_id[docs[0]], scope)
        if not history and (bare := self._bare_item(scope)) is not None:
            return bare
        if not history and self._nothing_to_follow(scope):
            return Answer(text, "请补充:问题没有说明是哪项工作(这像是接着上一问的追问,但这是对话的第一问)。"
                          "可以写上工作名称(如“燃气”)或条目编号(如“第23条”)再问。", [], False, "clarify")
        context = _context_doc(history)
        if len(docs) > 1 and context in docs and not scope.why:
            # A conversation stays in its document while that document answers.
            answer = self._in_one(self.views[context], scope, text, history)
            if not answer.refused:
                return answer
        if len(docs) == 1:
            return self._in_one(self.views[docs[0]], scope, text, history if context in (None, docs[0]) else [])
        return self._across(docs, scope, text, history)

    def _several_asks(self, scope: Scope, text: str, history: list[dict[str, Any]]) -> Answer | None:
        """「燃气和消防分别由谁牵头」: one ask per target, joined; None when the question has one target
        (or its targets are one task, as in 消防和森林草原防火)."""
        if not DISTRIBUTIVE.search(scope.text):
            return None  # (cheap tests first: most questions have one target)
        kind = compared_kind(scope.text, self._reader(scope.docs).analyze(scope.text).kind)
        subs = split_asks(scope.text, kind)
        if subs is None:
            return None
        subs = [q for q in subs if not self._only_a_unit(q, kind)]  # 「应急局和公安局谁牵头燃气」 names units
        if len(subs) < 2:
            return None
        answers = [self._route(replace(scope, text=q), text, history) for q in subs]
        answered = [a for a in answers if not a.refused and a.citations]
        tasks = {(a.citations[0].doc_id, a.citations[0].path) for a in answered}
        if not answered or (len(tasks) < 2 and len(answered) == len(answers)):
            return None
        lines = [a.answer if not a.refused else f"“{split_target(q, kind)}”:{a.answer}" for q, a in zip(subs, answers, strict=True)]
        if len(answered) >= 2 and (verdict := self._compared(scope.text, kind, answered)):
            lines.insert(0, verdict)  # what was asked first, then each target's answer as its evidence
        return _joined(text, lines, answers, answered, kind,
                       _focus_of(answered))

    def _these_tasks(self, scope: Scope, text: str, history: list[dict[str, Any]]) -> Answer | None:
        """「这两条的责任单位一样吗」「这几条牵头的都是应急局?」: the tasks the conversation has been
        on (the last answer's, when it listed several; else the latest tasks talked about one by one),
        each asked what the question asks, the answers joined and compared."""
        if (pair := self._with_the_last(scope, text, history)) is not None:
            return pair
        m = THESE_TASKS.search(scope.text)
        if m is None or not history or len(scope.docs) != 1:
            return None
        wanted = {"两": 2, "俩": 2, "三": 3}.get(m.group(1) or "", 0)
        last = _tasks_of_turn(history[-1])
        items = list(last) if len(last) >= 2 else []
        if not items:
            for turn in reversed(history[-LOOK_BACK:]):
                one = _tasks_of_turn(turn)
                if len(one) == 1 and one[0] not in items:
                    items.insert(0, one[0])
        if wanted:
            items = items[-wanted:] if len(items) >= wanted else []
        if not 2 <= len(items) <= 5:
            return None
        rest = scope.text[: m.start()] + scope.text[m.end():]
        if len(topic_residue(NAMELESS.sub(" ", TICKET_WORDS.sub(" ", rest)), tuple(self.directory.mentions(rest)))) >= 2:
            return None  # (「燃气和消防这两条谁牵头」 names its own tasks)
        asked = SAME_CUE.sub("", rest).replace("都", "")  # each task is asked the plain question
        reader = self._reader(scope.docs)
        base = reader.analyze(f"第{items[0]}条{rest}").kind
        kind = compared_kind(rest, "fact" if base == "item" else base)  # (第N条 makes any question an item's)
        if reader.analyze(f"第{items[0]}条{asked}").kind in ("item", "fact") and kind in ASK_PHRASE:
            asked = ASK_PHRASE[kind]  # 「这两条的责任单位一样吗」: 的责任单位 alone asks nothing
        subs = [f"第{n}条{asked}" for n in items]
        answers = [self._route(replace(scope, text=q), text, []) for q in subs]
        answered = [a for a in answers if not a.refused and a.citations]
        if not answered:
            return None
        lines = [a.answer for a in answers]
        if len(answered) >= 2 and (verdict := self._compared(rest, kind, answered)):
            lines.insert(0, verdict)
        return _joined(text, lines, answers, answered, answered[0].kind,
                       _focus_of(answered))

    def _with_the_last(self, scope: Scope, text: str, history: list[dict[str, Any]]) -> Answer | None:
        """「跟煤矿那条比,责任单位有什么区别?」 after a task: the task in focus against the one named,
        in that order, compared as a two-target question would be."""
        m = COMPARED_WITH.search(scope.text)
        last = _tasks_of_turn(history[-1]) if history else []
        if m is None or len(last) != 1 or len(scope.docs) != 1:
            return None
        rest = scope.text[: m.start()] + scope.text[m.end():]
        reader = self._reader(scope.docs)
        base = reader.analyze(f"第{last[0]}条{rest}").kind
        kind = compared_kind(rest, "fact" if base == "item" else base)
        if kind not in ASK_PHRASE:
            return None
        subs = [f"第{last[0]}条{ASK_PHRASE[kind]}", f"{m.group(1)}{ASK_PHRASE[kind]}"]
        answers = [self._route(replace(scope, text=q), text, []) for q in subs]
        answered = [a for a in answers if not a.refused and a.citations]
        tasks = {(a.citations[0].doc_id, a.citations[0].path) for a in answered}
        if len(answered) < 2 or len(tasks) < 2:
            return None
        lines = [a.answer for a in answers]
        if verdict := self._compared(rest + "比", kind, answered):
            lines.insert(0, verdict)
        return _joined(text, lines, answers, answered, kind,
                       _focus_of(answered))

    def _unit_in_targets(self, scope: Scope, text: str, history: list[dict[str, Any]]) -> Answer | None:
        """「水利和有限空间作业,哪条里有市水务局?」: whether one unit is among each target's units, the
        verdict first and each target's units as its evidence; None unless two tasks are named."""
        mentions = self.directory.mentions(scope.text)
        if len(mentions) != 1 or (subs := split_member(scope.text, mentions[0])) is None:
            return None
        unit = next(iter(self.directory.find(mentions[0])), None)
        answers = [self._route(replace(scope, text=q), text, history) for q in subs]
        answered = [a for a in answers if not a.refused and a.citations]
        tasks = [t for a in answered if (t := self._task_of(a)) is not None]
        if unit is None or len({t.key for t in tasks}) < 2 or len(answered) < len(answers):
            return None
        verdict = ";".join(
            f"{t.path or f'第{t.number}条'}“{t.title}”" + (f"有{unit}({'牵头' if unit in t.units.lead else '配合'})"
                                                        if unit in t.units.departments else f"没有{unit}")
            for t in tasks) + "。"
        return _joined(text, [verdict, *(a.answer for a in answers)], answers, answered, "units",
                       {**_focus_of(answered), "departments": [unit]})

    def _only_a_unit(self, sub: str, kind: str) -> bool:
        target = split_target(sub, kind)
        return any(len(name) >= len(target) - 1 for name in self.directory.mentions(target))

    def _task_of(self, answer: Answer) -> Item | None:
        c = answer.citations[0]
        return self.by_id[c.doc_id].task(c.path) if c.path else None

    def _compared(self, text: str, kind: str, answered: list[Answer]) -> str | None:
        """The comparison a question asks for, over the tasks its asks were answered from: same
        lead or not, the units one has and another lacks (or both have), which deadline comes first."""
        tasks = [t for a in answered if (t := self._task_of(a)) is not None]
        if len(tasks) < 2:
            return None
        names = [f"{t.path or f'第{t.number}条'}“{t.title}”" for t in tasks]  # (a path where numbers restart: 五（五）)
        if kind == "lead" and compares(text):
            return "这几项的牵头单位相同。" if len({frozenset(t.units.lead) for t in tasks}) == 1 else "这几项的牵头单位不同。"
        if kind == "units" and len(tasks) == 2 and (OVERLAP.search(text) or DIFFERENCE.search(text) or compares(text)):
            a, b = ((t.units.co if "配合" in text else t.units.departments) for t in tasks)
            both = [u for u in a if u in b]
            if OVERLAP.search(text):
                return f"两项都有的:{'、'.join(both)}。" if both else "两项没有共同的单位。"
            only_a, only_b = [u for u in a if u not in b], [u for u in b if u not in a]
            return (f"{names[0]}有而{names[1]}没有的:{'、'.join(only_a) or '无'};"
                    f"{names[1]}有而{names[0]}没有的:{'、'.join(only_b) or '无'}。")
        if kind == "deadline" and ORDER.search(text):
            dated = [(deadline_order(t.deadlines[0].normalized, self._year(t)), n, t.deadlines[0].normalized)
                     for t, n in zip(tasks, names, strict=True) if t.deadlines]
            if len(dated) < 2:
                return f"只有{dated[0][1]}写明了时限。" if dated else None
            dated.sort()
            first, second = dated[0], dated[1]
            if first[0] == second[0]:
                return f"{first[1]}和{second[1]}的时限相同({first[2]})。"
            return f"{first[1]}的时限({first[2]})早于{second[1]}({second[2]})。"
        return None

    def _year(self, task: Item) -> int:
        info = self.by_id[task.doc_id].info
        return info.year if info and info.year else 0

    def _nothing_to_follow(self, scope: Scope) -> bool:
        """「还有哪些部门配合?」「牵头的是谁?」「具体包括哪些条目?」 as a chat's first message: it asks
        for details of a task it does not name (no topic, item, section or unit), so the reply is a
        request for that. Without a follow-up's shape (a pointer, 还/那/呢 …) only a question that
        names nothing at all is one."""
        bare = COMPARED_WITH.sub(" ", CONTENTS.sub(" ", scope.text))  # (「跟刚才那条比」 names nothing)
        residue = topic_residue(NAMELESS.sub(" ", TICKET_WORDS.sub(" ", bare)))
        if len(residue) >= 2 or (FOLLOW_SHAPE.search(scope.text) is None and residue):
            return False
        if re.search(r"[0-9]", scope.text) or DEADLINE_NAMED.search(scope.text) or DEADLINE_PERIOD.search(scope.text) \
                or QUOTED_PHRASE.search(scope.text) or (CUES["list"].search(scope.text) and not CONTENTS.search(scope.text)):
            return False  # 「哪些工作要在6月底前完成」 names a deadline, 「写的是“相关县区”」 the words
        query = self._reader(scope.docs).analyze(scope.text)
        asks_contents = CONTENTS.search(scope.text) is not None and query.kind in ("list", "section")
        return (query.refusal is None and query.item is None and query.section is None and not query.departments
                and (query.kind in FOLLOW_KINDS or asks_contents))

    def _bare_item(self, scope: Scope) -> Answer | None:
        """「第二条呢?」 as a chat's first message: an item and nothing asked of it, so the reply asks
        what is wanted, offering its text, its lead and its deadline."""
        if len(scope.docs) != 1 or not ELLIPSIS.search(scope.text) or topic_residue(scope.text):
            return None
        view = self.views[scope.docs[0]]
        query = view.analyzer.analyze(scope.text)
        if query.item is None or query.refusal or query.kind not in ("item", "fact"):
            return None
        item = view.doc.item(query.item)
        if item is None:
            return None
        name = item.path or f"第{item.number}条"
        asks = (f"{name}讲了什么?", f"{name}由谁牵头?", f"{name}什么时候完成?")
        candidates = [{"doc_id": item.doc_id, "path": item.path, "title": item.title, "question": q} for q in asks]
        return Answer(scope.text, f"请补充:想问{name}“{item.title}”的什么?可以问它的内容、牵头单位或完成时限。", [],
                      False, "clarify", focus={"docs": [item.doc_id]}, candidates=candidates)

    def _english(self, text: str, chosen: list[str] | None) -> Answer:
        """An English question: the task the multilingual embedder puts first, asked in Chinese."""
        if ENGLISH_UNSTATED.search(text):
            return _refusal(text, "文件中没有写这类具体信息(金额、联系方式、企业名单等)", "out_of_scope")
        docs = frozenset(chosen) if chosen else None
        # The topic words alone: cue and function words only pull toward tasks about "responsibility".
        topic = english_topic(text)
        hits = self.retriever.search(" ".join(topic), k=3 * SEARCH_K, docs=docs)  # (the task's sentences too)
        tasks = list(dict.fromkeys((h.chunk.doc_id, h.chunk.path) for h in hits if h.chunk.path))
        # The one task whose title is named by the corpus's own term for a topic word (CC-CEDICT:
        # fireworks → 烟花爆竹) comes first; when several titles are, the embedder's order stands.
        terms = self.glossary.terms(topic)
        titled = [t.key for d in self.docs if docs is None or d.id in docs for t in d.items
                  if any(self.glossary.names(term, t.title) for term in terms)]
        if len(titled) == 1:
            tasks = [titled[0], *(k for k in tasks if k != titled[0])]
        if not tasks:
            return _refusal(text, "没有找到与问题相关的条目")
        kind = english_kind(text)
        # Of the three nearest tasks, the first that has what is asked (a deadline): with no shared
        # words, the embedder's order among close neighbours is all there is to go on.
        near = [self.views[d].doc.task(p) for d, p in tasks[:3]]
        item = next((t for t in near if kind != "deadline" or t.deadlines), near[0])
        view = self.views[item.doc_id]
        query = replace(view.analyzer.analyze(item.title), text=text, kind=kind, item=item.number,
                        path=item.path, section=None, departments=(), refusal=None)
        doc_hits = [h for h in hits if h.chunk.doc_id == view.doc.id]
        said = [h for h in doc_hits if h.chunk.kind == "sentence" and h.chunk.path == item.path]
        if query.kind in ("fact", "count") and said:
            # Chinese word overlap cannot pick an English question's sentence: the embedder does.
            quote = max(said, key=lambda h: h.dense).chunk.text
            answer = Answer(text, f"{label(item)}写道:{quote}", [cite(view.doc, item, quote)], False, query.kind,
                            focus={"items": [item.number], "paths": [item.path], "doc_id": view.doc.id})
        else:
            answer = view.answerer.answer(query, doc_hits)
        answer.answer = f"(Q: {text}) " + answer.answer
        return self._named(answer, view.doc)

    def _task_count(self, text: str, doc: Document, scope: Scope) -> Answer:
        sections = f",分{len(doc.sections)}个部分" if doc.sections else ""
        answer = f"《{doc.title}》共列{len(doc.items)}项任务{sections}。"
        return Answer(text, scope.note + answer, [cite(doc, None, title_quote(doc))], False, "count",
                      focus={"doc_id": doc.id}, support=1.0)

    # -- one document ------------------------------------------------------------------------
    def _paths_in(self, text: str, doc_ids: list[str]) -> list[tuple[str, str]]:
        """Tasks the question names by a structured path (五（五）, 二3): (doc_id, path), longest first."""
        found = []
        for m in PATH_REF.finditer(text):
            path = m.group(0).replace("(", "（").replace(")", "）")
            if "（" not in path and not path[-1].isdigit():
                continue  # a bare 五 is a numeral, not a task
            found += [(d, path) for d in doc_ids if self.by_id[d].task(path) is not None]
        return found

    def _reader(self, doc_ids: tuple[str, ...] = ()) -> QuestionAnalyzer:
        """The question reader for the corpus (one document's, when the corpus holds one)."""
        return self.whole or self.views[doc_ids[0] if doc_ids else self.docs[0].id].analyzer

    @staticmethod
    def _candidates(scope: Scope, docs: list[Document], path_of) -> list[dict[str, Any]]:
        """What a clarify reply offers: each document, the task it would mean, and the question again
        with the document named (a client can send it as is)."""
        return [{"doc_id": d.id, "path": path_of(d), "title": d.title, "question": f"《{d.title}》{scope.text}"}
                for d in docs]

    def _clarify_paths(self, text: str, scope: Scope, named: list[tuple[str, str]]) -> Answer:
        docs = [self.by_id[d] for d in dict.fromkeys(d for d, _ in named)]
        path = named[0][1]
        candidates = self._candidates(scope, docs, lambda d: path)
        names = "、".join(f"《{d.title}》" for d in docs)
        return Answer(text, f"问题没有指明是哪份文件:{len(docs)}份文件都有{path}——{names}。请选择一份文件。", [], False,
                      "clarify", focus={"docs": [d.id for d in docs]}, candidates=candidates)

    def _in_one(self, view: View, scope: Scope, text: str, history: list[dict[str, Any]],
                path: str | None = None) -> Answer:
        query = view.analyzer.analyze(scope.text)
        if path is not None and not query.refusal:
            item = view.doc.task(path)
            kind = query.kind if query.kind in FACT_KINDS else "item"
            query = replace(query, path=path, item=item.number, section=None, kind=kind)
        query = replace(resolve_follow_up(query, history), text=text)
        query = self._titled(view, self._narrowed(view, query, history))
        docs = frozenset({view.doc.id}) if self.many else None
        hits = [] if query.refusal else LazyHits(
            lambda: self.retriever.search(query.retrieval_text, k=SEARCH_K, docs=docs))
        answer = view.answerer.answer(query, hits)
        return self._named(answer, view.doc, scope.note)

    @staticmethod
    def _titled(view: View, query):
        """「燃气安全由谁牵头」: a lead, units or deadline question that names one task by its whole
        title, and says nothing that task's text does not (or a lead or units question that the
        task's text supports clearly best, `Answerer.named_task`), is about that task as if it gave
        its number: the document's structure answers it, without embedding the question."""
        if query.item is not None or query.refusal or query.kind not in TITLED_KINDS:
            return query
        item = view.answerer.named_task(query)
        return query if item is None else replace(query, path=item.path, item=item.number, section=None)

    @staticmethod
    def _narrowed(view: View, query, history: list[dict[str, Any]]):
        """「其中交通运输那条具体要做什么」: a task picked out of the list the last answer gave, by
        how much of its title the question carries."""
        if query.item is not None or query.refusal or not NARROW.search(query.text):
            return query
        anchor = anchor_of(history)
        if len(anchor.items) < 2:
            return query
        listed = [view.doc.task(p) for p in anchor.paths] if anchor.paths else [view.doc.item(n) for n in anchor.items]
        scored = sorted(((title_match(query.retrieval_text, it), -i, it) for i, it in enumerate(listed) if it),
                        key=lambda x: (x[0], x[1]), reverse=True)
        if not scored or scored[0][0] <= 0:
            return query
        item = scored[0][2]
        # the question's own ask (「其中X那条谁牵头」), not the listing a follow-up would carry over
        own = view.analyzer.analyze(query.text).kind
        kind = query.kind if query.kind in FACT_KINDS else own if own in FACT_KINDS else "item"
        return replace(query, item=item.number, path=item.path, kind=kind, departments=())

    def rewrite(self, text: str, history: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        """Follow-ups that restate the last question with one slot changed: 「那Y局呢」 after
        「X局牵头哪些」, 「那2020年呢」 after a year refusal, and corrections 「不是这个,我问的是Z」."""
        if not history:
            return text, history
        last = history[-1]
        previous = str(last.get("question") or "")
        if SWAP.search(previous):  # 「那Y局呢」 after 「那X局呢」: the question that one stood for
            previous = self.rewrite(previous, history[:-1])[0]
        if (m := CORRECTION.search(text)) is not None:
            target = m.group(1).strip(" ?？。")
            if (swapped := self._swapped(target, previous, only_slot=True)) is not None:
                return swapped, history[:-1]  # 「说错了,我是问2020年的」: the last question, that slot changed
            if self._reader().analyze(target).kind == "fact":
                target += ASK_PHRASE.get(last.get("kind") or "", "具体要做什么?")
            return target, history[:-1]
        if not SWAP.search(text) or not previous:
            return text, history
        return self._swapped(text, previous, only_slot=not SWAP_OPENING.search(text)) or text, history

    def _swapped(self, text: str, previous: str, only_slot: bool = False) -> str | None:
        """``previous`` with its unit or year replaced by the one ``text`` names (``only_slot``: when
        ``text`` says nothing else)."""
        new_units, old_units = self.directory.mentions(text), self.directory.mentions(previous)
        new_year, old_year = YEAR_SLOT.search(text), YEAR_SLOT.search(previous)
        if only_slot:
            rest = YEAR_SLOT.sub("", text)
            for name in new_units:
                rest = rest.replace(name, "")
            if len(topic_residue(rest)) >= 2:
                return None
        if new_units and old_units and len(new_units) == 1:
            return previous.replace(old_units[0], new_units[0], 1)
        if new_year and old_year:
            return previous.replace(old_year.group(0), new_year.group(0), 1)
        return None

    def _named(self, answer: Answer, doc: Document, note: str = "") -> Answer:
        """With several documents in the corpus, the answer says which one it comes from."""
        paths = list(dict.fromkeys(c.path for c in answer.citations if c.path))
        answer.focus = {**answer.focus, "doc_id": doc.id, "paths": paths}
        if self.many and not answer.refused:
            answer.answer = f"《{doc.title}》{answer.answer}"
        elif self.many:
            answer.answer = answer.answer.replace("文件中没有这个问题的答案", f"《{doc.title}》中没有这个问题的答案", 1)
        if note:
            answer.answer = note + answer.answer
        return answer

    # -- several documents -------------------------------------------------------------------
    def _across(self, doc_ids: list[str], scope: Scope, text: str, history: list[dict[str, Any]]) -> Answer:
        assert self.whole is not None
        query = self.whole.analyze(scope.text)
        query = replace(resolve_follow_up(query, _without_items(history)), text=text)
        if query.refusal:
            return _refusal(text, query.refusal.replace("文件", "文件库", 1), query.kind)
        if query.kind == "department":
            return self._department(doc_ids, scope, text, query.departments)
        if query.item is not None or query.kind in RESOLVED_BY_DOCUMENT or self._about_a_document(query, scope):
            per_doc = {d: self.views[d].analyzer.analyze(scope.text) for d in doc_ids}
            return self._resolve_by_document(doc_ids, scope, text, query, per_doc)
        return self._topic(doc_ids, scope, text, query)

    def _about_a_document(self, query, scope: Scope) -> bool:
        """「这份文件什么时候发的」「文号是多少」: only a document can answer, and it is not named."""
        return self.scoper.names_this_document(scope.text) or (
            query.kind == "overview" and CUES["meta"].search(scope.text) is not None)

    def _resolve_by_document(self, doc_ids, scope: Scope, text: str, query, per_doc) -> Answer:
        able = [d for d in doc_ids if self._resolves(self.views[d], per_doc[d], query)]
        if not able:
            what = f"第{query.item}条" if query.item is not None else "问题所指的部分"
            return _refusal(text, f"{'所选' if scope.narrowed else ''}文件中没有{what}", query.kind)
        if len(able) == 1:
            return self._in_one(self.views[able[0]], scope, text, [])
        return self._clarify(text, scope, [self.by_id[d] for d in able], query)

    @staticmethod
    def _resolves(view: View, doc_query, query) -> bool:
        if doc_query.refusal:
            return False
        if query.item is not None:
            return doc_query.item is not None and view.doc.item(doc_query.item) is not None
        if query.kind == "section" or doc_query.kind == "section":
            return doc_query.section is not None and view.doc.section(doc_query.section) is not None
        return True

    def _clarify(self, text: str, scope: Scope, docs: list[Document], query) -> Answer:
        def path_of(doc: Document) -> str | None:
            item = doc.item(query.item) if query.item is not None else None
            return item.path if item else None

        candidates = self._candidates(scope, docs, path_of)
        names = "、".join(f"《{d.title}》" for d in docs)
        what = f"第{query.item}条" if query.item is not None else "这一内容"
        answer = f"问题没有指明是哪份文件:{len(docs)}份文件都有{what}——{names}。请选择一份文件,或在问题里写明文件名、年份或发文单位。"
        return Answer(text, answer, [], False, "clarify", focus={"docs": [d.id for d in docs]},
                      candidates=candidates)

    def _topic(self, doc_ids: list[str], scope: Scope, text: str, query) -> Answer:
        """Put the question to each document the top hits come from; join the ones that answer."""
        hits = self.retriever.search(query.retrieval_text, k=200,
                                     docs=frozenset(doc_ids) if scope.narrowed else None)
        order = list(dict.fromkeys(h.chunk.doc_id for h in hits[:SEARCH_K] if h.chunk.doc_id in doc_ids))
        answers: list[tuple[Document, Answer]] = []
        first_refusal: Answer | None = None
        if scope.compare:  # every document compared is asked, whatever its rank
            order = [d for d in doc_ids if d in order] + [d for d in doc_ids if d not in order]
        for doc_id in order[:CANDIDATE_DOCS]:
            view = self.views[doc_id]
            doc_query = replace(view.analyzer.analyze(scope.text), text=text)
            doc_hits = [h for h in hits if h.chunk.doc_id == doc_id][:SEARCH_K]
            answer = view.answerer.answer(doc_query, [] if doc_query.refusal else doc_hits)
            if answer.refused:
                first_refusal = first_refusal or self._named(answer, view.doc)
            else:
                answers.append((view.doc, answer))
        if not answers:
            return first_refusal or _refusal(text, "没有条目写到问题所说的内容", query.kind)
        best = max(a.support for _, a in answers)
        kept = [(d, a) for d, a in answers if a.support >= best - GROUP_MARGIN or scope.compare]
        kept = [(d, a) for d in newest_first(d for d, _ in kept) for dd, a in kept if dd is d]
        if len(kept) == 1:
            return self._named(kept[0][1], kept[0][0], scope.note)
        return self._grouped(text, kept, scope.note)

    def _grouped(self, text: str, parts: list[tuple[Document, Answer]], note: str = "") -> Answer:
        lines = [f"《{doc.title}》{a.answer}" for doc, a in parts]
        citations: list[Citation] = [c for _, a in parts for c in a.citations]
        rows = [r for _, a in parts for r in a.rows]
        head = f"{len(parts)}份文件都写到了这一内容(新文件在前):\n"
        return Answer(text, note + head + "\n".join(lines), citations, False, parts[0][1].kind,
                      focus={"docs": [d.id for d, _ in parts]}, rows=rows,
                      support=max(a.support for _, a in parts))

    # -- listings ----------------------------------------------------------------------------
    def _department(self, doc_ids: list[str], scope: Scope, text: str, departments: tuple[str, ...]) -> Answer:
        parts = []
        for doc_id in doc_ids:
            view = self.views[doc_id]
            query = replace(view.analyzer.analyze(scope.text), text=text, kind="department",
                            departments=departments, refusal=None)
            answer = view.answerer.answer(query, [])
            if not answer.refused:
                parts.append((view.doc, answer))
        if not parts:
            return _refusal(text, f"{departments[0]}没有出现在{'所选' if scope.narrowed else '任何'}文件的责任单位中",
                            "department")
        if len(parts) == 1:
            return self._named(parts[0][1], parts[0][0], scope.note)
        total = sum(len(a.rows) for _, a in parts)
        led = sum(1 for _, a in parts for r in a.rows if r["role"] == "牵头")
        head = f"{departments[0]}在{len(parts)}份文件中共有{total}条工作(牵头{led}条,新文件在前):\n"
        answer = self._grouped(text, parts, scope.note)
        answer.answer = scope.note + head + "\n".join(f"《{d.title}》{a.answer}" for d, a in parts)
        answer.focus = {"docs": [d.id for d, _ in parts], "departments": [departments[0]]}
        return answer

    def _documents(self, text: str, scope: Scope) -> Answer:
        docs = [self.by_id[d] for d in scope.docs]
        parts, citations, rows = [], [], []
        for doc in docs:
            info = doc.info
            facts = [x for x in (info.issuer if info else None, info.doc_number if info else None,
                                 info.date if info else None) if x]
            parts.append(f"《{doc.title}》({','.join(facts + [f'{len(doc.items)}项任务'])})")
            citations.append(cite(doc, None, title_quote(doc)))
            rows.append({"doc_id": doc.id, "title": doc.title, "issuer": info.issuer if info else None,
                         "doc_number": info.doc_number if info else None, "date": info.date if info else None,
                         "tasks": len(doc.items)})
        where = f"{scope.why}的" if scope.why else ""
        answer = f"文件库中{where}文件共{len(docs)}份(新文件在前):" + ";".join(parts) + "。"
        return Answer(text, scope.note + answer, citations, False, "documents",
                      focus={"docs": [d.id for d in docs]}, rows=rows)


def _units_of(doc: Document) -> set[str]:
    return {name for item in doc.items for name in (*item.units.departments, *item.units.written.values())}


def _joined(text: str, lines: list[str], answers: list[Answer], answered: list[Answer], kind: str,
            focus: dict[str, Any]) -> Answer:
    """One answer of several asks: their lines, every citation and row, and the weakest support of
    ``answered`` (the asks that count as answered; at least one)."""
    return Answer(text, "\n".join(lines), [c for a in answers for c in a.citations], False, kind, focus=focus,
                  rows=[r for a in answers for r in a.rows], support=min(a.support for a in answered))


def _focus_of(answered: list[Answer]) -> dict[str, Any]:
    """What a joined answer is about: every task its asks were answered from, and their documents."""
    return {"items": [i for a in answered for i in a.focus.get("items", [])],
            "docs": list(dict.fromkeys(c.doc_id for a in answered for c in a.citations))}


def _refusal(text: str, why: str, kind: str = "out_of_scope") -> Answer:
    return Answer(text, f"文件中没有这个问题的答案:{why}。", [], True, kind if kind else "out_of_scope")


LOOK_BACK = 6  # turns searched for the tasks 「这两条」 means


def _tasks_of_turn(turn: dict[str, Any]) -> tuple[int, ...]:
    """The tasks one answered turn was about (none for a refusal)."""
    return () if turn.get("refused") else turn_anchor(turn).items


def _context_doc(history: list[dict[str, Any]]) -> str | None:
    """The document the conversation is in: the latest answer that came from one document."""
    for turn in reversed(history[-4:]):
        focus = turn.get("focus") or {}
        if focus.get("doc_id"):
            return str(focus["doc_id"])
        docs = {c.get("doc_id") for c in turn.get("citations") or [] if c.get("doc_id")}
        if len(docs) == 1:
            return docs.pop()
        if focus.get("docs"):
            return None
    return None


def _without_items(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Item numbers mean nothing across documents; departments and the kind still carry over."""
    return [{**turn, "focus": {k: v for k, v in (turn.get("focus") or {}).items() if k not in ("items", "nearest")}}
            for turn in history]

