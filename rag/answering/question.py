"""Question → what is asked (kind) and about what (item, section, department, topic),
plus the reasons a question falls outside the corpus before anything is retrieved."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from rag.errors import BadQuestion
from rag.reading.departments import Directory
from rag.reading.fields import chinese_number

MAX_QUESTION_CHARS = 500

ITEM_REF = re.compile(r"第\s*([0-9]{1,3}|[一二三四五六七八九十两]{1,4})\s*(?:条|项|点|款|个条目)")
ITEM_REF_BARE = re.compile(r"(?<![0-9第.])([0-9]{1,3})\s*(?:条|项)(?![件])")
SECTION_REF = re.compile(
    r"第\s*([一二三四五六七八九十]{1,3}|[0-9]{1,2})\s*(?:大)?(?:部分|方面|板块|章|节|大项|块)"
)
ITEM_REF_LOOSE = re.compile(r"第\s*([0-9]{1,3}|[一二三四五六七八九十两]{1,4})(?![0-9一二三四五六七八九十两年月日天届次批个])")
LAST_ITEM = re.compile(r"最后一条|最后一项|末条|最末一条")
LAST_SECTION = re.compile(r"最后一(?:个)?(?:部分|方面|板块|大项)")
SECTION_WORD = re.compile(r"(?:那|这|哪)一?(?:个)?大?(?:部分|板块|项|块)|部分(?:有|包括|讲|是|下面)")
# Words that can only mean a section (「这块」 may be just a topic: 「燃气这块谁管」).
SECTION_WORD_STRONG = re.compile(r"(?:那|这|哪)一?(?:个)?(?:大?部分|板块|大块|大项)|部分(?:有|包括|讲|是|下面)")
YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年")
RELATIVE_YEAR = re.compile(r"明年|去年|前年|后年|下一年|上一年|下年度|上年度|往年|历年")
UNKNOWN_UNIT = re.compile(
    r"(?:市|省|县|区)?([\u4e00-\u9fff]{2})(?:局|厅|委员会)(?!长)"  # 局长 is a person
    r"|市([\u4e00-\u9fff]{2,3})办(?:公室)?(?![法理事好])"  # 市人防办; 怎么办 has no 市 before it
    r"|(?:市|省|县|区)([\u4e00-\u9fff]{2,4})(?:中心|支队|大队|总队)"  # 市疾控中心: a level before it
)

CUES: dict[str, re.Pattern[str]] = {
    "meta": re.compile(
        r"发布时间|发布日期|(?:哪天|什么时候|何时|啥时候|哪一天)(?:发布|发的|发出|出的|出来|印发|公布|出台|下发|颁布)|发的文|印发(?:的)?(?:时间|日期)|索引号|文号|"
        r"主题分类|体裁|文件(?:的)?标题|标题(?:是|叫)|文件名|叫什么文件|是什么文件|哪个文件|索.号|索引|"
        r"谁(?:发|印发|下发|制定)的|(?:发文|印发|发布)(?:单位|机关|机构)|哪个(?:单位|部门|机关)(?:发|印发|下发)的"
    ),
    "deadline": re.compile(
        r"什么时[候间]|啥时[候间]?|何时|哪天|几月|时限|期限|截止|截至|多久|多长时间|完成时间|时间节点|"
        r"时间要求|最晚|deadline|日期前|哪个月|什么时间|要在.{0,4}前|有时间要求|限期|几号|几月几日|哪一天|截[止至]日期|"
        # timing asked as a choice: 「是汛期前还是汛期后」「上半年还是下半年」「夏季还是冬季」
        r"(?:前|后|上半年|下半年|年底|年初|季|月)[^,，。?？]{0,8}还是|还是[^,，。?？]{0,8}(?:前|后|上半年|下半年|年底|年初|季|月)"
    ),
    "count": re.compile(r"多少(?!条)|(?<!哪)几(?:家|个|类|项|座|所|人|处|种)|数量|数目"),
    "units": re.compile(
        r"配合|(?:协同|协助|参与)(?:的)?(?:部门|单位|有谁|是谁|的有)|(?:一起|一块|一道|共同)(?:来)?(?:负责|管|抓|干|做|牵头)|"
        r"还有谁|"
        r"还有哪(?:些|个|家)(?:部门|单位)?|都有谁|都是谁|都有哪些(?:部门|单位)|(?:哪些|哪几个|几个)责任(?:单位|部门)|"
        r"责任单位有哪些|有哪些单位|(?:负责|责任|参与|配合)(?:单位|部门)(?:有哪些|是哪些|都有|有几个|都是)|"
        r"(?:哪些|哪几个|哪几家|几个)(?:市直|市级|县直|区直|省直|相关|有关)?(?:部门|单位|机构)|责任单位(?:有|是|都|列)|责任部门|分工|"
        r"(?:责任|配合|参与)(?:单位|部门)[里中内]?(?:有没有|有无|包不包括|包括|包含|是否有)|在(?:责任|配合)(?:单位|部门)?(?:里|中|之内|名单)"
    ),
    "lead": re.compile(
        r"牵头|挑头|领头|带头|主抓|主管|主责|主导|归谁|归哪|谁|由哪|"
        r"(?:哪个|什么|哪家|哪一个)(?:部门|单位|机构|局|口子|科室|口)|第一责任|负总责|(?:哪家|哪个|哪一家)[^,。?]{0,4}负责"
    ),
    "list": re.compile(
        r"哪些条|哪几条|哪些条目|条目有哪些|条目都有|哪几项工作|哪些工作|有几条|多少条|一共几条|共几条|列出|所有条目|全部条目|"
        r"哪些地方提|哪些段落|在哪几|出现在|出现过|几条里|列全|(?:有关|相关|涉及)的条|找出来|都找|提到了?.{0,12}的(?:有|是)|列一下条目|列个清单|哪些领域|哪些行业"
    ),
    "overview": re.compile(
        r"总体思路|总的思路|整体思路|指导思想|总目标|目标|十项|重点工作|重点任务|主要任务|概况|概述|"
        r"主要内容|主要讲|总共几部分|几个部分|哪几部分|哪几个方面|主线|抓手|以什么为重点"
    ),
}
GOAL_WORDS = re.compile(r"总体思路|指导思想|总目标|目标|主线|抓手|以什么为重点")
DEPARTMENT_LIST = re.compile(
    r"哪些|哪几|几条|几项|多少条|多少项|清单|列出|列一下|全部|所有|每一条|分别|任务|职责|参与|参于|涉及|什么工作|什么事|"
    r"管什么|干什么|负责什么"
)
# 「除了应急局还有哪些」: the units besides one, when a unit is named.
EXCEPT = re.compile(r"除了.{0,12}(?:还有|外)")
# 「燃气安全是不是归应急局管?」: a yes/no question about who leads; the answer names the lead.
LEAD_YESNO = re.compile(
    r"(?:是不是|是否|是)(?:由|归)?[^,。?]{0,6}(?:管|负责|牵头|主抓)|(?:管|负责|牵头|主抓)(?:的)?\s*(?:吗|嘛|不|么)|"
    r"是\s+(?:的)?(?:吧|吗|嘛|么)"  # 「这摊子是水务局吧」, the unit's name blanked out
)
TITLE_VERB = re.compile(r"^(?:加强|强化|完善|加大|突出|坚持|全面|切实|严格|及时|着力|深入|推进|扎实|加快)")
GENERIC_TITLE_GRAMS = frozenset("建设 工作 安全 力度 机制 体系 作用 设建 整治 其他 行业 领域 重点 制度 任务".split())
# What is left of a department question once the name is gone: 「负责哪些工作」「涉及几条」「挂了多少活」,
# with emphasis (自己牵头的) and the document named by its genre (这份要点里)…
DEPARTMENT_ASK = re.compile("|".join(sorted(
    """哪些 什么 几条 多少条 哪几条 哪几项 几项 涉及 涉及到 牵涉 牵涉到 牵扯 牵扯到 参与 配合 牵头 挑头 主抓 领头 带头 负责 承担 管 干 做 搞 职责 任务
    工作 事 事情 活 条目 是责任单位 责任单位 责任 单位 一共 总共 共 列出来 列出 都列 列一下 全部 所有 出现 名字 在 里 中 的 了 吗 呢 啊
    都 些 有 要 哪 请问 一下 我 想 知道 文件 里面 这个 那边 这边 那 还 是 条 几 多少 该 个 啥 呀 么 需要 具体 主要 方面 安全生产
    相关 内容 哪些地方 地方 可以 能 被 列为 作为 当 到 分别 给 说说 看看 查 查一下 哪项 项 出来 列 都列出来 点名 提到 提及
    写到 写了 口子 那块 这块 挂 挂了 挂名 自己 本身 单独 独自 这份 那份 份""".split(), key=len, reverse=True))
    + r"|(?:文件|要点|方案|意见|通知|计划|清单|分工)")  # the document it is asked in, by its genre word
CHITCHAT = re.compile(
    r"^(?:你好|您好|嗨|hi|hello|谢谢|多谢|再见|拜拜|早上好|晚上好|你是谁|你叫什么|在吗)|笑话|天气(?:怎么样|如何|好吗|预报)|"
    r"(?:今天|明天|最近)(?:的)?天气|吃饭了|唱首歌|讲个故事|"
    r"帮我写|帮忙写|写一份|写一篇|写个|起草一份|翻译"
)
OTHER_ISSUER = re.compile(r"(国务院|国家|应急管理部|省政府|省委|省应急管理厅|[\u4e00-\u9fff]{1,4}(?:部|省|厅))(?:的)?(?:20\d\d年)?(?:的)?(?:安全生产)?工作要点")
FACETS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    # asked-for facet -> (cue in the question, evidence the source must contain)
    # An amount asked for, not a budget word inside a name (一般公共预算收入 is a topic).
    "money": (re.compile(r"多少钱|(?:预算|经费|资金|投资|投入|拨款|拨了|费用|花了|补贴|补助)[^,。?]{0,4}(?:多少|几)|"
                         r"(?:多少|几)[^,。?]{0,4}(?:资金|经费|预算|投资|拨款|补贴)|奖[^,。?]{0,3}(?:多少|几)|"
                         r"万元|亿元|(?:预算|经费|资金|费用)(?:是|有)?(?:多大|怎么算)"),
              re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?元")),
    "person": (re.compile(r"(?:局长|书记|市长|主任|处长|科长|负责人|联系人|领导)(?:是谁|叫什么|叫啥|姓什么|姓啥|的名字|是哪位)|姓名"),
               re.compile(r"(?:同志|先生|女士)")),
    "contact": (re.compile(r"电话|手机号|邮箱|地址在|办公地点|网址|联系方式|热线"),
                re.compile(r"\d{3,4}-?\d{7,8}|@|https?://")),
    "statistic": (re.compile(r"死了多少|死亡多少|伤亡(?:多少|情况|人数)|事故起数是多少|多少起|几起|发生了多少|"
                             r"死亡人数是多少|多少人死|受伤多少|现在有多少|已经(?:有|成立了?)多少|"
                             r"(?:追责|问责|处理|处分|判刑)了?多少人"),
                  re.compile(r"\d+\s*(?:起|人死亡|名)")),
    "penalty": (re.compile(r"罚款|罚多少|扣多少分|扣分|处罚标准|罚金"),
                re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?(?:元|分)")),
    "names": (re.compile(r"(?:企业|公司|工厂|厂|矿山|矿|园区|库|(?<!国)家)[^,。?]{0,8}(?:叫什么|名字|名称|是哪几|分别是|具体是哪)|"
                         r"(?:具体|分别)?是哪几(?:家|座|所)|"
                         r"哪(?:一|几)?家[\u4e00-\u9fff]{0,4}(?:公司|企业|厂)|"
                         r"企业名单|(?<!黑)名单"),
              re.compile(r"有限公司|有限责任公司|集团公司|股份公司")),
    "location": (re.compile(r"在哪个县|在哪个区|在哪个乡|建在哪|在哪里|分布在|位置在|具体位置|什么地方|"
                            r"哪几个(?:县区|县|区|乡镇|街道)"),
                 re.compile(r"(?<![各相关])[\u4e00-\u9fff]{2,3}(?:县|镇|乡|村)(?![区(])")),
    # When something starts (开工, 进驻, 举行): the documents set deadlines, rarely start dates.
    "start": (re.compile(r"(?:几月份?|哪个月|什么时候|哪天|何时|啥时候)(?:开工|开始|启动|进驻|举行|召开|搞|开展)(?!完|好|定|成|到位)"),
              re.compile(r"(?:\d{1,2}月|月份)[^,。;]{0,6}(?:开始|启动|开工|举行|召开|开展)|\d{1,2}月起")),
    # A month asked for: a deadline of 年内 does not give one (年底 does: December).
    "month": (re.compile(r"几月份?|哪个月|什么月份|哪月"),
              re.compile(r"\d{1,2}月|[一二三四五六七八九十]{1,2}月|月底|年底")),
    "law_article": (re.compile(r"(?:条例|法|规定|办法|细则|意见)(?:的)?第几条|(?:条例|法|规定|办法|细则)(?:里|中)?(?:是)?怎么规定"),
                    re.compile(r"第[0-9一二三四五六七八九十]+条")),
}


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

    @property
    def retrieval_text(self) -> str:
        return self.search_text or self.text


def load_synonyms() -> dict[str, list[str]]:
    raw = json.loads(resources.files("rag.data").joinpath("synonyms.json").read_text("utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


# 「燃气那个部门牵头」: 那 typed for 哪 where the question has no other question word.
INTERROGATIVE = re.compile(r"谁|哪|什么|啥|几|多少|吗|么|呢|是否|是不是|有没有|能否|怎|如何|[?？]")
NA_FOR_NA = re.compile(r"那(?=个|些|家|几|条|项|位|种|类|天|年|一(?:个|项|条|家))")


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
        """Add the corpus's own term for each everyday word the question uses (鞭炮 → 烟花爆竹)."""
        extra = list(dict.fromkeys(term for term, _ in self._everyday(text)))
        return f"{text} {' '.join(extra)}" if extra else text

    def stand_ins(self, text: str) -> tuple[str, ...]:
        """The everyday words of the question that the corpus never uses but has a term for
        (国标 → 国家标准): they can support nothing themselves, their term does."""
        return tuple(w for _, w in self._everyday(text) if w not in self.corpus_text)

    def _scope_refusal(self, text: str) -> str | None:
        if CHITCHAT.search(text.lower()):
            return "这不是关于文件内容的问题"
        for y in YEAR.findall(text):
            if int(y) not in self.years:
                return f"文件只涉及{'、'.join(str(x) for x in sorted(self.years) if x >= 2000) or '其发布年度'}年,没有{y}年的内容"
        if m := RELATIVE_YEAR.search(text):
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
        if m and (value := chinese_number(m.group(1))) is not None and value in self.item_numbers:
            return value
        # 「第四十五要干啥」: 条 left out; a number beyond the sections can only be an item
        m = ITEM_REF_LOOSE.search(text)
        value = chinese_number(m.group(1)) if m else None
        return value if value is not None and value > len(self.sections) else None

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
        if section and item is None:
            return "section"
        if CUES["meta"].search(text) and item is None:
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


HEADING_COMMON = frozenset("坚持 安全 全生 生产 水平 提高 提升 强化 推进 扎实 完善".split())


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
