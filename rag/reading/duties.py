"""Who is responsible for a task: the responsibility block(s), its units and the lead rule, the
分管领导 and a 完成时限 field — in every form the genre writes them, full- or half-width:

  (责任单位:市A、市B,各县(区)党委、政府)         责任单位:市A,相关县区政府
  （牵头单位：市A；配合单位：市B、市C）           （责任单位：区安委办牵头，区委组织部协同）
  (市A、市B牵头,各有关部门分工负责)              (市A会同市B等有关部门负责)
  （由市水务局负责）  （各区政府负责）  〔责任单位：…〕  a 「牵头单位：X」 line after the task
  部门分工：X牵头，各地、各部门配合   分管领导：某某   完成时限：2022年6月底前

The lead rule: units marked 牵头 lead ("explicit"); else the units before 会同 ("huitong"); else,
where the document says that the units before the first comma lead, those ("explicit"); else
the first unit listed ("first"). Units inside may hold brackets themselves (各县（区）, 市委宣传部（市新闻出版局）).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.types import Units

OPEN, CLOSE = "(（〔[【", ")）〕]】"
LEAD_LABELS = ("牵头单位", "牵头部门", "牵头责任单位", "牵头负责单位", "主责单位", "主办单位")
CO_LABELS = ("配合单位", "配合部门", "协同单位", "协同部门", "协同责任单位", "协办单位", "参与单位", "参与部门")
LIST_LABELS = ("责任单位", "责任部门", "部门分工", "实施单位", "承办单位")
LEADER_LABELS = ("分管领导", "分管省领导", "分管市领导", "分管区领导", "分管县领导", "责任领导", "牵头领导",
                 "牵头负责领导", "分管负责同志")
TIME_LABELS = ("完成时限", "完成时间", "时间节点", "时限要求", "办结时限", "时间安排")
LABEL = re.compile("(" + "|".join(sorted(LEAD_LABELS + CO_LABELS + LIST_LABELS + LEADER_LABELS + TIME_LABELS,
                                          key=len, reverse=True)) + r")\s*[:：]")
DUTY_WORDS = re.compile(r"牵头|会同|负责|配合|协同|参与")
UNIT_SUFFIX = re.compile(r"(?:局|委|办|厅|部|署|院|会|中心|队|站|所|处|室|支队|大队|公司|集团|银行|政府|党委|"
                         r"管委会|工管委|办事处|街道|乡镇|法院|检察院|团委|妇联|工会|总工会|协会|海关|集团|机构|学校|"
                         r"分局|总队|大学|单位|部门|组|社|台|馆|联|协)(?:[(（][^()（）]*[)）])?$")
LOCAL_SUFFIX = ("政府", "党委", "管委会", "工管委", "办事处", "街道", "乡镇", "乡镇（街道）", "乡镇(街道)")
PLACE_NAME = re.compile(r"^[\u4e00-\u9fff]{1,6}(?:省|市|区|县|镇|乡|旗)$")
VAGUE_UNITS = {"有关部门", "各有关部门", "相关部门", "各相关部门", "各部门", "各有关单位", "有关单位", "相关单位",
               "各相关单位", "各成员单位", "成员单位", "各单位", "有关方面", "各级各部门", "各地各部门"}
TRAILING_WORDS = re.compile(r"(?:等(?:有关|相关)?(?:部门|单位)?)?(?:按照?职责)?(?:分工)?(?:牵头)?(?:负责|配合|协同|参与|"
                            r"落实|实施|推进|共同)*$")
LEADING_WORDS = re.compile(r"^(?:由|其他|以及|及|和)")
LEVEL_TAIL = re.compile(r"^[市县区镇乡](?:人民政府|政府|党委|管委会)?$")
# A remark inside a block, not a unit: 「(列第一位者为牵头单位,下同)」「(以下均需…,不再重复列出)」
_INNER = r"(?:[^()（）]|[(（][^()（）]*[)）])*"  # text with at most one level of brackets inside
REMARK = re.compile(rf"[(（]{_INNER}(?:下同|不再|列第一位|排在第一位|第一个单位|以下均){_INNER}[)）]")


@dataclass(frozen=True)
class Conventions:
    """What a document says once about its own blocks."""

    comma_leads: bool = False  # 「责任单位中逗号前的单位为牵头单位」


@dataclass
class Duties:
    units: Units
    leaders: tuple[str, ...] = ()
    deadline: str | None = None  # a 完成时限 field as written
    deadline_span: tuple[int, int] | None = None  # where it is in the task's text
    span: tuple[int, int] | None = None  # the whole responsibility region in the task's text


NO_UNITS = Units("", (), "none", (), ())


def split_top_level(s: str, seps: str) -> list[str]:
    """Split on separators that are not inside brackets: 各县(区)党委 stays whole."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth = max(0, depth - 1)
        if ch in seps and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def is_local(unit: str) -> bool:
    """A government of a place rather than a department: 各县（区）党委, 各区政府, 示范区管委会,
    a bare place name (海港区); 区应急管理局 is a department."""
    if unit in ("政府", "党委"):
        return True
    if unit.endswith(LOCAL_SUFFIX):
        return True
    if unit.startswith(("各", "相关")) and re.match(r"^(?:各|相关)(?:县|区|市|乡|镇|街道|开发区|园区|地|级|省|州)", unit):
        return True
    return bool(PLACE_NAME.match(unit)) and not UNIT_SUFFIX.search(unit)


