"""The task-division table layout: 序号 | 重点工作 | 分管领导 | 牵头单位 | 配合单位 | 完成时限, as
Markdown pipe rows (what the .docx and .html converters write, or a .md table) or flattened to
one cell per line (text copied out of a web page: a bare number line starts a row, empty cells
are simply missing). Group rows (（一）推动科技创新) between numbered rows are headings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.reading.duties import Fields, looks_like_unit, split_top_level
from rag.reading.fields import chinese_number
from rag.reading.header import FOOTER
from rag.reading.tasks import TaskSpan, split_title
from rag.types import Heading

COLUMNS: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^(?:序号|编号|序)$")),
    ("leaders", re.compile(r"分管.{0,2}领导|责任领导|牵头领导|牵头负责领导|责任人")),
    ("lead", re.compile(r"牵头单位|牵头部门|主责单位|牵头责任单位|主办单位")),
    ("co", re.compile(r"配合单位|协同单位|配合部门|参与单位|协同责任单位|协办单位")),
    ("units", re.compile(r"责任单位|责任部门|实施单位")),
    ("deadline", re.compile(r"完成时限|完成时间|时间节点|时限|进度安排")),
    ("task", re.compile(r"工作|任务|事项|内容|措施|举措|目标")),
    ("note", re.compile(r"^备注$")),
]
GROUP = re.compile(r"^[（(]([一二三四五六七八九十]{1,3})[）)]|^([一二三四五六七八九十]{1,3})、")
TIME_LIKE = re.compile(r"(?:19|20)\d\d年|\d{1,2}月|年底|年内|年前|长期|持续|每季|每月|每年|每半年|上半年|下半年|汛期|汛前|"
                       r"常态化|逐年|分阶段|前$|完成$|\d{4}[-.]\d")
PERSON = re.compile(r"^[\u4e00-\u9fff*＊]{2,4}$")


@dataclass
class Table:
    layout: str
    first_line: int  # the header row's line
    spans: list[TaskSpan] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    blocks: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def column_role(name: str) -> str | None:
    name = re.sub(r"\s+", "", name)
    if not name or len(name) > 10:
        return None
    for role, pattern in COLUMNS:
        if pattern.search(name):
            return role
    return None


def _roles(cells: list[str]) -> list[str | None] | None:
    roles = [column_role(c) for c in cells]
    named = [r for r in roles if r]
    if len(named) >= 3 and "number" in named and ({"lead", "units"} & set(named)):
        return roles
    return None


def pipe_cells(line: str) -> list[tuple[int, int]] | None:
    """Spans of a pipe row's cells (stripped), relative to the line; None if it is not a row."""
    s = line.rstrip()
    if not s.lstrip().startswith("|") or not s.endswith("|") or s.count("|") < 3:
        return None
    bars = [i for i, ch in enumerate(s) if ch == "|"]
    out = []
    for a, b in zip(bars, bars[1:], strict=False):
        cell = s[a + 1 : b]
        lead = len(cell) - len(cell.lstrip())
        out.append((a + 1 + lead, a + 1 + len(cell.rstrip())) if cell.strip() else (a + 1, a + 1))
    return out


def find_table(lines: list[str]) -> Table | None:
    for i, line in enumerate(lines):
        spans = pipe_cells(line)
        if spans:
            roles = _roles([line[a:b] for a, b in spans])
            if roles:
                return _read_pipe(lines, i, roles)
    return _find_flat(lines)


def _fields(cells: dict[str, tuple[int, int]], line_text: str) -> Fields:
    """A row's responsibility columns; spans relative to the row's own text."""
    def text(role: str) -> str:
        a, b = cells.get(role, (0, 0))
        return line_text[a:b].strip()

    unit_roles = [r for r in ("lead", "co", "units") if text(r)]
    raw = line_text[min(cells[r][0] for r in unit_roles) : max(cells[r][1] for r in unit_roles)] if unit_roles else ""
    region = [cells[r] for r in ("leaders", "lead", "co", "units", "deadline") if r in cells and text(r)]
    deadline = text("deadline") or None
    return Fields(
        raw=raw, lead=text("lead"), co=text("co"), listed=text("units"),
        leaders=tuple(n for n in split_top_level(text("leaders"), "、，,；; \u3000\n") if n),
        deadline=deadline, deadline_span=cells["deadline"] if deadline else None,
        span=(min(a for a, _ in region), max(b for _, b in region)) if region else None,
    )


