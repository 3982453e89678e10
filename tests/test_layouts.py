"""The reader on every layout and format: each fixture's golden structure reproduced exactly,
nothing of the stored text lost, bad files reported in one line while the rest is read, and
generated documents of the genre parsed without an exception (hypothesis)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.reading import load_corpus, read_text
from rag.reading.document import read_converted
from rag.reading.formats import convert
from rag.reading.tasks import unplaced

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDENS = sorted(FIXTURES.glob("*/*.golden.json"))


def _read(golden: Path):
    expected = json.loads(golden.read_text("utf-8"))
    return expected, read_converted(convert(golden.parent / expected["file"]), expected["file"])


def _found(item) -> dict:
    units = item.units
    return {
        "path": item.path, "item": item.number, "starts": item.text[len(item.label) :][:10],
        "lead": [units.written.get(u, u) for u in units.lead], "co": [units.written.get(u, u) for u in units.co],
        "local": list(units.local), "lead_rule": units.lead_rule, "leaders": list(item.leaders),
        # the goldens list a 完成时限 field and the dates in the text that end in 前
        "deadlines": [d.text for d in item.deadlines if d.source == "field" or d.text.endswith("前")],
    }


def test_there_is_a_fixture_for_every_layout_and_format():
    files = {json.loads(g.read_text("utf-8"))["file"] for g in GOLDENS}
    assert {Path(f).suffix for f in files} >= {".txt", ".md", ".html", ".docx", ".pdf"}
    assert len(files) >= 13


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda p: p.name.removesuffix(".golden.json"))
def test_golden_structure_is_reproduced(golden):
    expected, doc = _read(golden)
    info = doc.info
    assert {k: getattr(info, k) for k in expected["meta"]} == expected["meta"]
    assert [(h.path, h.text.lstrip("#").strip()) for h in doc.headings] == \
        [(h["path"], h["text"]) for h in expected["headings"]]
    assert [_found(it) for it in doc.items] == [{k: t[k] for k in _found(doc.items[0])} for t in expected["tasks"]]


TRADITIONAL = [g for g in GOLDENS if g.name in ("three-level.txt.golden.json", "group-only.txt.golden.json",
                                                 "seed-layout.txt.golden.json")]


@pytest.mark.parametrize("golden", TRADITIONAL, ids=lambda p: p.name.removesuffix(".golden.json"))
def test_a_copy_in_traditional_characters_reads_the_same(golden, tmp_path):
    """Reposts in traditional characters (牽頭單位：市應急管理局) are stored in simplified ones."""
    import opencc

    expected = json.loads(golden.read_text("utf-8"))
    source = (golden.parent / expected["file"]).read_text("utf-8")
    copy = tmp_path / expected["file"]
    copy.write_text(opencc.OpenCC("s2t").convert(source), "utf-8")
    assert copy.read_text("utf-8") != source
    doc = read_converted(convert(copy), expected["file"])
    assert doc.text == source and "traditional" in doc.report.notes[0]
    assert [_found(it) for it in doc.items] == [{k: t[k] for k in _found(doc.items[0])} for t in expected["tasks"]]


def test_simplified_text_is_stored_as_it_is():
    source = FIXTURES.parent.parent / "corpus" / "safety-work-plan-2020.txt"
    converted = convert(source)
    assert converted.text == source.read_text("utf-8") and converted.notes == ()


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda p: p.name.removesuffix(".golden.json"))
def test_nothing_is_lost_and_everything_kept_is_source_text(golden):
    expected, doc = _read(golden)
    assert unplaced(doc) == 0
    assert not [w for w in doc.report.warnings if "fit no pattern" in w]
    for item in doc.items:
        assert item.text in doc.text and item.title in doc.text and item.units.raw in doc.text
        assert all(s in doc.text for s in item.sentences)
        assert all(d.sentence in doc.text for d in item.deadlines)
    assert doc.report.tasks == len(doc.items) == len(expected["tasks"])


def test_the_parse_report_counts_what_was_found():
    _, doc = _read(FIXTURES / "formats" / "site-page.html.golden.json")
    report = doc.report
    assert report.format == "html" and report.layout == "outline (tasks at 1.)"
    assert report.levels == ("一、", "（一）", "1.")
    assert report.dropped > 50  # the site's navigation, breadcrumb and footer
    assert "版权所有" not in doc.text and "ICP备" not in doc.text
    assert report.leads == 31 and any("name no unit" in w for w in report.warnings)


def test_dropped_chrome_is_counted_on_the_page_even_when_merged_cells_repeat():
    _, doc = _read(FIXTURES / "second-round" / "table-page.html.golden.json")
    assert doc.report.dropped > 100 and "版权" not in doc.text


def test_an_html_table_with_merged_cells_reads_as_full_rows(tmp_path):
    """A leader cell merged over two rows (rowspan) and a group row across the table (colspan)."""
    page = ("<html><body><div class='content'><p>示例市2024年重点工作任务分工</p><table>"
            "<tr><th>序号</th><th>重点任务</th><th>责任领导</th><th>牵头单位</th><th>配合单位</th></tr>"
            "<tr><td colspan='5'>（一）稳增长</td></tr>"
            "<tr><td>1</td><td>扩大有效投资。</td><td rowspan='2'>张某</td><td>市发展改革委</td><td>市财政局</td></tr>"
            "<tr><td>2</td><td>促进消费回升。</td><td>市商务局</td><td>市文旅局<br>市市场监管局</td></tr>"
            "<tr><td>3</td><td>稳住外贸外资。</td><td>李某</td><td>市商务局</td><td></td></tr>"
            "</table></div></body></html>")
    (tmp_path / "t.html").write_text(page, "utf-8")
    doc = read_converted(convert(tmp_path / "t.html"), "t.html")
    assert [(it.path, it.leaders, it.units.lead, it.units.co) for it in doc.items] == [
        ("第1条", ("张某",), ("市发展改革委",), ("市财政局",)),
        ("第2条", ("张某",), ("市商务局",), ("市文旅局", "市市场监管局")),
        ("第3条", ("李某",), ("市商务局",), ()),
    ]
    assert [h.text for h in doc.headings] == ["（一）稳增长"]


def _write_bad_corpus(folder: Path) -> dict[str, str]:
    """A corpus with one good document and one of each kind of bad file; what each must say."""
    folder.mkdir()
    good = FIXTURES / "layouts" / "three-level.txt"
    (folder / "good.txt").write_bytes(good.read_bytes())
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "latin.txt").write_bytes("caf\xe9 au lait, no Chinese here".encode("latin-1"))
    with open(folder / "huge.txt", "wb") as f:
        f.truncate(20 * 2**20)
    with zipfile.ZipFile(folder / "fake.docx", "w") as z:
        z.writestr("readme.txt", "not a word document")
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 old word")
    for name in ("sheet.xlsx", "wps.wps", "signed.ofd"):
        (folder / name).write_bytes(b"PK\x03\x04 not read")
    from pypdf import PdfWriter

    scan = PdfWriter()
    scan.add_blank_page(width=595, height=842)  # a page with no text layer, as a scan has
    with open(folder / "scan.pdf", "wb") as f:
        scan.write(f)
    (folder / "folder.txt").mkdir()
    (folder / "dangling.txt").symlink_to(folder / "nowhere.txt")
    outside = folder.parent / "outside.txt"
    outside.write_text("示例市工作要点\n一、总则\n1.任务。正文。（责任单位：市甲局）\n", "utf-8")
    (folder / "escape.txt").symlink_to(outside)
    return {
        "binary.txt": "binary data", "empty.txt": "empty", "latin.txt": "no Chinese text",
        "huge.txt": "over the 4 MB limit", "fake.docx": "not a Word .docx file", "old.doc": "save it as .docx",
        "folder.txt": "a folder", "dangling.txt": "does not exist", "escape.txt": "outside the corpus folder",
        "sheet.xlsx": "save the sheet as .docx or .txt", "wps.wps": "save it as .docx",
        "signed.ofd": "export it as a PDF with a text layer", "scan.pdf": "no text layer",
    }


def test_bad_files_are_reported_in_one_line_each_and_the_rest_is_read(tmp_path):
    expected = _write_bad_corpus(tmp_path / "corpus")
    corpus = load_corpus(tmp_path / "corpus")
    assert [d.id for d in corpus.docs] == ["good.txt"]
    assert len(corpus.docs[0].items) == 35
    problems = dict(corpus.problems)
    assert set(problems) == set(expected)
    for name, words in expected.items():
        assert words in problems[name] and "\n" not in problems[name]


# -- generated documents -------------------------------------------------------------------------
UNITS = ["市应急管理局", "市公安局", "市住房城乡建设局", "市委宣传部（市新闻出版局）", "区应急管理局", "市安委办"]
LOCALS = ["各区政府", "各县（区）党委、政府", "示范区管委会"]
NUMERALS = "一二三四五六七八九十"


@st.composite
def documents(draw):
    """Documents of the genre in the layouts the reader knows, with their quirks: full- or half-width
    blocks of every form, numbering that runs on or restarts, sub-points, intros and footers."""
    half = draw(st.booleans())
    lp, rp, colon, comma = ("(", ")", ":", ",") if half else ("（", "）", "：", "，")
    restart = draw(st.booleans())
    groups = draw(st.booleans())
    lines = [draw(st.sampled_from(["示例市2023年安全生产工作要点", "示范区应急管理重点任务分工方案"])), ""]
    if draw(st.booleans()):
        lines += ["为做好全年工作，制定本要点。", ""]
    number = 0
    expected = []
    for s in range(draw(st.integers(1, 4))):
        lines.append(f"{NUMERALS[s]}、{draw(st.sampled_from(['强化责任', '防范风险', '夯实基础']))}")
        if draw(st.booleans()):
            lines.append("本部分的总体要求是把工作做实。")
        if restart:
            number = 0
        for g in range(draw(st.integers(1, 2)) if groups else 1):
            if groups:
                lines.append(f"{lp}{NUMERALS[g]}{rp}加强第{g + 1}方面工作")
            for _ in range(draw(st.integers(1, 4))):
                number += 1
                units = draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=3, unique=True))
                form = draw(st.integers(0, 4))
                if form == 0:
                    block = f"{lp}责任单位{colon}{'、'.join(units)}{comma}{draw(st.sampled_from(LOCALS))}{rp}"
                elif form == 1:
                    block = f"{lp}牵头单位{colon}{units[0]}；配合单位{colon}{'、'.join(units[1:] or ['市财政局'])}{rp}"
                elif form == 2:
                    block = f"{lp}{units[0]}会同{'、'.join(units[1:] or ['市财政局'])}负责{rp}"
                elif form == 3:
                    block = f"\n牵头单位{colon}{units[0]}\n完成时限{colon}2023年6月底前"
                else:
                    block = f"{lp}由{units[0]}负责{rp}"
                sub = "（1）第一项；（2）第二项。" if draw(st.booleans()) else ""
                sep = draw(st.sampled_from([".", "、", "．"]))
                title = draw(st.sampled_from(["开展专项整治", "365天值守", "推进风险监测"]))
                lines.append(f"{number}{sep}{title}。{sub}正文写明要求，年底前完成。{block}")
                expected.append(units[0])
    if draw(st.booleans()):
        lines += ["", "抄送：市委办公室。"]
    return "\n".join(lines) + "\n", expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_parse_without_loss_and_in_order(generated):
    text, leads = generated
    doc = read_text(text, "generated.txt")
    assert [it.units.lead[0] if it.units.lead else None for it in doc.items] == leads
    position = 0
    for item in doc.items:  # each task found after the one before it (two tasks may read alike)
        position = doc.text.find(item.text, position)
        assert position >= 0
        position += len(item.text)
    assert unplaced(doc) == 0
    assert len({it.path for it in doc.items}) == len(doc.items)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("一二三、（）()1.2。，：；\n责任单位牵头会同负责市甲局 各区政府") + ["\u3000"]),
               max_size=300))
def test_any_text_parses_without_an_exception(text):
    if not text.strip():
        return
    doc = read_text(text, "noise.txt")
    assert all(it.text in text for it in doc.items)


def test_items_numbered_past_999_stay_apart_and_can_be_asked_for():
    from rag.answering.question import QuestionAnalyzer
    from rag.reading.departments import Directory

    lines = ["示例市测试工作要点", "一、重点任务"] + [f"{n}.第{n}项任务的内容要求。（责任单位：市应急管理局）" for n in range(1, 1003)]
    doc = read_text("\n".join(lines), "long.txt")
    assert len(doc.items) == 1002 and doc.item(1001).title.startswith("第1001项")
    analyzer = QuestionAnalyzer(Directory(["市应急管理局"]), doc.text, {it.number for it in doc.items})
    assert analyzer.analyze("第1001条讲了什么").item == 1001