def looks_like_unit(token: str) -> bool:
    token = token.strip()
    return 2 <= len(token) <= 30 and (bool(UNIT_SUFFIX.search(token)) or is_local(token) or token in VAGUE_UNITS)


def _clean(token: str) -> str:
    token = LEADING_WORDS.sub("", token.strip(" \t\u3000。；;，,、"))
    previous = None
    while previous != token:
        previous = token
        token = TRAILING_WORDS.sub("", token).strip()
    return token


def _units_part(text: str) -> str:
    """The part of a block that names units: remarks in brackets left out, and a sentence after
    a full stop (「…按职责分工负责。具体任务均涉及相关市(州)人民政府,不再做分工,下同。」)."""
    return REMARK.sub("", text).split("。", 1)[0]


def _split_and(token: str) -> list[str]:
    """「市级各有关部门及各县市区政府」 is two units; a name that merely contains 及 stays whole."""
    parts = split_top_level(token, "及")
    return parts if len(parts) > 1 and all(looks_like_unit(_clean(p)) for p in parts) else [token]


def units_in(text: str) -> tuple[list[str], list[str]]:
    """Departments and local governments named in a list, in order. A bare 政府/党委 joins the
    local unit before it: 各县(区)党委、政府 is one entry."""
    departments: list[str] = []
    local: list[str] = []
    for group in split_top_level(_units_part(text), "，,；;\n"):
        for raw in (t for piece in split_top_level(group, "、 \u3000/") for t in _split_and(piece)):
            token = _clean(raw)
            if not token or token in VAGUE_UNITS:
                continue
            if local and (token in ("政府", "党委") or LEVEL_TAIL.match(token) and local[-1].startswith(("各", "相关"))):
                local[-1] = f"{local[-1]}、{token}"  # 各县(区)党委、政府; 各县、市、区政府
            elif len(re.findall(r"[\u4e00-\u9fff]", token)) < 2:
                continue  # 「?」 or a bare 区 left by damaged text names no unit
            elif is_local(token):
                local.append(token)
            else:
                departments.append(token)
    return departments, local


def _before(text: str, word: str) -> tuple[str, str]:
    head, _, rest = text.partition(word)
    return head, rest


def parse_list(raw: str, canonical: Callable[[str], str] = str, conventions: Conventions = Conventions()) -> Units:
    """One list of units with the lead rule applied."""
    rule = "first"
    lead_names: list[str] = []
    co_names: list[str] = []
    local: list[str] = []
    words = _units_part(raw)  # a remark may say 牵头 without marking anyone
    if "牵头" in words:
        rule = "explicit"
        head, rest = _before(words, "牵头")
        # 「X牵头」 marks the units of its own clause; earlier clauses are listed units too.
        clauses = split_top_level(head, "，,；;")
        deps, locs = units_in(clauses[-1] if clauses else "")
        lead_names, local = deps, locs
        for clause in clauses[:-1]:
            d, lo = units_in(clause)
            co_names += d
            local += lo
        d, lo = units_in(rest)
        co_names += d
        local += lo
        if not lead_names and locs:
            lead_names, local = locs, [x for x in local if x not in locs]
    elif "会同" in words:
        rule = "huitong"
        head, rest = _before(words, "会同")
        lead_names, local = units_in(head)
        d, lo = units_in(rest)
        co_names, local = d, local + lo
    else:
        groups = split_top_level(raw, "，,；;")
        deps, local = units_in(raw)
        if conventions.comma_leads and len(groups) > 1:
            first, _ = units_in(groups[0])
            after, _ = units_in("，".join(groups[1:]))
            if first and after:  # with only local governments after the comma, the first unit leads
                rule = "explicit"
                lead_names = first
                co_names = [d for d in deps if d not in first]
        if not lead_names:
            lead_names, co_names = deps[:1], deps[1:]
    if not lead_names and local and not co_names:
        lead_names, local, rule = local, [], "first"  # 「（各区政府负责）」: the only units named lead
    if not lead_names and not co_names and not local:
        rule = "none"
    elif not lead_names:
        rule = "none"
    return make_units(raw, lead_names, co_names, local, rule, canonical)


