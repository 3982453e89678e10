"""The lines before a document's body: title (over several lines, inside a 印发通知 wrapper),
文号, 主送 line, signature, date, site metadata fields — and the facts read from them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.types import DocInfo

DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔［\[【(（]\s*(?:19|20)\d\d\s*[〕］\]】)）]\s*\d{1,4}\s*号")
DATE = re.compile(r"((?:19|20)\d\d)\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
DATE_LINE = re.compile(r"^\s*[（(]?\s*(?:19|20)\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*[）)]?\s*$")
META_FIELD = re.compile(r"^([\u4e00-\u9fff]{2,6})[:：](.*)$")
# a field name, spaced out as sites write it (索 引 号：, 文    号：)
META_KEY = re.compile(r"(?:^|[ \t\u3000\xa0]+)([\u4e00-\u9fff](?:[ \u3000]{0,4}[\u4e00-\u9fff]){1,5})[:：]")
ISSUER_KEYS = ("发布机构", "发文机关", "发文单位", "来源", "信息来源")
CHROME_MARKS = (">", "＞", "»", "|", "当前位置", "您的位置", "字号", "打印", "关闭")
WIDE_GAP = re.compile(r"[ \t\u3000\xa0]{2,}")
ADDRESS = re.compile(r"^[^。]{2,80}[:：]\s*$")
YEAR = re.compile(r"((?:19|20)\d\d)\s*(?:年|—|-|－)")
PLACE = re.compile(r"^(?:(?:19|20)\d\d年)?([\u4e00-\u9fff]{2,8}?(?:自治区|特别行政区|省|市|区|县|州|旗|盟))")
ISSUER = re.compile(r"^([\u4e00-\u9fff（）()]{2,30}?(?:人民政府办公厅|人民政府办公室|人民政府|委员会办公室|委员会|办公厅|"
                    r"办公室|管理局|局|厅|委|办))(?:关于|[\d]{4}年|印发)")
NOT_PLACES = ("全市", "全省", "全区", "全县", "本市", "我市", "各区", "各市", "全国")
TITLE_WORDS = re.compile(r"要点|方案|意见|通知|计划|规划|分工|清单|办法|措施|安排|报告|决定|细则|任务|纲要|部署")
FOOTER = re.compile(r"^\s*(?:抄送|印发|抄报|附件|（此件|\(此件|主题词|联系人|联系电话|【?打印|【?关闭|版权所有|"
                    r"网站标识码|主办单位|承办单位|技术支持|联系我们|网站地图|.{0,12}ICP备)")


@dataclass(frozen=True)
class Header:
    info: DocInfo
    meta: dict[str, str]  # 发布时间, 索引号 … as written (site metadata lines)
    title_lines: tuple[int, ...]  # indexes of the lines that make the title
    header_lines: frozenset[int]  # lines that are header, not preamble


def is_title_like(line: str) -> bool:
    s = line.strip(" \t\u3000\xa0#*")
    if not s or len(s) > 60 or DOC_NUMBER.fullmatch(s) or DATE_LINE.match(s) or META_FIELD.match(s):
        return False
    if any(mark in s for mark in CHROME_MARKS):
        return False
    if s.endswith(("：", ":", "。", "；", "，")) or "。" in s or "，" in s or "," in s:
        return False
    return True


def parse_meta(lines: list[str]) -> dict[str, str]:
    """Site metadata fields (发布时间:2020-04-22  发布机构:…), several to a line; empty ones skipped."""
    meta: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if line.startswith("|"):  # a site's information table: | 发布机构： | X | 文号： | Y |
            line = "  ".join(cell.strip() for cell in line.strip("|").split("|"))
        keys = list(META_KEY.finditer(line))
        for m, after in zip(keys, [*keys[1:], None][: len(keys)], strict=True):
            value = line[m.end() : after.start() if after else len(line)].strip()
            if value and not re.fullmatch(r"\[[\s\xa0]*\]?|\]", value):
                meta.setdefault(re.sub(r"[ \u3000]", "", m.group(1)), value)
    return meta


def _is_meta_line(s: str) -> bool:
    return bool(META_FIELD.match(s)) and (len(META_KEY.findall(s)) >= 2 or len(s) < 40)


def signature(lines: list[str]) -> tuple[str | None, str | None, set[int]]:
    """The signing unit and date of a signature block (a unit's name, then a date line), searched
    from the end of ``lines``; with the indexes of its lines."""
    for i in range(len(lines) - 1, -1, -1):
        if DATE_LINE.match(lines[i].strip(" \t\u3000\xa0")):
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            signer = lines[k].strip(" \t\u3000\xa0") if k >= 0 else ""
            if signer and is_title_like(signer) and not TITLE_WORDS.search(signer):
                return signer, lines[i].strip(" \t\u3000\xa0"), {k, i}
            return None, lines[i].strip(" \t\u3000\xa0"), {i}
    return None, None, set()


def read_header(lines: list[str], body_start: int, tail: list[str] | None = None) -> Header:
    """Read the header from ``lines[:body_start]``; a signature at the document's end (``tail``)
    gives the issuer and date when the header has none."""
    head = [(i, lines[i].strip(" \t\u3000\xa0\n")) for i in range(min(body_start, len(lines)))]
    head = [(i, s) for i, s in head if s]
    header_lines: set[int] = set()
    meta_lines: list[str] = []
    doc_number = None
    signature_date = None
    signer = None
    groups: list[list[int]] = []
    previous = None
    for n, (i, s) in enumerate(head):
        if m := DOC_NUMBER.search(s):
            if len(s) <= len(m.group(0)) + 6:
                doc_number = doc_number or re.sub(r"\s+", "", m.group(0))
                header_lines.add(i)
                previous = None
                continue
        if _is_meta_line(s) or any(mark in s for mark in CHROME_MARKS[:5]):
            meta_lines.append(s)
            header_lines.add(i)
            previous = None
            continue
        if DATE_LINE.match(s):
            signature_date = signature_date or s
            header_lines.add(i)
            if n > 0 and is_title_like(head[n - 1][1]) and not TITLE_WORDS.search(head[n - 1][1]):
                signer = signer or head[n - 1][1]
                header_lines.add(head[n - 1][0])
                if groups and groups[-1] and groups[-1][-1] == head[n - 1][0]:
                    groups[-1].pop()
                    if not groups[-1]:
                        groups.pop()
            previous = None
            continue
        if ADDRESS.match(s) and ("各" in s or "政府" in s or "部门" in s or "单位" in s):
            header_lines.add(i)
            previous = None
            continue
        if is_title_like(s) and not FOOTER.match(s):
            if previous is not None and previous == i - 1:
                groups[-1].append(i)  # a title broken over consecutive lines
            else:
                groups.append([i])
            previous = i
            continue
        previous = None
    titles = [(g, "".join(lines[i].strip(" \t\u3000\xa0#*\n") for i in g)) for g in groups]
    titles = [(g, t) for g, t in titles if TITLE_WORDS.search(t) or g == (titles[0][0] if titles else None)]
    chosen: tuple[list[int], str] | None = titles[0] if titles else None
    if chosen and "印发" in chosen[1] and len(titles) > 1:
        chosen = titles[-1]  # a 印发通知 wrapper: the document is the inner one
    for g, _ in titles:
        header_lines.update(g)
    title = chosen[1] if chosen else (head[0][1] if head else "")
    if chosen and "印发" in title and len(titles) == 1:
        inner = re.search(r"《(.+?)》", title) or re.search(r"印发(.+?)的通知", title)
        if inner:
            title = inner.group(1)
    meta = parse_meta(meta_lines)
    if tail and (signature_date is None or signer is None):
        end_signer, end_date, _ = signature(tail)
        signer = signer or end_signer
        signature_date = signature_date or end_date
    issuer = next((meta[k] for k in ISSUER_KEYS if meta.get(k)), None) or signer
    if not issuer:
        for _, t in titles:
            if m := ISSUER.match(t):
                issuer = m.group(1)
                break
    date = None
    for source in (signature_date, *(meta.get(k) for k in ("成文日期", "发文日期", "发布日期", "发布时间"))):
        if source and (m := DATE.search(source)):
            date = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            break
    year = None
    if m := YEAR.search(title):
        year = int(m.group(1))
    elif date:
        year = int(date[:4])
    place = None
    for source in (title, issuer or "", *(t for _, t in titles)):
        m = PLACE.match(source)
        if m and m.group(1) not in NOT_PLACES and not m.group(1).startswith(("全", "本", "我")):
            place = m.group(1)
            break
    info = DocInfo(title=title, issuer=issuer, doc_number=doc_number or meta.get("文号") or None,
                   date=date, year=year, place=place)
    return Header(info, meta, tuple(chosen[0]) if chosen else (), frozenset(header_lines))
