"""Question → what is asked (kind) and about what (item, section, department, topic),
plus the reasons a question falls outside the corpus before anything is retrieved."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from rag.answering.rules import (
    CHITCHAT,
    CUES,
    DEPARTMENT_ASK,
    DEPARTMENT_LIST,
    DUTY_ASK,
    EXCEPT,
    EXCEPT_DUTY,
    FACETS,
    GENERIC_TITLE_GRAMS,
    GOAL_WORDS,
    HEADING_COMMON,
    INTERROGATIVE,
    ITEM_REF,
    ITEM_REF_BARE,
    ITEM_REF_LOOSE,
    LAST_ITEM,
    LAST_SECTION,
    LEAD_YESNO,
    LOCAL_DUTY,
    LOCAL_GOVERNMENT,
    NA_FOR_NA,
    OTHER_ISSUER,
    QUOTED_TITLE,
    RELATIVE_YEAR,
    SECTION_REF,
    SECTION_WORD,
    SECTION_WORD_STRONG,
    TITLE_VERB,
    TOPIC_MARKED,
    UNIT_MEMBERSHIP,
    UNKNOWN_UNIT,
    YEAR,
    YEAR_CHOICE,
)
from rag.errors import BadQuestion
from rag.reading.departments import Directory
from rag.reading.fields import chinese_number

MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class Query:
    text: str
    kind: str
    item: int | None = None
    section: str | None = None
    departments: tuple[str, ...] = ()
    facet: str | None = None  # a fact type the answer must contain evidence of (money, person …)
    refusal: str | None = None  # set when the question is out of scope before retrieval
    search_text: str = ""  # the question plus the document's own terms for the words it used
    unit_mentions: tuple[str, ...] = ()  # the department names as the question wrote them
    stand_ins: tuple[str, ...] = ()  # everyday words the corpus never uses, each searched as its term
    path: str | None = None  # a task named by its numbering path (五（五）, 三（二）5); wins over ``item``
    among: tuple[int, ...] = ()  # 「里面哪条…」: the tasks of the last list the question picks from

    @property
    def retrieval_text(self) -> str:
        return self.search_text or self.text


def load_synonyms() -> dict[str, list[str]]:
    raw = json.loads(resources.files("rag.data").joinpath("synonyms.json").read_text("utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def _question_na(text: str) -> str:
    if INTERROGATIVE.search(text) or not NA_FOR_NA.search(text):
        return text
    return NA_FOR_NA.sub("哪", text, count=1)


@lru_cache(maxsize=1)
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def clean_question(raw: object) -> str:
    """Normalize width, fold traditional characters to simplified ones (OpenCC: the documents are
    stored simplified), drop control characters; reject empty and over-long questions."""
    if not isinstance(raw, str):
        raise BadQuestion("question must be a string")
    text = unicodedata.normalize("NFKC", raw)
    if len(text) <= MAX_QUESTION_CHARS:
        text = _to_simplified().convert(text)
        text = _question_na(text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in " ")
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise BadQuestion("question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"question is too long ({len(text)} characters; the limit is {MAX_QUESTION_CHARS})")
    return text


def _section_numeral(token: str) -> str | None:
    numerals = "一二三四五六七八九十"
    value = chinese_number(token)
    if value is None or not 1 <= value <= 10:
        return None if value is None or value > 10 else None
    return numerals[value - 1]


class QuestionAnalyzer:
    """Knows the corpus's departments, years and places; turns a question into a Query."""

    def __init__(
        self, directory: Directory, corpus_text: str, item_numbers: set[int],
        sections: list[tuple[str, str]] = (), titles: list[str] = (), item_texts: list[str] = (),
    ) -> None:
        self.sections = list(sections)  # (numeral, title)
        self.synonyms = {t: w for t, w in load_synonyms().items() if t in corpus_text}
        topic = _topic_bigrams(titles) | {g for t, ws in self.synonyms.items() for w in [t, *ws] for g in _grams(w)}
        topic |= _topic_bigrams([title for _, title in self.sections]) - HEADING_COMMON  # (双控 of 扎实推进双控建设)
        self.topic_grams = topic - _common_bigrams(item_texts)
        self.directory = directory
        self.corpus_text = corpus_text
        self.item_numbers = item_numbers
        self.years = {int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", corpus_text)}
        self.places = _places_not_in(corpus_text)
        # The corpus with unit names blanked: an ordinary word (布局) stays, 民政局 does not make 政局 one.
        self.plain_text = corpus_text
        for alias in sorted(directory.all_aliases(), key=len, reverse=True):
            self.plain_text = self.plain_text.replace(alias, " ")
        self.facets_present = {name: bool(ev.search(corpus_text)) for name, (_, ev) in FACETS.items()}

    def analyze(self, raw: str) -> Query:
        text = clean_question(raw)
        refusal = self._scope_refusal(text)
        departments = tuple(self.directory.find(text))
        facet = next((name for name, (cue, _) in FACETS.items() if cue.search(text)), None)
        if facet and not self.facets_present[facet]:
            refusal = refusal or f"文件中没有写{_FACET_WORDS[facet]}"
        if refusal is None and not departments:
            unknown = self._unknown_unit(text)
            if unknown:
                refusal = f"文件中没有出现“{unknown}”这个单位"
        item = self._item_ref(text)
        section = self._section_ref(text) if item is None else None
        kind = "out_of_scope" if refusal else self._kind(text, item, section, departments)
        if item is not None and item not in self.item_numbers and refusal is None:
            lo, hi = min(self.item_numbers), max(self.item_numbers)
            refusal, kind = f"文件中没有第{item}条(条目编号为第{lo}–{hi}条)", "out_of_scope"
        return Query(text, kind, item, section, departments, facet, refusal, self.expand(text),
                     tuple(self.directory.mentions(text)), self.stand_ins(text))

    def _everyday(self, text: str) -> list[tuple[str, str]]:
        """(corpus term, everyday word) for each everyday word the question uses instead of the term."""
        return [(term, w) for term, words in self.synonyms.items() if term not in text for w in words if w in text]

    def expand(self, text: str) -> str:
        """Add the corpus's own term for each everyday word the question uses (鞭炮 → 烟花爆竹), and a
        small count typed in digits as the document writes it (3项岗位 → 三项岗位)."""
        extra = list(dict.fromkeys(term for term, _ in self._everyday(text)))
        extra += ["一二三四五六七八九十"[int(m.group(1)) - 1] + m.group(2)
                  for m in re.finditer(r"(?<![0-9.])(10|[1-9])([项个类家条种名])([\u4e00-\u9fff]{0,4})", text)
                  if "一二三四五六七八九十"[int(m.group(1)) - 1] + m.group(2) + m.group(3) in self.corpus_text]
        return f"{text} {' '.join(extra)}" if extra else text

    def stand_ins(self, text: str) -> tuple[str, ...]:
        """The everyday words of the question that the corpus never uses but has a term for
        (国标 → 国家标准): they can support nothing themselves, their term does."""
        return tuple(w for _, w in self._everyday(text) if w not in self.corpus_text)

    def _scope_refusal(self, text: str) -> str | None:
        if CHITCHAT.search(text.lower()):
            return "这不是关于文件内容的问题"
        dated = YEAR_CHOICE.sub(" ", text)  # (「年内完成还是明年」 asks a deadline, not about next year)
        for y in YEAR.findall(dated):
            if int(y) not in self.years:
                return f"文件只涉及{'、'.join(str(x) for x in sorted(self.years) if x >= 2000) or '其发布年度'}年,没有{y}年的内容"
        if m := RELATIVE_YEAR.search(dated):
            return f"文件是{max(self.years)}年的工作要点,不涉及“{m.group(0)}”" if self.years else "文件不涉及其他年度"
        if (m := OTHER_ISSUER.search(text)) and "市" not in m.group(1):
            return f"文件是本市的工作要点,不是{m.group(1)}的文件"
        for place in self.places:
            if re.search(rf"(?:^|[在对于关])?{place}(?:市|省|地区)?(?:的|今年|明年|安全生产|工作|有|在|是|怎么|要|这边|那边)", text) \
                    or text.startswith(place):
                return f"文件是本市的工作要点,没有关于{place}的内容"
        return None

    def _topical(self, text: str) -> bool:
        """Does the text name a topic of some item (its title's words, or a synonym of them)?"""
        return bool(_grams(text) & self.topic_grams)

    def _unknown_unit(self, text: str) -> str | None:
        for m in UNKNOWN_UNIT.finditer(text):
            name, base = m.group(0), m.group(1) or m.group(2) or m.group(3)
            if any(ch in base for ch in "哪个什么这那该各谁某怎咋里要能会"):
                continue
            shortest = 3 if m.group(3) else 2  # 中心 alone is an ordinary word; 疾控中心 is not
            if any(name[i:] in self.plain_text for i in range(len(name) - shortest + 1)):
                continue  # an ordinary word the corpus uses (布局, 格局 …)
            return name
        return None

    def _item_ref(self, text: str) -> int | None:
        if LAST_ITEM.search(text):
            return max(self.item_numbers)
        m = ITEM_REF.search(text)
        if m:
            return chinese_number(m.group(1))
        m = ITEM_REF_BARE.search(text)  # 「23条」; but 「梳理102项重大工程」 counts, it does not point
        if m and (value := chinese_number(m.group(1))) is not None and value in self.item_numbers \
                and not self._counted(value, text[m.start(1) + len(m.group(1)):]):
            return value
        # 「第四十五要干啥」: 条 left out; a number beyond the sections can only be an item
        m = ITEM_REF_LOOSE.search(text)
        value = chinese_number(m.group(1)) if m else None
        return value if value is not None and value > len(self.sections) else None

    def _counted(self, value: int, after: str) -> bool:
        """「3项岗位」: the document writes 三项岗位, a count of things, not task 3."""
        if not 1 <= value <= 10 or len(after) < 3:
            return False
        return "一二三四五六七八九十"[value - 1] + after[:3] in self.corpus_text

    def _section_ref(self, text: str) -> str | None:
        m = SECTION_REF.search(text)
        if m:
            return _section_numeral(m.group(1))
        if LAST_SECTION.search(text):
            return self.sections[-1][0] if self.sections else None
        if SECTION_WORD.search(text):  # 「复工复产那一部分」: a section named by its heading
            by_overlap = max(self.sections, key=lambda s: _overlap(text, s[1]), default=None)
            if by_overlap and _overlap(text, by_overlap[1]) >= 0.3:
                return by_overlap[0]
            # 「讲法治的那部分」: a word of one heading and no other, with a word that can only mean a section
            shared = sorted(((_shared_topic(text, title), numeral) for numeral, title in self.sections), reverse=True)
            if SECTION_WORD_STRONG.search(text) and shared and shared[0][0] >= 1 \
                    and (len(shared) == 1 or shared[0][0] > shared[1][0]):
                return shared[0][1]
        return None

    def _kind(self, text: str, item: int | None, section: str | None, departments: tuple[str, ...]) -> str:
        rest = text
        for alias in sorted(self.directory.all_aliases(), key=len, reverse=True):
            rest = rest.replace(alias, " ")
        for mention in self.directory.mentions(text):  # 「教育那边」: a name without its 局
            rest = rest.replace(mention, " ")
        if section and item is None:  # 「第八部分里市应急管理局牵头的」: a unit's tasks in that section
            return "department" if departments else "section"
        if CUES["meta"].search(text) and item is None and (
                QUOTED_TITLE.search(text) or not self._topical(CUES["meta"].sub(" ", rest))):
            # (「安全提示什么时候发布」 asks about a task, 「这份文件什么时候发布的」 about the document)
            return "overview"
        if GOAL_WORDS.search(text) and item is None and not departments:
            return "overview"
        if CUES["deadline"].search(text):
            return "deadline"
        if departments and LEAD_YESNO.search(rest) and (self._topical(rest) or len(_residue(rest)) >= 4):
            return "lead"
        if departments and item is None and (
                _department_ask(rest) or (DEPARTMENT_LIST.search(rest) and not self._topical(rest))):
            return "department"
        if departments and item is None and EXCEPT_DUTY.search(text):
            return "department"  # 「教育局除了管学校安全,还要参与哪些」: all its tasks
        if departments and item is None and TOPIC_MARKED.search(text) and DUTY_ASK.search(rest):
            return "department"  # 「X在考核这块负责什么」: the unit's tasks on that topic
        if LOCAL_GOVERNMENT.search(rest) and LOCAL_DUTY.search(rest) and not CUES["list"].search(text):
            return "units"  # 「县区要不要负责」: whether local governments are among the task's units
        if departments and UNIT_MEMBERSHIP.search(rest) and (item is not None or self._topical(rest)):
            return "units"  # 「消防那条有没有市公安局」: whether the unit is among the task's units
        if CUES["units"].search(rest) or (departments and EXCEPT.search(text)):
            return "units"  # (「除了安全生产月还有什么」 names no unit: not an ask for units)
        if CUES["lead"].search(rest):
            return "lead"
        if CUES["count"].search(text):
            return "count"
        if CUES["list"].search(text) and item is None:
            return "list"
        if item is not None:
            return "item"
        if CUES["overview"].search(text):
            return "overview"
        return "fact"


def _grams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _topic_bigrams(titles: list[str]) -> set[str]:
    """Bigrams that say what an item is about: its title less the verbs and generic words."""
    out: set[str] = set()
    for title in titles:
        out |= _grams(TITLE_VERB.sub("", title))
    return out - GENERIC_TITLE_GRAMS


def _common_bigrams(texts: list[str], share: float = 0.25) -> set[str]:
    """Bigrams in more than ``share`` of the items (安全, 生产, 监管 …): they name no one topic."""
    counts: dict[str, int] = {}
    for text in texts:
        for g in _grams(text):
            counts[g] = counts.get(g, 0) + 1
    return {g for g, n in counts.items() if n > share * max(1, len(texts))}


def _overlap(text: str, title: str) -> float:
    """Share of a heading's bigrams the text uses; generic words (工作, 安全) do not count as use."""
    grams = {title[i : i + 2] for i in range(len(title) - 1)} - {",,"}
    return len({g for g in grams - GENERIC_TITLE_GRAMS if g in text}) / max(1, len(grams))


def _shared_topic(text: str, heading: str) -> int:
    """Topical bigrams of a long heading that the text uses (宣传, 舆论 of 「坚持宣传发动,营造浓厚舆论氛围」)."""
    return len({g for g in _grams(heading) - GENERIC_TITLE_GRAMS - HEADING_COMMON if g in text})


def _residue(rest: str) -> str:
    """What a question says besides the department's name and the words of a 'what do they do' ask."""
    return re.sub(r"[\s\W_a-zA-Z0-9]", "", DEPARTMENT_ASK.sub("", rest))


def _department_ask(rest: str) -> bool:
    """After removing the department's name, is what is left only a 'what do they do' ask?"""
    return len(_residue(rest)) <= 1


_FACET_WORDS = {
    "money": "金额或预算", "person": "人员姓名", "contact": "联系方式", "statistic": "事故统计数字",
    "penalty": "罚款或扣分标准", "names": "具体名单", "location": "具体地点", "law_article": "所引法规的条文内容",
    "start": "开始的时间", "month": "具体月份",
}

# Places a user may ask about; a place the corpus never names is outside it.
_PLACES = (
    "北京 天津 上海 重庆 石家庄 唐山 保定 邯郸 邢台 沧州 衡水 廊坊 张家口 承德 雄安 太原 呼和浩特 沈阳 大连 长春 "
    "哈尔滨 南京 苏州 无锡 杭州 宁波 温州 合肥 福州 厦门 南昌 济南 青岛 烟台 郑州 武汉 长沙 广州 深圳 东莞 佛山 "
    "南宁 海口 三亚 成都 贵阳 昆明 拉萨 西安 兰州 西宁 银川 乌鲁木齐 香港 澳门 台湾 山西 辽宁 吉林 黑龙江 江苏 浙江 "
    "安徽 福建 江西 山东 河南 湖北 湖南 广东 广西 海南 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 内蒙古 全国 国外 美国 日本"
).split()


def _places_not_in(corpus_text: str) -> list[str]:
    return [p for p in _PLACES if p not in corpus_text]
