"""Fields + evidence → an Answer whose every citation quotes the source exactly, or a refusal.

No language model is needed: answers are built from the parsed fields (lead unit, deadlines,
counts, department lists) and the retrieved sentences. ``Phraser`` is the seam where a generator
could rephrase an answer later; it must keep the citations as they are.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.answering.citations import cite as _cite
from rag.answering.citations import clauses as _clauses
from rag.answering.citations import label as _label
from rag.answering.citations import shown_name
from rag.answering.evidence import (
    TextIndex,
    TitleIndex,
    bigrams,
    content_text,
    idf_weights,
    rank_items,
    support,
    title_match,
)
from rag.answering.followup import topic_residue
from rag.answering.gate import TRACE, gate_features, gate_model
from rag.answering.listings import Listings, Refusal
from rag.answering.listings import row as listing_row
from rag.answering.question import Query
from rag.answering.rules import (
    AIM_WORDS,
    ANSWER_TYPE,
    CHOICE,
    CUES,
    DATE_CUE,
    DEADLINE_NAMED,
    DEADLINE_PERIOD,
    DOCUMENT_NOUNS,
    FACETS,
    GUIDING_CUE,
    HOW_MANY_UNITS,
    HOW_OFTEN,
    ISSUER_CUE,
    LAW_ASK,
    LIST_ASK,
    MEMBERSHIP,
    META_CUES,
    MIN_SUPPORT,
    NAMED_MARGIN,
    NAMED_SUPPORT,
    NUMBER_CUE,
    QUOTED_TITLE,
    RANK_PENALTY,
    SECTION_LIST_CUE,
    SUPPORTED_KINDS,
    TASKS_ASKED,
    TIME_UNITS,
    TITLE_CUE,
    TITLE_NAMES_TASK,
    WRITTEN_DATE,
    YES_NO,
)
from rag.indexing.chunks import header_quote
from rag.reading.fields import counts_in, deadline_order
from rag.types import Answer, Count, Document, Hit, Item

RULE_TEXT = {
    "explicit": "原文明确写明“牵头”",
    "huitong": "原文为“会同”句式,“会同”之前的单位牵头",
    "first": "责任单位中排在第一位(按公文惯例,列在首位的单位牵头)",
}
RULE_SHORT = {"explicit": "原文写明牵头", "huitong": "“会同”之前的单位", "first": "责任单位中列第一位"}


class Phraser(Protocol):
    def __call__(self, answer: Answer) -> Answer: ...


@dataclass(frozen=True)
class Evidence:
    doc: Document
    item: Item | None
    quote: str
    score: float


@dataclass(frozen=True)
class Turn:
    """One question's working state: what it asks, what retrieval found, and what the evidence
    gates read. Built per call, never stored on the shared Answerer."""

    query: Query
    hits: Sequence[Hit]  # may be a LazyHits: retrieval runs when an answer first reads it
    content: str  # the question's topic words (department names and cue words left out)
    gate: str  # what the refusal gates read: content with stand-in words replaced by the corpus's terms
    question_counts: tuple[Count, ...]
    answer_type: re.Match[str] | None

    @functools.cached_property
    def hit_scores(self) -> dict[tuple[str, str, str], float]:
        return {(h.chunk.doc_id, h.chunk.path, h.chunk.text): h.score for h in self.hits}

    @classmethod
    def of(cls, query: Query, hits: list[Hit]) -> Turn:
        content = question_content(query)
        # The refusal gates also leave out everyday words the corpus never uses but has a term for
        # (网上 → 网络): the term, searched in their place, is what evidence can support.
        gate = content_text(content, list(query.stand_ins)) if query.stand_ins else content
        return cls(
            query=query, hits=hits, content=content, gate=gate,
            question_counts=tuple(counts_in(query.text)),
            answer_type=ANSWER_TYPE.search(query.text),
        )


class Answerer:
    """``vocabulary`` lets it tell a question about something the corpus never mentions
    (疫苗, 房价) from one that words a real topic differently."""

    def __init__(
        self, docs: list[Document], vocabulary: frozenset[str] = frozenset(), phraser: Phraser | None = None,
    ) -> None:
        self.docs = docs
        self.by_id = {d.id: d for d in docs}
        self.items = {it.key: it for d in docs for it in d.items}
        self.vocabulary = vocabulary  # every character bigram of the corpus
        passages = [s for it in self.items.values() for s in it.sentences] + [p for d in docs for p in d.preamble]
        self.idf = idf_weights(passages)
        self.listings = Listings(docs)
        self.titles = TitleIndex(self.items)
        self.phraser = phraser

    # -- entry -------------------------------------------------------------------------------
    def answer(self, query: Query, hits: list[Hit]) -> Answer:
        """Answer one question. Everything the question brings lives in its own ``Turn``; the
        Answerer itself is read-only after construction, so threads may share it."""
        if query.refusal:
            return self.refuse(query, query.refusal, hits)
        handler = getattr(self, f"_{query.kind}")
        turn = Turn.of(query, hits)
        answer = handler(turn)
        if not answer.refused:
            answer.support = self._support_of(turn, answer)
        if self.phraser and not answer.refused:
            answer = self.phraser(answer)
        return answer

    def _support_of(self, t: Turn, answer: Answer) -> float:
        """How well the cited text supports the question: compares one document's answer with
        another's. A task named by number or title is full support."""
        best = 0.0
        for c in answer.citations:
            item = self.items.get((c.doc_id, c.path)) if c.path else None
            if item is not None and t.query.item is not None:
                return 1.0
            if item is None:
                best = max(best, self._gated(t, c.quote))
            elif answer.kind in ("lead", "units"):  # the task is the evidence: its title or its text
                best = max(best, self._item_strength(t, item))
            else:  # the sentence is the evidence, read with its task
                best = max(best, self._gated(t, item.text))
        return best

    def refuse(self, query: Query, why: str, hits: list[Hit], near: list[Item] | None = None) -> Answer:
        if near is None:
            near = self._nearest(hits)
        pointer = ("相近的条目:" + ";".join(_label(i) for i in near) + "。") if near else ""
        return Answer(
            question=query.text, answer=f"文件中没有这个问题的答案:{why}。{pointer}", citations=[],
            refused=True, kind=query.kind,
            focus={"nearest": [i.number for i in near]},
        )

    def _nearest(self, hits: list[Hit], n: int = 3) -> list[Item]:
        out: list[Item] = []
        for hit in hits:
            item = self.items.get((hit.chunk.doc_id, hit.chunk.path)) if hit.chunk.path else None
            if item and item not in out:
                out.append(item)
            if len(out) == n:
                break
        return out

    # -- helpers -----------------------------------------------------------------------------
    def _known_share(self, content: str) -> float | None:
        """Share of the question's content bigrams that the corpus uses at all (None: none)."""
        grams = bigrams(content)
        if not grams:
            return None
        return sum(g in self.vocabulary for g in grams) / len(grams)

    def _unsupported(self, t: Turn, strength: float, item: Item | None = None) -> str | None:
        """Why the best evidence (``strength``, in ``item``) does not answer a topic question, or
        None when it does; the calibrated gate decides."""
        if t.query.item is not None:
            return None
        features = self._gate_features(t, strength, item)
        if (trace := TRACE.get()) is not None:
            trace.append((_task_key(item), features))
            trace.extend((_task_key(other), self._gate_features(t, self._item_strength(t, other), other))
                         for other in self._ranked(t)[:5] if other is not item)
        if gate_model().answers(features):
            return None
        return "文件中没有出现问题里的关键词" if features["known_share"] == 0.0 else "没有条目写到问题所说的内容"

    def _gate_features(self, t: Turn, strength: float, item: Item | None) -> dict[str, float]:
        share = self._known_share(t.gate) or 0.0
        where = (item.doc_id, item.path) if item is not None else None  # None: the text outside tasks
        dense_item = max((h.dense for h in t.hits if (h.chunk.doc_id, h.chunk.path) == where
                          or (where is None and not h.chunk.path)), default=0.0)
        dense_top = max((h.dense for h in t.hits), default=0.0)
        return gate_features(
            support=strength, known_share=share,
            idf_support=self._support(t.content, item.text) if item is not None else 0.0,
            title=title_match(t.query.retrieval_text, item) if item is not None else 0.0,
            dense_top=dense_top, dense_gap=dense_top - dense_item,
            log_grams=math.log1p(len(bigrams(t.gate))), outside_tasks=item is None)

    def _lacks_facet(self, query: Query, quote: str) -> bool:
        return query.facet is not None and not FACETS[query.facet][1].search(quote)

    def _doc(self, item: Item) -> Document:
        return self.by_id[item.doc_id]

    def _ranked(self, t: Turn) -> list[Item]:
        query, hits, content = t.query, t.hits, t.content
        if query.item is not None:
            doc = self.docs[0]
            item = doc.task(query.path) if query.path else doc.item(query.item)
            return [item] if item else []
        return [self.items[key] for key, _ in rank_items(hits, self.items, query.retrieval_text, content, self.idf,
                                                          self.titles.lookup(query.retrieval_text))]

    def named_task(self, query: Query) -> Item | None:
        """The one task the question is about without searching: the task whose whole title it
        carries, when that task's text also holds every other content word of the question (「烟花
        爆竹企业的安责险」 names 烟花爆竹 but asks about insurance); or, asked for a lead or units,
        the task whose text holds clearly the most of it and part of whose title it names
        (「道路交通安全整治是哪个部门牵头」: 交通运输). None when no task or several are named so."""
        text, content = query.retrieval_text, question_content(query)
        named = [key for key in self.titles.lookup(text) if title_match(text, self.items[key]) == 1.0]
        if len(named) == 1:
            item = self.items[named[0]]
            if support(content, item.text) == 1.0:
                return item
        return self._best_supported(text, content) if query.kind in SUPPORTED_KINDS else None

    @functools.cached_property
    def texts(self) -> TextIndex:
        """Built on the first lead or units question, not for every document of a library."""
        return TextIndex(self.items)

    def _best_supported(self, text: str, content: str) -> Item | None:
        best = self.texts.best(content, self.idf)
        if not best:
            return None
        (share, key), runner_up = best[0], best[1][0] if len(best) > 1 else 0.0
        item = self.items[key]
        if share >= NAMED_SUPPORT and share - runner_up > NAMED_MARGIN and title_match(text, item) > 0:
            return item
        return None

    def _support(self, content: str, evidence: str) -> float:
        """IDF-weighted support, for choosing between evidence; the refusal gates use the plain
        share of bigrams, which typos and everyday words do not push down as hard."""
        return support(content, evidence, self.idf)

    def _pool(self, query: Query, ranked: list[Item]) -> list[Item]:
        """The items whose sentences may answer: the named one, the one whose title the question
        names, or the top three."""
        if query.item is not None:
            return ranked[:1]
        named = [it for it in ranked[:5] if title_match(query.retrieval_text, it) == 1.0]
        if len(named) == 1 and ranked and ranked[0] is named[0]:
            return named
        return ranked[:3]

    def _topic_item(self, t: Turn) -> Item | Answer:
        """The one item a lead/units question is about, or a refusal when none is supported."""
        query, hits, content = t.query, t.hits, t.content
        ranked = self._ranked(t)
        if not ranked:
            return self.refuse(query, "没有找到与问题相关的条目", hits)
        item = ranked[0]
        if query.item is None:
            if not content.strip():
                return self.refuse(query, "问题没有说明是哪项工作,请补充工作内容或条目编号", hits, near=[])
            strength = self._item_strength(t, item)
            why = self._unsupported(t, strength, item)
            if why:
                return self.refuse(query, why, hits, near=ranked[:3])
        return item

    def _sentence_candidates(self, items: list[Item]) -> list[Evidence]:
        """Sentences of the candidate items, less the bare 「N.标题。」 and the responsibility block."""
        out = []
        for rank, item in enumerate(items):
            for s in item.sentences:
                if s == item.sentences[0] and len(s) <= len(item.title) + 5:
                    continue
                if item.units.raw and item.units.raw in s and len(s) <= len(item.units.raw) + 4:
                    continue
                out.append(Evidence(self._doc(item), item, s, -RANK_PENALTY * rank))
        return out

    def _score(self, t: Turn, e: Evidence) -> float:
        """Text support, plus the sentence's own retrieval score, plus a match of the asked-for
        kind of thing (哪些制度 → a sentence about 制度; 哪两个文件 → a sentence citing 《…》)."""
        score = e.score + self._support(t.content, e.quote)
        score += 8 * t.hit_scores.get((e.doc.id, e.item.path if e.item else "", e.quote), 0.0)
        if t.answer_type:
            noun = t.answer_type.group(1)
            if noun in e.quote or (noun in DOCUMENT_NOUNS and "《" in e.quote):
                score += 0.3
        return score

    def _scored(self, t: Turn, candidates: list[Evidence]) -> list[Evidence]:
        scored = [Evidence(e.doc, e.item, e.quote, self._score(t, e)) for e in candidates]
        return sorted(scored, key=lambda e: -e.score)

    def _best(self, t: Turn, candidates: list[Evidence]) -> Evidence | None:
        scored = self._scored(t, candidates)
        return scored[0] if scored else None

    def _gated(self, t: Turn, evidence: str) -> float:
        """Plain support of the evidence for the question as the refusal gates read it; a count the
        question repeats from the evidence (「那5家矿」 of 「关闭矿山5家」) is support enough."""
        if any(c.text in evidence for c in t.question_counts):
            return max(MIN_SUPPORT, support(t.gate, evidence))
        return support(t.gate, evidence)

    def _item_strength(self, t: Turn, item: Item) -> float:
        return max(self._gated(t, item.text), title_match(t.query.retrieval_text, item))

    # -- kinds -------------------------------------------------------------------------------
    def _lead(self, t: Turn) -> Answer:
        query, hits = t.query, t.hits
        item = self._topic_item(t)
        if isinstance(item, Answer):
            return item
        units = item.units
        if not units.lead:
            return self.refuse(query, f"{_label(item)}没有写明牵头单位", hits, near=[item])
        text = self._yes_no(query, item) + f"{_label(item)}由{self._names(item, units.lead)}牵头。依据:{RULE_TEXT[units.lead_rule]}。"
        text += self._spelling_note(item, units.departments)
        if units.co:
            text += f"配合单位:{self._names(item, units.co)}。"
        if units.local:
            text += f"属地责任:{';'.join(units.local)}。"
        return self._single(query, item, units.raw, text)

    @staticmethod
    def _yes_no(query: Query, item: Item) -> str:
        """For 「是不是归应急局管?」: whether the unit asked about leads, before naming the lead."""
        if not query.departments:
            return ""
        asked = query.departments[0]
        if asked in item.units.lead:
            return "是。"
        if asked in item.units.co:
            return f"不是牵头单位:{asked}是配合单位。"
        return f"不是:{_label(item)}的责任单位中没有{asked}。"

    def _units(self, t: Turn) -> Answer:
        query, hits = t.query, t.hits
        item = self._topic_item(t)
        if isinstance(item, Answer):
            return item
        units = item.units
        if not units.raw:
            return self.refuse(query, f"{_label(item)}没有写明责任单位", hits, near=[item])
        parts = [f"牵头:{self._names(item, units.lead) or '未写明'}({RULE_SHORT.get(units.lead_rule, '未写明')})"]
        parts.append(f"配合:{self._names(item, units.co) if units.co else '无其他市级部门'}")
        if units.local:
            parts.append(f"属地:{';'.join(units.local)}")
        text = self._member(query, item) + f"{_label(item)}的责任单位——" + ";".join(parts) + "。"
        if HOW_MANY_UNITS.search(query.text):  # 「列了几个部门」: the number, counted from the block
            text += f"共{len(units.departments)}个市级部门(牵头{len(units.lead)}个、配合{len(units.co)}个)"
            text += f",另有{len(units.local)}项属地责任。" if units.local else "。"
        text += self._spelling_note(item, units.departments)
        return self._single(query, item, units.raw, text)

    @staticmethod
    def _member(query: Query, item: Item) -> str:
        """For 「责任单位里有没有市教育局?」: whether the unit asked about is among the task's units."""
        if not query.departments or not MEMBERSHIP.search(query.text):
            return ""
        asked = query.departments[0]
        if asked in item.units.lead:
            return f"有:{asked}是牵头单位。"
        if asked in item.units.co:
            return f"有:{asked}是配合单位。"
        return f"没有:{_label(item)}的责任单位中没有{asked}。"

    def _names(self, item: Item, names: tuple[str, ...]) -> str:
        return "、".join(shown_name(self._doc(item), item, n) for n in names)

    def _spelling_note(self, item: Item, names: tuple[str, ...]) -> str:
        doc = self._doc(item)
        notes = [f"“{item.units.written[n]}”即{n}" for n in names
                 if item.units.written.get(n, n) != n and shown_name(doc, item, n) == n]
        return f"(原文写作{';'.join(notes)}。)" if notes else ""

    def _single(self, query: Query, item: Item, quote: str, text: str) -> Answer:
        doc = self._doc(item)
        return Answer(
            question=query.text, answer=text, citations=[_cite(doc, item, quote)], refused=False,
            kind=query.kind, focus={"items": [item.number], "departments": list(query.departments),
                                    "lead": list(item.units.lead)},
        )

    def _by_deadline(self, query: Query) -> Answer | None:
        """「哪些工作要在6月底前完成」「上半年要完成的有哪些」: every task whose deadline is the one named,
        or falls in the period named, as a list."""
        if query.among:  # 「里面哪条有明确的截止时间」: those of the tasks just listed that have one
            rows = [it for n in query.among if (it := self.docs[0].item(n)) is not None and it.deadlines]
            if not rows:
                return None
            text = f"这{len(query.among)}条中写明时限的共{len(rows)}条:" + ";".join(
                f"{it.path or f'第{it.number}条'} {it.title}({'；'.join(d.normalized for d in it.deadlines)})"
                for it in rows) + "。"
            return Answer(query.text, text, [_cite(self._doc(it), it, it.deadlines[0].sentence) for it in rows],
                          False, "deadline", focus={"items": [it.number for it in rows]},
                          rows=[listing_row(it) for it in rows])
        if query.item is not None or not LIST_ASK.search(query.text):
            return None
        if m := DEADLINE_NAMED.search(query.text):
            when = m.group(0)

            def due(d) -> bool:
                return when in d.normalized or when in d.text or when in d.sentence
        elif m := DEADLINE_PERIOD.search(query.text):
            when = m.group(0)
            first, last = _months(m)

            def due(d) -> bool:
                _, month, _ = deadline_order(d.normalized, 0)
                return first <= month <= last and bool(re.search(r"[0-9]月|上半年", d.normalized))
        elif CUES["deadline"].search(query.text) and CUES["list"].search(query.text) \
                and len(topic_residue(query.text, query.departments)) < 2:  # 「哪些任务有明确的完成时间」: every deadline
            when = "完成时限"

            def due(d) -> bool:
                return True
        else:
            return None
        rows = [it for it in self.items.values() if any(due(d) for d in it.deadlines)]
        if not rows:
            return None
        cites = [_cite(self._doc(it), it, next(d.sentence for d in it.deadlines if due(d))) for it in rows]
        head = "写明完成时限的" if when == "完成时限" else f"写明“{when}”时限的"
        text = f"{head}共{len(rows)}条:" + ";".join(
            f"{it.path or f'第{it.number}条'} {it.title}({'；'.join(d.normalized for d in it.deadlines if due(d))})"
            for it in rows) + "。"
        return Answer(query.text, text, cites, False, "list", focus={"items": [it.number for it in rows]},
                      rows=[listing_row(it) for it in rows])

    def _saying(self, t: Turn, items: list[Item], says, kind: str, every: bool = False) -> Answer | None:
        """The first of ``items`` with a sentence that ``says`` what is asked, quoting that sentence
        (``every``: all such sentences of it)."""
        for item in items:
            said = [sentence for sentence in item.sentences if says(sentence)]
            if said:
                said = said if every else said[:1]
                return Answer(t.query.text, f"{_label(item)}写道:" + "".join(said),
                              [_cite(self._doc(item), item, sentence) for sentence in said], False, kind,
                              focus={"items": [item.number]})
        return None

    def _said_instead(self, t: Turn) -> Answer | None:
        """A time asked that is no task's deadline (「防灾减灾日是哪一天」「季度调度还是月调度」): the
        sentence that states it, when it holds a date or one side of the choice asked."""
        # each side as typed and without its first character (是按季度, 按月调度 → 月调度)
        sides = [form for m in CHOICE.finditer(t.query.text) for w in m.groups() for form in (w, w[1:]) if len(form) >= 2]
        # 「季度调度还是月调度」: the sentence that says one of them
        if (said := self._saying(t, self._ranked(t)[:3], lambda x: any(w in x for w in sides), "fact")) is not None:
            return said
        fact = self._fact(t)
        if fact.refused or not fact.citations:
            return None
        quote = fact.citations[0].quote
        if re.search(r"[0-9]", quote) or any(w in quote for w in sides):
            return fact
        return None

    def _deadline(self, t: Turn) -> Answer:
        query, hits, content = t.query, t.hits, t.content
        if (listed := self._by_deadline(query)) is not None:
            return listed
        ranked = self._ranked(t)
        pool = ranked[:1] if query.item is not None else ranked[:3]  # a deadline may sit in a neighbour
        candidates = [e for e in self._sentence_candidates(pool) if e.item and any(
            d.sentence == e.quote for d in e.item.deadlines)]
        best = self._best(t, candidates)
        if best is not None and best.item is not None and self._unsupported(
                t, max(self._gated(t, best.quote), self._item_strength(t, best.item)), best.item):
            best = None
        read = " ".join([best.quote, *(d.normalized for d in best.item.deadlines if d.sentence == best.quote)]) \
            if best is not None and best.item is not None else ""
        if best is not None and query.facet in ("start", "month") and self._lacks_facet(query, read):
            return self.refuse(query, f"文件中没有写{'开始的时间' if query.facet == 'start' else '具体月份'}"
                               f"({_label(best.item)}写的是:{best.quote})", hits, near=[best.item])
        if best is None or best.item is None:
            duration = self._duration(t, pool)
            if duration:
                return duration
            if (said := self._said_instead(t)) is not None:
                return said
            target = pool[0] if pool else None
            why = f"{_label(target)}没有写明完成时限" if target else "没有找到写明时限的条目"
            return self.refuse(query, why, hits, near=pool[:3])
        item = best.item
        best_support = self._support(content, best.quote)
        deadlines = [d for d in item.deadlines if self._support(content, d.sentence) >= best_support - 0.2
                     or d.source == "field" or len(topic_residue(query.text, query.departments)) < 2]  # the task's 完成时限 field or column is its deadline of record
        lines, cites = [], []
        for d in deadlines:
            read = d.normalized if d.normalized == d.text else f"{d.normalized}(原文“{d.text}”)"
            lines.append(f"{read}:{d.sentence}")
            if d.sentence not in [c.quote for c in cites]:
                cites.append(_cite(self._doc(item), item, d.sentence))
        text = _deadline_verdict(query.text, deadlines) + f"{_label(item)}写明的时限——" + ";".join(lines)
        return Answer(query.text, text, cites, False, query.kind,
                      focus={"items": [item.number], "departments": list(query.departments)})

    def _duration(self, t: Turn, pool: list[Item]) -> Answer | None:
        """「多长时间」 answered by a length of time the text gives (24小时) when it sets no deadline."""
        query = t.query
        candidates = [e for e in self._sentence_candidates(pool[:1]) if e.item and any(
            c.sentence == e.quote and c.unit in TIME_UNITS for c in e.item.counts)]
        best = self._best(t, candidates)
        if best is None or best.item is None or self._gated(t, best.quote) < MIN_SUPPORT:
            return None
        return Answer(query.text, f"{_label(best.item)}写道:{best.quote}", [_cite(best.doc, best.item, best.quote)],
                      False, query.kind, focus={"items": [best.item.number]})

    def _count(self, t: Turn) -> Answer:
        query, hits = t.query, t.hits
        ranked = self._ranked(t)
        pool = self._pool(query, ranked)
        candidates = [e for e in self._sentence_candidates(pool) if e.item and any(
            c.sentence == e.quote for c in e.item.counts)]
        candidates += self._preamble_candidates(t, lambda s: bool(re.search(r"[0-9一二三四五六七八九十两]+(?:项|个|家|类)", s)))
        best = self._best(t, candidates)
        strength = 0.0 if best is None else max(
            self._gated(t, best.quote), self._item_strength(t, best.item) if best.item else 0.0)
        if best is None or self._unsupported(t, strength, best.item) or self._lacks_facet(query, best.quote):
            fact = self._fact(t)  # 「号码是多少」「目标是啥」: the number is in the text
            if not fact.refused and fact.citations and not self._lacks_facet(query, fact.citations[0].quote) and \
                    re.search(r"[0-9]+|[一二三四五六七八九十两]+(?:个|项|家|类|条|次|级)", fact.citations[0].quote):
                return fact
            return self.refuse(query, "文件中没有写这个数量", hits, near=pool[:3])
        where = _label(best.item) if best.item else "总体思路部分"
        text = f"{where}写道:{best.quote}"
        cite = _cite(best.doc, best.item, best.quote)
        return Answer(query.text, text, [cite], False, query.kind,
                      focus={"items": [best.item.number] if best.item else []})

    def _preamble_clause(self, t: Turn, word: str) -> Answer | None:
        """「主线是什么」「目标是啥」: the preamble clause that uses the very word, with what follows;
        where several do, the one whose neighbourhood supports the rest of the question best."""
        query, content = t.query, t.content
        windows = []
        for doc in self.docs:
            for sentence in doc.preamble:
                spans = _clauses(sentence)
                for i, (a, b) in enumerate(spans):
                    if word in sentence[a:b]:
                        window = sentence[spans[max(0, i - 1)][0] : spans[min(len(spans) - 1, i + 3)][1]]
                        windows.append((self._support(content, window), -len(windows), doc, window))
        if not windows:
            return None
        _, _, doc, window = max(windows)
        return Answer(query.text, f"总体思路部分:{window}", [_cite(doc, None, window)], False, query.kind)

    def _preamble_candidates(self, t: Turn, keep=lambda s: True) -> list[Evidence]:
        out = []
        for doc in self.docs:
            for sentence in doc.preamble:
                spans = _clauses(sentence)
                for i in range(len(spans)):
                    a, b = spans[max(0, i - 1)][0], spans[min(len(spans) - 1, i + 1)][1]
                    window = sentence[a:b]
                    if keep(window):
                        centre = sentence[spans[i][0] : spans[i][1]]
                        retrieved = 8 * t.hit_scores.get((doc.id, "", sentence), 0.0)
                        out.append(Evidence(doc, None, window, 0.5 * self._support(t.content, centre) - 0.1 + retrieved))
        return out

    def _fact(self, t: Turn) -> Answer:
        query, hits = t.query, t.hits
        if (listed := self._by_deadline(query)) is not None:  # 「6月底前要完成的有哪些」 read as a fact
            return listed
        ranked = self._ranked(t)
        if (m := HOW_OFTEN.search(query.text)) and m.group(1):  # 「多久调度一次」: the sentence that says how often
            often = re.compile(r"[月季周年]" + m.group(1) + r"|每|定期")
            said = self._saying(t, ranked[:3], lambda x: m.group(1) in x and often.search(x) is not None, query.kind)
            if said is not None:
                return said
        if query.item is not None and LAW_ASK.search(query.text):  # 「依据的是哪个规定」: the sentences naming a rule
            if (said := self._saying(t, ranked[:1], lambda x: "《" in x, query.kind, every=True)) is not None:
                return said
        pool = self._pool(query, ranked)
        candidates = self._sentence_candidates(pool)
        if query.item is None:
            candidates += self._preamble_candidates(t)
        scored = self._scored(t, candidates)
        if not scored:
            return self.refuse(query, "没有条目写到这个问题", hits, near=pool[:3])
        best = scored[0]
        strength = self._gated(t, best.quote)
        if best.item is not None:
            strength = max(strength, min(self._item_strength(t, best.item), self._gated(t, best.quote) + 0.2))
        why = self._unsupported(t, strength, best.item)
        if why or self._lacks_facet(query, best.quote):
            return self.refuse(query, why or "文件中没有写这类具体信息", hits,
                               near=[best.item] if best.item else pool[:3])
        # A second sentence of the same item that supports the question nearly as well goes too.
        chosen = [best] + [e for e in scored[1:2] if best.item is not None and e.item == best.item
                           and e.score >= 0.75 * best.score]
        where = _label(best.item) if best.item else "总体思路部分"
        text = f"{where}:" + "".join(e.quote for e in chosen)
        cites = [_cite(e.doc, e.item, e.quote) for e in chosen]
        return Answer(query.text, text, cites, False, query.kind,
                      focus={"items": [best.item.number] if best.item else []})

    def _item(self, t: Turn) -> Answer:
        query, hits = t.query, t.hits
        return self._or_refuse(query, hits, self.listings.item(query))

    def _section(self, t: Turn) -> Answer:
        query, hits = t.query, t.hits
        return self._or_refuse(query, hits, self.listings.section(query))

    def _department(self, t: Turn) -> Answer:
        query, hits = t.query, t.hits
        return self._or_refuse(query, hits, self.listings.department(query))

    def _list(self, t: Turn) -> Answer:
        query, hits, content = t.query, t.hits, t.content
        if (listed := self._by_deadline(query)) is not None:  # 「写了6月底前完成的任务有哪几条」
            return listed
        if not TASKS_ASKED.search(query.text) and (
                (named := len(self.listings.term_items(content)[1])) == 1 or named > len(self.items) / 4):
            # 「尾矿库安全监管在哪几个时期加强」「责任保险要在哪些行业推行」: what one task lists, when the
            # words name one task, or are so common (安全生产) that a list of them would say nothing
            fact = self._fact(t)
            if not fact.refused:
                return fact
        return self._or_refuse(query, hits, self.listings.term(query, content))

    def _or_refuse(self, query: Query, hits: list[Hit], result: Answer | Refusal) -> Answer:
        if isinstance(result, Refusal):
            return self.refuse(query, result.why, hits, near=result.near)
        return result

    def _document_facts(self, query: Query, doc: Document) -> Answer | None:
        """文号, issuing body and date, read from the parsed header and quoted as the text writes them."""
        info = doc.info
        if info is None:
            return None
        facts: list[tuple[str, str]] = []
        if NUMBER_CUE.search(query.text) and info.doc_number and info.doc_number in doc.text:
            facts.append(("文号", info.doc_number))
        elif NUMBER_CUE.search(query.text) and not info.doc_number:
            return Answer(query.text, f"《{doc.title}》的文件头和落款中没有写文号。",
                          [_cite(doc, None, title_quote(doc))], False, query.kind)
        if ISSUER_CUE.search(query.text) and info.issuer and info.issuer in doc.text:
            facts.append(("发文单位", info.issuer))
        if DATE_CUE.search(query.text) and info.date:
            written = next((m.group(0) for m in WRITTEN_DATE.finditer(doc.text)
                            if f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" == info.date), None)
            if written:
                facts.append(("日期", written))
        if not facts:
            return None
        text = f"《{doc.title}》" + ";".join(f"{name}:{value}" for name, value in facts) + "。"
        return Answer(query.text, text, [_cite(doc, None, value) for _, value in facts], False, query.kind)

    def _overview(self, t: Turn) -> Answer:
        query = t.query
        doc = self.docs[0]
        named = [n for n in QUOTED_TITLE.findall(query.text) if n not in doc.title and doc.title not in n]
        if named and CUES["meta"].search(query.text):  # 「《某规划》几月份出台」: another document's facts
            return Answer(query.text, f"文件中没有这个问题的答案:文件库中没有《{named[0]}》,"
                          f"这里只有《{doc.title}》。", [], True, "out_of_scope")
        for key, cue in META_CUES.items():
            quote = header_quote(doc, key)
            if quote and cue.search(query.text) and not SECTION_LIST_CUE.search(query.text):
                return Answer(query.text, f"《{doc.title}》{quote}", [_cite(doc, None, quote)], False, query.kind)
        if (facts := self._document_facts(query, doc)) is not None:
            return facts
        if TITLE_CUE.search(query.text):
            return Answer(query.text, f"文件标题是《{doc.title}》。", [_cite(doc, None, doc.title)], False, query.kind)
        if GUIDING_CUE.search(query.text):
            sentence = next((p for d in self.docs for p in d.preamble if "总体思路" in p), None)
            if sentence:
                return Answer(query.text, f"总体思路部分:{sentence}", [_cite(doc, None, sentence)], False,
                              query.kind)
        ranked = self._ranked(t) if AIM_WORDS.search(query.text) else []
        if ranked and title_match(query.retrieval_text, ranked[0]) >= TITLE_NAMES_TASK:
            return self._fact(t)  # 「居民收入和经济增长同步这个目标」: a task's own title, not the preamble
        for word in AIM_WORDS.findall(query.text):
            answer = self._preamble_clause(t, word)
            if answer:
                return answer
        if SECTION_LIST_CUE.search(query.text):
            heads = ";".join(s.heading for s in doc.sections)
            intro = next((s for s in doc.preamble if re.search(r"[一二三四五六七八九十]+项", s)), None)
            text = (f"{intro} " if intro else "") + f"共{len(doc.sections)}个部分:{heads}。"
            cites = ([_cite(doc, None, intro)] if intro else []) + [
                _cite(doc, None, s.heading, section=s.numeral) for s in doc.sections]
            return Answer(query.text, text, cites, False, query.kind)
        return self._fact(t)


def title_quote(doc: Document) -> str:
    """The document's title as the text writes it, or its first line (a title broken over lines)."""
    if doc.title in doc.text:
        return doc.title
    return next(line.strip() for line in doc.text.splitlines() if line.strip())


def question_content(query: Query) -> str:
    """What the question is about: its words less the departments it names and its lead/units cue."""
    return content_text(query.retrieval_text, [*query.departments, *query.unit_mentions, *_cue_words(query)])


def _cue_words(query: Query) -> list[str]:
    """The words that made the question a lead or units ask (「哪些部门一起管」): they say who is
    asked for, not about what. (Deadline cues stay: 「多长时间」 is what a duration must support.)"""
    cue = CUES.get(query.kind) if query.kind in ("lead", "units") else None
    return [m.group(0) for m in cue.finditer(query.text)] if cue else []


def _task_key(item: Item | None) -> tuple[str, str, int | None]:
    return (item.doc_id, item.path, item.number) if item is not None else ("", "", None)


def _deadline_verdict(question: str, deadlines) -> str:
    """「是年底前完成吗」: 是 or 不是 before the deadlines, when the question offers one time (a month,
    年底, a half or quarter) and yes or no is asked; nothing otherwise."""
    if not YES_NO.search(question) or "还是" in question or not deadlines:
        return ""
    asked = [(m, _months(m)) for m in DEADLINE_PERIOD.finditer(question)]
    asked += [(m, (int(n.group(1)), int(n.group(1))) if (n := re.match(r"(1[0-2]|[1-9])月", m.group(0))) else (12, 12))
              for m in DEADLINE_NAMED.finditer(question) if m.group(0) in ("年底",) or re.match(r"\d", m.group(0))]
    if len(asked) != 1:
        return ""
    first, last = asked[0][1]
    months = [deadline_order(d.normalized, 0)[1] for d in deadlines]
    if any(first <= month <= last for month in months):
        return "是。"
    return f"不是{asked[0][0].group(0)}。"


def _months(period: re.Match[str]) -> tuple[int, int]:
    """The months a period names: 上半年 1–6, 下半年 7–12, 二季度 4–6, 4月份 4."""
    text = period.group(0)
    if text == "上半年":
        return 1, 6
    if text == "下半年":
        return 7, 12
    if period.group(1):
        quarter = "一二三四".find(period.group(1)) + 1 or int(period.group(1))
        return 3 * quarter - 2, 3 * quarter
    month = int(period.group(2))
    return month, month