def _group_label(text: str) -> str | None:
    m = GROUP.match(text.strip())
    if not m:
        return None
    return f"（{m.group(1)}）" if m.group(1) else m.group(2)


def _finish(table: Table) -> Table:
    numbers = [s.number for s in table.spans]
    if len(set(numbers)) != len(numbers):  # numbering restarts per group: paths carry the group
        table.spans = [TaskSpan(s.start, s.end, s.number, (s.group, str(s.number)) if s.group else s.labels,
                                s.section, s.group, s.label_end, s.title, s.fields) for s in table.spans]
    for a, b in zip(numbers, numbers[1:], strict=False):
        if b not in (a + 1, 1):
            table.warnings.append(f"numbering gap: row {a} is followed by row {b}")
    return table


def _read_pipe(lines: list[str], header_line: int, roles: list[str | None]) -> Table:
    table = Table("table (pipe rows)", header_line, blocks=[("table-header", lines[header_line].strip())])
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    group = ""
    task_col = roles.index("task") if "task" in roles else None
    number_col = roles.index("number")
    i = header_line + 1
    while i < len(lines):
        line = lines[i]
        spans = pipe_cells(line)
        s = line.strip()
        if spans is None:
            if not s:
                i += 1
                continue
            label = _group_label(s)
            if label and len(s) <= 60:
                group = label
                table.headings.append(Heading(label, s))
            elif FOOTER.match(s) or table.spans and not s.startswith("|"):
                table.blocks += [("footer", lines[k].strip()) for k in range(i, len(lines)) if lines[k].strip()]
                break
            else:
                table.blocks.append(("intro", s))
            i += 1
            continue
        cells_text = [line[a:b] for a, b in spans]
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells_text if c):
            i += 1
            continue
        number_text = cells_text[number_col] if number_col < len(cells_text) else ""
        number = int(number_text) if number_text.isdigit() else chinese_number(number_text)
        if number is None:
            label = _group_label(cells_text[0]) or _group_label(" ".join(cells_text))
            if label:
                group = label
                table.headings.append(Heading(label, s))
            else:
                table.blocks.append(("intro", s))
            i += 1
            continue
        cells = {role: spans[k] for k, role in enumerate(roles) if role and k < len(spans)}
        start = offsets[i] + len(line) - len(line.lstrip())
        row_text = line.strip()
        shift = len(line) - len(line.lstrip())
        rel = {r: (a - shift, b - shift) for r, (a, b) in cells.items()}
        task_span = rel.get("task", (0, 0))
        task_text = row_text[task_span[0] : task_span[1]] if task_col is not None else ""
        fields = _fields(rel, row_text)
        table.spans.append(TaskSpan(
            start, start + len(row_text), number, (str(number),), "", group,
            label_end=start + task_span[0], title=split_title(task_text)[0] if task_text else "",
            fields=fields,
        ))
        i += 1
    return _finish(table)


# -- flattened ---------------------------------------------------------------------------------
def _find_flat(lines: list[str]) -> Table | None:
    """A run of column-name lines (序号 / 重点工作 / … / 完成时限), then rows one cell a line."""
    i = 0
    while i < len(lines):
        run = []
        j = i
        while j < len(lines) and (column_role(lines[j]) or not lines[j].strip() and run):
            if lines[j].strip():
                run.append((j, column_role(lines[j])))
            j += 1
        roles = [r for _, r in run]
        if len(run) >= 3 and "number" in roles and ({"lead", "units"} & set(roles)):
            return _read_flat(lines, run[0][0], roles, j)
        i = max(j, i + 1)
    return None