def make_units(raw: str, lead_names: list[str], co_names: list[str], local: list[str], rule: str,
               canonical: Callable[[str], str] = str) -> Units:
    written: dict[str, str] = {}
    for name in lead_names + co_names:
        written.setdefault(canonical(name), name)
    lead = tuple(dict.fromkeys(canonical(n) for n in lead_names))
    co = tuple(n for n in dict.fromkeys(canonical(n) for n in co_names) if n not in lead)
    return Units(raw=raw, lead=lead, lead_rule=rule, co=co, local=tuple(dict.fromkeys(local)), written=written)


# -- finding the region in a task's text -------------------------------------------------------
def _depth(s: str) -> int:
    return sum(ch in OPEN for ch in s) - sum(ch in CLOSE for ch in s)


def _trim(value: str) -> str:
    """A field's value without the separators around it and a closing bracket it does not open."""
    value = value.strip(" \t\u3000\n；;，,。")
    while value and (value[-1] in CLOSE and _depth(value) < 0 or value[-1] in OPEN):
        value = value[:-1].rstrip(" \t\u3000\n；;，,。")
    return value


def _matching_open(text: str, close_at: int) -> int | None:
    depth = 0
    for i in range(close_at, -1, -1):
        if text[i] in CLOSE:
            depth += 1
        elif text[i] in OPEN:
            depth -= 1
            if depth == 0:
                return i
    return None


def _trailing_bracket(text: str) -> tuple[int, int] | None:
    """The inside of a bracket that closes the text (before a final 。；), if it names units."""
    end = len(text.rstrip(" \t\u3000\n。；;，,."))
    if end == 0 or text[end - 1] not in CLOSE:
        return None
    opening = _matching_open(text, end - 1)
    if opening is None:
        return None
    inner = text[opening + 1 : end - 1]
    if LABEL.search(inner) or DUTY_WORDS.search(inner):
        return opening + 1, end - 1
    tokens = [t for t in split_top_level(inner, "、，,；;") if t]
    if tokens and all(looks_like_unit(_clean(t)) for t in tokens):
        return opening + 1, end - 1
    return None


def _unclosed_label(text: str) -> tuple[int, int] | None:
    """A block whose closing bracket was lost, or a label with no bracket at all, at the end:
    「…（责任单位:市A,市B」 or 「…。责任单位:市A,相关县区政府」."""
    labels = [m for m in LABEL.finditer(text) if m.group(1) in LIST_LABELS + LEAD_LABELS]
    if not labels:
        return None
    start = labels[0].start()
    # the region runs from the first label of the last run of labels to the end
    for m in reversed(labels):
        between = text[m.end():]
        if "。" in between.rstrip("。 \n") and "\n" not in between:
            break
        start = m.start()
    if start > 0 and text[start - 1] in OPEN:
        start -= 1
    return start, len(text.rstrip(" \t\u3000\n。；;，,"))


def _field_lines(text: str) -> tuple[int, int] | None:
    """Lines after the task's first line that are fields (牵头单位：X / 分管领导：Y / 完成时限：Z)."""
    lines = text.split("\n")
    pos, start = 0, None
    for i, line in enumerate(lines):
        stripped = line.strip(" \t\u3000\xa0")
        if i > 0 and stripped and LABEL.match(stripped.lstrip(OPEN)):
            if start is None:
                start = pos + (len(line) - len(line.lstrip(" \t\u3000\xa0")))
        elif i > 0 and stripped and start is not None:
            start = None  # fields are the task's last lines; text after them resets
        pos += len(line) + 1
    if start is None:
        return None
    return start, len(text.rstrip(" \t\u3000\n"))


