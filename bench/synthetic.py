"""A deterministic generator of plan-like documents for the scale benchmark.

Each clause is one numbered item in the shape of a Chinese annual work plan:
「N.标题。正文,重点是<地点><设施>……。<期限>完成。(责任单位:…)」, with the four forms of
responsibility block the real corpus uses. Documents come from varied cities, years and topics.

Planted clauses are the needles: each names a (place, facility) pair that no other clause uses, so a
question about it has exactly one right item. Both words of the pair also occur, separately, in
thousands of ordinary clauses at large sizes: the needle is found only if both words count.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

NUMERALS = "一二三四五六七八九十"
CITIES = ("东港", "北岭", "西川", "南湖", "临江", "青州", "云岗", "海阳", "金城", "龙门", "柳州湾", "白石")
AREAS = ("安全生产", "应急管理", "消防安全", "防灾减灾", "城市公共安全")
DEPARTMENTS = (
    "市应急管理局", "市公安局", "市消防救援支队", "市住房城乡建设局", "市交通运输局", "市市场监管局",
    "市城管执法局", "市教育局", "市卫生健康委", "市民政局", "市文化广电和旅游局", "市农业农村局",
    "市水务局", "市自然资源和规划局", "市生态环境局", "市商务局", "市工业和信息化局", "市发展改革委",
    "市财政局", "市气象局", "市海洋和渔业局", "市林业局", "市国资委", "市人力资源社会保障局",
    "市司法局", "市委宣传部", "市委组织部", "市安全生产委员会办公室", "市港口管理局", "市邮政管理局",
    "市通信管理局", "市地震局", "市体育局", "市粮食和物资储备局", "市人民防空办公室", "市机关事务管理局",
)
LOCAL = ("各县(区)党委、政府", "各县(区)政府,开发区、新区工管委", "各有关部门")
TOPICS = (
    "燃气", "危险化学品", "消防", "道路交通", "建筑施工", "特种设备", "渔业船舶", "非煤矿山", "旅游景区",
    "校园", "水上交通", "电力", "民爆物品", "烟花爆竹", "冶金工贸", "油气管道", "森林防火", "城市内涝",
    "有限空间作业", "人员密集场所", "粉尘防爆", "尾矿库", "港口危货", "养老机构", "食品生产", "地下管网",
)
SUFFIXES = ("安全专项整治", "隐患排查治理", "风险分级管控", "安全监管", "执法检查", "标准化建设", "应急演练")
VERBS = ("深化", "加强", "全面开展", "持续推进", "严格落实", "组织开展", "扎实推进", "健全完善", "督促开展", "建立")
OBJECTS = (
    "隐患排查", "执法检查", "风险评估", "专项督查", "警示教育", "应急预案修订", "台账管理", "源头治理",
    "暗查暗访", "安全培训", "联合执法", "信息化监测", "驻点指导", "挂牌督办", "复工复产验收", "责任倒查",
)
PLACES = (
    "青石湾", "白鹭洲", "北山口", "南港湾", "东湖岸", "西岭坡", "金沙滩", "龙泉谷", "枫林镇", "柳河屯",
    "石门关", "桃花坞", "松涛岭", "燕子矶", "月牙湖", "鹰嘴崖", "凤凰台", "玉带桥", "梅花岭", "雁栖港",
    "银杏村", "翠屏山", "碧波湾", "红叶谷", "黄土坡", "紫荆园", "云雾岭", "清水河", "沙河口", "芦苇荡",
    "蓬莱阁", "卧龙岗", "望海楼", "观澜台", "栖霞岭", "白沙洲", "黑山头", "铁山坪", "铜锣湾", "锦绣川",
)
FACILITIES = (
    "液氨储罐", "加油站", "客运码头", "公路隧道", "地下商场", "物流园区", "冷链仓库", "高架桥", "燃气管网",
    "化工园区", "景区索道", "学校食堂", "养老院", "建筑工地", "电梯井", "锅炉房", "粮食筒仓", "危废仓库",
    "游乐设施", "输油管线", "变电站", "采石场", "渔港锚地", "货运场站", "地下车库", "商业综合体",
    "污水处理厂", "烟花仓库", "尾矿坝", "铁路道口", "配电房", "汽车站",
)
DEADLINES = (
    "6月底前", "年底前", "9月底前", "4月25日前", "3月底前", "年内", "10月底前", "7月15日前", "11月底前",
)


@dataclass(frozen=True)
class Clause:
    doc: str  # document title
    number: int  # item number inside its document
    section: str
    title: str
    text: str  # the item as written, 「N.标题。……」
    lead: str
    deadline: str
    place: str
    facility: str


@dataclass(frozen=True)
class Planted:
    """A question whose one right answer is planted in clause ``index``."""

    id: str
    question: str
    kind: str  # "lead" or "deadline"
    answer: str
    index: int  # position of the clause in the corpus


@dataclass(frozen=True)
class SyntheticCorpus:
    clauses: list[Clause]
    planted: list[Planted]
    seed: int


def _responsibility(rng: random.Random, lead: str) -> str:
    others = rng.sample(DEPARTMENTS, 2)
    co = others[0] if others[0] != lead else others[1]
    local = rng.choice(LOCAL)
    form = rng.randrange(4)
    if form == 0:
        return f"(责任单位:{lead}、{co},{local})"
    if form == 1:
        return f"责任单位:{lead}、{co}"
    if form == 2:
        return f"({lead}牵头,{co}等有关部门分工负责)"
    return f"({lead}会同{co}等有关部门负责)"


def _clause(
    rng: random.Random, doc: str, number: int, section: str, place: str, facility: str,
    planted: bool,
) -> Clause:
    topic = rng.choice(TOPICS)
    title = f"{place}{facility}专项治理" if planted else f"{topic}{rng.choice(SUFFIXES)}"
    lead, deadline = rng.choice(DEPARTMENTS), rng.choice(DEADLINES)
    other_place, other_facility = rng.choice(PLACES), rng.choice(FACILITIES)
    body = (
        f"{rng.choice(VERBS)}{topic}领域{rng.choice(OBJECTS)},重点是{place}{facility}、"
        f"{other_place}周边和{other_facility}。{rng.choice(VERBS)}{rng.choice(OBJECTS)},"
        f"{deadline}完成。"
    )
    text = f"{number}.{title}。{body}{_responsibility(rng, lead)}"
    return Clause(doc, number, section, title, text, lead, deadline, place, facility)


def planted_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """(place, facility) pairs reserved for the needles; ordinary clauses never use them."""
    rng = random.Random(f"planted-{seed}")
    pairs = [(p, f) for p in PLACES for f in FACILITIES]
    return rng.sample(pairs, count)


def generate(n_clauses: int, seed: int = 0, planted: int = 40, items_per_doc: int = 60) -> SyntheticCorpus:
    """``n_clauses`` items in documents of ``items_per_doc``, ``planted`` of them needles."""
    if n_clauses <= 0 or items_per_doc <= 0:
        raise ValueError("n_clauses and items_per_doc must be greater than 0.")
    planted = min(planted, n_clauses)
    rng = random.Random(seed)
    reserved = planted_pairs(planted, seed)
    taken = set(reserved)
    step = n_clauses / max(1, planted)
    needle_at = {int(i * step + step / 2): pair for i, pair in enumerate(reserved)}
    clauses: list[Clause] = []
    questions: list[Planted] = []
    doc = ""
    for index in range(n_clauses):
        number = index % items_per_doc + 1
        if number == 1:
            doc = f"{2015 + rng.randrange(10)}年{rng.choice(CITIES)}市{rng.choice(AREAS)}工作要点(第{index // items_per_doc + 1}号)"
        section = NUMERALS[(number - 1) * 10 // items_per_doc]
        pair = needle_at.get(index)
        if pair is None:
            pair = (rng.choice(PLACES), rng.choice(FACILITIES))
            while pair in taken:
                pair = (rng.choice(PLACES), rng.choice(FACILITIES))
        clause = _clause(rng, doc, number, section, *pair, planted=index in needle_at)
        clauses.append(clause)
        if index in needle_at:
            place, facility = pair
            n = len(questions) // 2
            questions.append(Planted(f"lead-{n}", f"{place}那个{facility}的整治由哪个部门牵头?",
                                     "lead", clause.lead, index))
            questions.append(Planted(f"deadline-{n}", f"{place}{facility}治理要求什么时候完成?",
                                     "deadline", clause.deadline, index))
    return SyntheticCorpus(clauses, questions, seed)


def documents(corpus: SyntheticCorpus) -> Iterator[tuple[str, str]]:
    """(title, text) of each document, rendered in the corpus's shape: header, preamble,
    section headings 「一、」… and the numbered items."""
    by_doc: dict[str, list[Clause]] = {}
    for clause in corpus.clauses:
        by_doc.setdefault(clause.doc, []).append(clause)
    for title, clauses in by_doc.items():
        lines = [title, "", "发布时间:2020-04-22        发布机构:        文号:", "",
                 f"{title[:4]}工作的总体思路是:坚持底线思维,防风险、除隐患、保安全。", ""]
        section = ""
        for clause in clauses:
            if clause.section != section:
                section = clause.section
                lines += [f"    {section}、{TOPICS[NUMERALS.index(section)]}方面重点工作", ""]
            lines += [clause.text, ""]
        yield title, "\n".join(lines)
