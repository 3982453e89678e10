"""Which documents a question is about: the ones it names (title, year, issuing body, place, 文号),
the ones a caller chose, or the one the conversation is in; otherwise all of them.

Every clue is read against what the corpus holds, so a year, place or body that no document has is
a refusal here, before anything is retrieved. The clue's words are taken out of the question
(「2021年的要点里燃气谁牵头」 → 「燃气谁牵头」) so that the per-document reader does not judge them
again against one document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from rag.answering.rules import (
    AUTHOR_TAIL,
    BARE_PLACE_END,
    COMPARE,
    CONTRACTIONS,
    DOC_NUMBER,
    DOC_YEAR,
    DOCUMENT_LIST,
    GENRE,
    IN_DOCUMENT,
    MENTIONED_PLACE,
    OTHER_BODY,
    PLACE_LIKE,
    QUOTED_TITLE,
    RELATIVE_YEAR_WORD,
    RELATIVE_YEARS,
    STEM_END,
    THIS_DOCUMENT,
    TITLE_PLACE,
    UNIT_AFTER,
    YEAR_CHOICE,
)
from rag.types import Document


@dataclass(frozen=True)
class Scope:
    docs: tuple[str, ...]  # the documents in scope, newest first
    narrowed: bool  # a clue, a caller's choice or the conversation narrowed it
    text: str  # the question with the clue words taken out
    why: str = ""  # what narrowed it, in words: 「2021年」「示例省」…
    refusal: str | None = None  # the clues name no document the corpus holds
    compare: bool = False  # the question compares documents (「今年还是…吗」「和去年一样吗」)
    note: str = ""  # said before the answer: how a clue was read (今年 with no document of that year)


def newest_first(docs: Iterable[Document]) -> list[Document]:
    return sorted(docs, key=lambda d: (_date_key(d), d.id), reverse=True)


def _date_key(doc: Document) -> str:
    info = doc.info
    if info and info.date:
        return info.date
    if info and info.year:
        return f"{info.year}-00-00"
    return ""


def _issuer_forms(issuer: str, place: str | None) -> set[str]:
    """The ways a question may name a document's author: 示例市安全生产委员会办公室 → 市安委会办公室,
    市安委办, 安委办 …"""
    forms = {issuer}
    rest = issuer[len(place):] if place and issuer.startswith(place) else None
    if rest:
        forms |= {place[-1] + rest, rest}
    for before, after in CONTRACTIONS:
        forms |= {f.replace(before, after) for f in forms}
    return {f for f in forms if len(f) >= 3}


def _stem(place: str) -> str | None:
    """湖州市 → 湖州 (a stem of two characters or more); None when there is none."""
    return place[:-1] if len(place) >= 3 and place[-1] in "市省县区" else None


def _title_places(doc: Document) -> set[str]:
    """Places the title or issuer names (滁州市人民政府关于…): a document may be about several."""
    names = " ".join(x for x in (doc.title, doc.info.issuer if doc.info else None) if x)
    return {m for m in TITLE_PLACE.findall(names)}


def _without_title_words(text: str, title: str, units: list[str] = (), shortest: int = 3) -> str:
    """The text less every run of ``shortest``+ characters that the title also has (「政府工作报告
    分工中，新建5G基站…」 → 「中，新建5G基站…」): they named the document, not the topic. Unit
    names stay whole (应急管理 of 海港区应急管理局)."""
    kept = [False] * len(text)
    for unit in units:
        for m in re.finditer(re.escape(unit), text):
            kept[m.start() : m.end()] = [True] * (m.end() - m.start())
    out, i = [], 0
    while i < len(text):
        n = 0
        while i + n < len(text) and text[i : i + n + 1] in title and not kept[i + n]:
            n += 1
        if n >= shortest:
            out.append(" ")
            i += n
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _grams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


class Scoper:
    def __init__(self, docs: list[Document], today: date | None = None,
                 units: Callable[[str], list[str]] = lambda text: []) -> None:
        self.units = units  # the unit names a text mentions, as written: title words never cut into them
        self.docs = newest_first(docs)
        self.by_id = {d.id: d for d in self.docs}
        self.today = today or date.today()
        self.years = sorted({d.info.year for d in self.docs if d.info and d.info.year})
        self.places = {d.info.place for d in self.docs if d.info and d.info.place}
        self.issuers = {d.id: _issuer_forms(d.info.issuer, d.info.place) for d in self.docs
                        if d.info and d.info.issuer}
        self.cores = {d.id: self._core(d) for d in self.docs}
        # Places a document without a parsed place names itself by (秦皇岛 of 秦皇岛开发区, 秦皇岛市…).
        self.mentioned = {d.id: set(MENTIONED_PLACE.findall(d.text)) | _title_places(d) for d in self.docs}
        self.mentioned_all = {p for names in self.mentioned.values() for p in names}
        counts: dict[str, int] = {}
        for core in self.cores.values():
            for g in _grams(core):
                counts[g] = counts.get(g, 0) + 1
        self.distinct = {g for g, n in counts.items() if n <= len(self.docs) / 2}  # words only some titles use

    @staticmethod
    def _core(doc: Document) -> str:
        """The words of a title that name the document: less its place and year."""
        title = doc.title
        if doc.info and doc.info.place:
            title = title.replace(doc.info.place, "")
        return re.sub(r"(?:19|20)\d\d年(?:度)?", "", title)

    def scope(self, text: str, chosen: Iterable[str] | None = None, explicit: bool = False) -> Scope:
        """The documents ``text`` is about, among ``chosen`` (all when None). The conversation's
        document is the caller's concern (a follow-up stays in it while it answers).

        ``explicit``: only clues that name a document (文号, 《title》, a year or title words joined
        to a genre word) count, as in a ticket's context, where 「去年外地出过事故」 or 「餐饮区」 tell a
        story and do not pick a document."""
        pool = [d for d in self.docs if chosen is None or d.id in set(chosen)]
        if not pool:
            return Scope((), True, text, "所选文件", refusal="所选的文件不在文件库中")
        narrowed = chosen is not None
        clues: list[str] = []
        note = self._this_year_note(text, pool)
        rest = text
        clue_readers = ((self._by_number, self._by_quoted_title, self._by_document_year, self._by_title) if explicit else
                        (self._by_number, self._by_quoted_title, self._by_other_issuer, self._by_year,
                         self._by_issuer, self._by_place, self._by_unknown_place, self._by_title))
        for read in clue_readers:
            found = read(rest, pool)
            if found is None:
                continue
            rest, clue, matching = found
            clues.append(clue)
            narrowed = True
            kept = [d for d in pool if d.id in matching]
            if not kept:
                where = "所选文件中" if chosen is not None else "文件库中"
                return Scope((), True, text, "、".join(clues), refusal=f"{where}没有{'、'.join(clues)}的文件"
                             + self._holdings())
            pool = kept
        compare = COMPARE.search(text) is not None
        if compare and clues:  # 「2021年燃气还是城管执法局牵头吗」: the year before is asked too
            extra = [p for d in pool if (p := self._predecessor(d)) is not None]
            pool = newest_first({d.id: d for d in [*pool, *extra]}.values())
        if clues:
            if len(pool) == 1:
                rest = _without_title_words(rest, self.cores[pool[0].id], self.units(rest))
            rest = IN_DOCUMENT.sub(" ", rest)
        return Scope(tuple(d.id for d in pool), narrowed, re.sub(r"\s+", " ", rest).strip() or text, "、".join(clues),
                     note=note, compare=compare and len(pool) > 1)

    def _predecessor(self, doc: Document) -> Document | None:
        """The same series' document of the year before: same title less year, same place."""
        place = doc.info.place if doc.info else None
        earlier = [d for d in self.docs if d is not doc and self.cores[d.id] == self.cores[doc.id]
                   and (d.info.place if d.info else None) == place and _date_key(d) < _date_key(doc)]
        return earlier[0] if earlier else None

    def _relative(self, word: str, pool: list[Document]) -> int:
        """The year a relative word means. 今年 with no document of the reference year (among the
        documents in question) means the plan in force: the newest year up to it."""
        year = self.today.year + RELATIVE_YEARS[word]
        years = {d.info.year for d in pool if d.info and d.info.year}
        if RELATIVE_YEARS[word] == 0 and year not in years:
            earlier = [y for y in years if y <= year]
            return max(earlier) if earlier else year
        return year

    def _this_year_note(self, text: str, pool: list[Document]) -> str:
        m = RELATIVE_YEAR_WORD.search(text)
        if m and RELATIVE_YEARS[m.group(0)] == 0 and (year := self._relative(m.group(0), pool)) != self.today.year:
            return f"(没有{self.today.year}年的文件,“{m.group(0)}”按最新的{year}年文件回答。)"
        return ""

    def _holdings(self) -> str:
        years = "、".join(str(y) for y in self.years)
        return f"(现有文件的年份:{years})" if years else ""

    # -- clues: each returns (text without the clue, the clue in words, matching doc ids) or None ----
    def _by_number(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        m = DOC_NUMBER.search(text)
        if not m:
            return None
        prefix, year, number = m.groups()
        matching = set()
        for d in pool:
            n = d.info.doc_number if d.info else None
            dm = DOC_NUMBER.search(n or "")
            if dm and dm.group(2) == year and int(dm.group(3)) == int(number) and (
                    not prefix or prefix.endswith(dm.group(1)) or dm.group(1).endswith(prefix)):
                matching.add(d.id)
        return text.replace(m.group(0), " "), m.group(0).strip(), matching

    def _by_quoted_title(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        for m in QUOTED_TITLE.finditer(text):
            name = m.group(1)
            matching = {d.id for d in pool if name in d.title or d.title in name}
            if matching or any(name in d.title or d.title in name for d in self.docs):
                return text.replace(m.group(0), " "), f"《{name}》", matching
        return None

    def _by_year(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        # 「2021年要点里,对2020年度巡查反馈问题…」: a year joined to a document word dates the
        # document; the others are then part of the topic.
        strong = re.compile(DOC_YEAR.pattern + rf"(?=(?:的)?[\u4e00-\u9fff]{{0,8}}?{GENRE})")
        masked = text  # (「年内完成还是明年」: the years of a timing choice stay in the question)
        if not strong.search(text):
            masked = YEAR_CHOICE.sub(lambda m: "\0" * len(m.group(0)), text)
        pattern = strong if strong.search(text) else DOC_YEAR
        spans = [m for m in (*pattern.finditer(masked), *RELATIVE_YEAR_WORD.finditer(masked))]
        years = [int(m.group(1)) if m.re is pattern else self._relative(m.group(0), pool) for m in spans]
        rest = text
        for m in sorted(spans, key=lambda m: m.start(), reverse=True):
            rest = rest[: m.start()] + ("" if m.re is pattern else " ") + rest[m.end():]
        if not years:
            return None
        matching = {d.id for d in pool if d.info and d.info.year in years}
        return rest, "、".join(f"{y}年" for y in dict.fromkeys(years)), matching

    def _by_document_year(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        """A year (or 今年, 去年 …) only where a document word follows it: 「去年的要点里」."""
        joined = re.compile(rf"(?:{DOC_YEAR.pattern}|({RELATIVE_YEAR_WORD.pattern}))(?=(?:的|那份|那个)?[\u4e00-\u9fff]{{0,8}}?{GENRE})")
        m = joined.search(text)
        if m is None:
            return None
        year = int(m.group(1)) if m.group(1) else self._relative(m.group(2), pool)
        return text.replace(m.group(0), " ", 1), f"{year}年", {d.id for d in pool if d.info and d.info.year == year}

    def _by_other_issuer(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        """「应急管理部2020年的工作要点」: a body named as a document's author that authors none here."""
        m = re.search(OTHER_BODY + AUTHOR_TAIL, text)
        if m is None:
            return None
        body = m.group(1)
        if any(body in form for forms in self.issuers.values() for form in forms):
            return None
        return text, body, set()

    def _by_issuer(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        best: tuple[int, str, set[str]] | None = None
        for doc_id, forms in self.issuers.items():
            for form in forms:
                if re.search(re.escape(form) + AUTHOR_TAIL, text) is None:
                    continue
                if best is None or len(form) > best[0]:
                    best = (len(form), form, set())
                if len(form) == best[0] and form == best[1]:
                    best[2].add(doc_id)
        if best is None:
            return None
        _, form, _ = best
        matching = {d.id for d in pool if form in self.issuers.get(d.id, ())}
        return text.replace(form, " ", 1), form, matching

    def _by_place(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        # 「湖州那份…」: a place may be written without its 市/省/县
        named = [p for p in self.places | self.mentioned_all
                 if (p in text and (p[-1] in "市省县区" or re.search(re.escape(p) + BARE_PLACE_END, text)))
                 or ((stem := _stem(p)) and re.search(re.escape(stem) + STEM_END, text))]
        if not named:
            return None
        named = [p for p in named if not any(p != q and p in q for q in named)]  # the longest wins
        def written(p: str) -> str:
            return p if p in text else _stem(p) or p

        named = [p for p in named if not any(p != q and written(p) in written(q) for q in named)]

        if all(p in self.mentioned_all and UNIT_AFTER.match(text[text.index(written(p)) + len(written(p)):])
               is not None for p in named):
            return None  # 「北戴河区应急管理局」: a unit's name, not the document's place
        matching = {d.id for d in pool if (d.info and d.info.place in named)
                    or any(p in self.mentioned.get(d.id, ()) for p in named)}
        rest = text
        for place in named:  # 示例市应急管理局 → 市应急管理局; 秦皇岛的… → 的…
            written = place if place in rest else _stem(place)
            rest = rest.replace(written, written[-1] if written[-1] in "市省县区" else " ")
        return rest, "、".join(named), matching

    def _by_unknown_place(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        """A place-like name that no document's text contains (示例县 where only 示例市 is held)."""
        for m in PLACE_LIKE.finditer(text):
            name = m.group(1)
            if any(name[i:] in d.text for d in self.docs for i in range(len(name) - 2)):
                continue  # 「给海港区…」: 海港区 is held
            if not any(name in p or (p in name and (len(p) >= 3 or p in self.places))
                       for p in self.places | self.mentioned_all):
                return text, name, set()
        return None

    def _by_title(self, text: str, pool: list[Document]) -> tuple[str, str, set[str]] | None:
        """「燃气专项整治方案里…」「讲危化品风险治理的那个文件」: the words before a genre word that
        share most of the title words that only some documents have (要点, 燃气 …; not 安全生产)."""
        best, matching, clue = 1, set(), ""
        for m in re.finditer(GENRE, text):
            window = text[max(0, m.start() - 14) : m.end()]
            grams = _grams(window) & self.distinct
            for d in pool:
                shared = len(grams & _grams(self.cores[d.id]))
                if shared > best:
                    best, matching, clue = shared, {d.id}, window
                elif shared == best and matching:
                    matching.add(d.id)
        if not matching or len(matching) == len(pool):
            return None
        rest = text
        for doc_id in matching:
            rest = _without_title_words(rest, self.cores[doc_id], self.units(rest))
        return rest, f"“{clue.strip()}”", matching

    # -- the rest of what a corpus-wide reader needs ------------------------------------------
    def asks_for_documents(self, text: str) -> bool:
        return DOCUMENT_LIST.search(text) is not None

    def names_this_document(self, text: str) -> bool:
        return THIS_DOCUMENT.search(text) is not None