@dataclass(frozen=True)
class Fields:
    """Responsibility as labelled fields or table columns, before the lead rule is applied.
    Spans are relative to the task's own text."""

    raw: str = ""  # what a lead answer quotes
    lead: str = ""  # 牵头单位 field(s) or column
    co: str = ""  # 配合/协同/参与 field(s) or column
    listed: str = ""  # a 责任单位 list, read by the lead rule
    leaders: tuple[str, ...] = ()
    deadline: str | None = None
    deadline_span: tuple[int, int] | None = None
    span: tuple[int, int] | None = None


def units_of(f: Fields, canonical: Callable[[str], str] = str, conventions: Conventions = Conventions()) -> Units:
    """The lead rule on labelled fields: a 牵头 field leads and the rest cooperate; a 责任单位
    list alone is read by ``parse_list``; where only local governments are named to lead and no
    department cooperates, they lead by rule "first", as in 「（各区政府负责）」."""
    co, local = units_in(f.co)
    listed = parse_list(f.listed, str, conventions) if f.listed else None
    if f.lead:
        leads, lead_local = units_in(f.lead)
        listed_co = [*listed.lead, *listed.co] if listed else []
        listed_local = list(listed.local) if listed else []
        rule = "explicit"
        if not leads:
            leads, lead_local = lead_local, []
            if not co and not listed_co:
                rule = "first"
        return make_units(f.raw, leads, co + listed_co, lead_local + local + listed_local, rule, canonical)
    if listed is not None:
        return make_units(f.raw or listed.raw, list(listed.lead), [*listed.co, *co], [*listed.local, *local],
                          listed.lead_rule, canonical)
    if co or local:
        return make_units(f.raw, [], co, local, "none", canonical)
    return Units(f.raw, (), "none", (), ()) if f.raw else NO_UNITS


def duties_of(f: Fields, canonical: Callable[[str], str] = str, conventions: Conventions = Conventions()) -> Duties:
    return Duties(units_of(f, canonical, conventions), f.leaders, f.deadline, f.deadline_span, f.span)


def read_duties(text: str, canonical: Callable[[str], str] = str, conventions: Conventions = Conventions()) -> Duties:
    """The responsibility of one task, read from its exact text."""
    span = _field_lines(text) or _trailing_bracket(text) or _unclosed_label(text)
    if span is None:
        return Duties(NO_UNITS)
    region = text[span[0] : span[1]]
    labels = list(LABEL.finditer(region))
    if not labels:
        return Duties(parse_list(region, canonical, conventions), span=span)
    values: dict[str, list[str]] = {"lead": [], "co": [], "listed": [], "leaders": []}
    deadline = deadline_span = None
    for i, m in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(region)
        value = region[m.end() : end]
        value_clean = _trim(value)
        label = m.group(1)
        if label in LEAD_LABELS:
            values["lead"].append(value_clean)
        elif label in CO_LABELS:
            values["co"].append(value_clean)
        elif label in LIST_LABELS:
            values["listed"].append(value_clean)
        elif label in LEADER_LABELS:
            values["leaders"] += [n for n in split_top_level(value_clean, "、，,；; \u3000\n") if n]
        elif label in TIME_LABELS and value_clean:
            deadline = value_clean
            offset = span[0] + m.end() + value.find(value_clean)
            deadline_span = (offset, offset + len(value_clean))
    # the quoted block: from the first unit label to the end of the last unit field (a lone
    # 责任单位 list is quoted without its label, as the seed's answers have always quoted it)
    unit_labels = [m for m in labels if m.group(1) not in LEADER_LABELS + TIME_LABELS]
    raw = ""
    if len(unit_labels) == 1 and values["listed"]:
        raw = values["listed"][0]
    elif unit_labels:
        after = next((m.start() for m in labels if m.start() > unit_labels[-1].start()), len(region))
        raw = _trim(region[unit_labels[0].start() : after])
    fields = Fields(raw, "，".join(values["lead"]), "，".join(values["co"]), "，".join(values["listed"]),
                    tuple(values["leaders"]), deadline, deadline_span, span)
    return duties_of(fields, canonical, conventions)