def _kind_of(cell: str) -> set[str]:
    """Which columns a flattened cell could fill."""
    out = {"note"}
    tokens = [t for t in split_top_level(cell, "、，,；; \u3000") if t]
    if TIME_LIKE.search(cell) and len(cell) <= 30:
        out.add("deadline")
    if tokens and all(PERSON.match(t) and not looks_like_unit(t) for t in tokens):
        out.add("leaders")
    if tokens and sum(looks_like_unit(t) for t in tokens) >= max(1, len(tokens) * 0.6):
        out |= {"lead", "co", "units"}
    return out


def _read_flat(lines: list[str], header_line: int, roles: list[str], body: int) -> Table:
    table = Table("table (one cell a line)", header_line,
                  blocks=[("table-header", lines[k].strip()) for k in range(header_line, body) if lines[k].strip()])
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    after = roles[roles.index("task") + 1 :] if "task" in roles else roles[1:]
    rows: list[tuple[int, list[int]]] = []  # number line, cell lines
    group = ""
    expected = None
    groups: dict[int, str] = {}
    end_line = len(lines)
    for i in range(body, len(lines)):
        s = lines[i].strip()
        if not s:
            continue
        if s.isdigit() and (expected is None or int(s) in (expected, 1)) and int(s) < 1000:
            rows.append((i, []))
            expected = int(s) + 1
            groups[i] = group
            continue
        label = _group_label(s)
        if label and len(s) <= 40 and (not rows or rows[-1][1]):
            group = label
            table.headings.append(Heading(label, s))
            continue
        if FOOTER.match(s):
            end_line = i
            break
        if rows:
            rows[-1][1].append(i)
        else:
            table.blocks.append(("intro", s))
    for number_line, cell_lines in rows:
        if not cell_lines:
            table.warnings.append(f"row {lines[number_line].strip()} has no cells")
            continue
        # the task cell, then the other cells matched to the columns in order; a line no column
        # takes right after the task cell continues it
        task_lines = [cell_lines[0]]
        pointer = 0
        assigned: dict[str, list[int]] = {}
        for line_no in cell_lines[1:]:
            cell = lines[line_no].strip()
            kinds = _kind_of(cell)
            slot = next((p for p in range(pointer, len(after)) if after[p] in kinds and after[p] != "note"), None)
            if slot is None and not assigned:
                task_lines.append(line_no)
                continue
            if slot is None:
                slot = next((p for p in range(pointer, len(after)) if after[p] == "note"), None)
                if slot is None:
                    table.warnings.append(f"row {lines[number_line].strip()}: a cell fits no column: {cell[:20]}")
                    continue
            assigned.setdefault(after[slot], []).append(line_no)
            pointer = slot + 1
        start = offsets[number_line] + len(lines[number_line]) - len(lines[number_line].lstrip())
        last = max(cell_lines)
        end = offsets[last] + len(lines[last].rstrip())

        def rel(line_no: int, row_start: int = start) -> tuple[int, int]:
            line = lines[line_no]
            a = offsets[line_no] + len(line) - len(line.lstrip()) - row_start
            return a, a + len(line.strip())

        cells = {}
        for role, line_nos in assigned.items():
            a = rel(line_nos[0])[0]
            b = rel(line_nos[-1])[1]
            cells[role] = (a, b)
        own = "\n".join(lines[number_line : last + 1])[len(lines[number_line]) - len(lines[number_line].lstrip()) :]
        fields = _fields(cells, own)
        task_a = rel(task_lines[0])[0]
        task_text = own[task_a : rel(task_lines[-1])[1]]
        table.spans.append(TaskSpan(
            start, end, int(lines[number_line].strip()), (lines[number_line].strip(),), "", groups[number_line],
            label_end=start + task_a, title=split_title(task_text)[0], fields=fields,
        ))
    if end_line < len(lines):
        table.blocks += [("footer", lines[k].strip()) for k in range(end_line, len(lines)) if lines[k].strip()]
    return _finish(table)
