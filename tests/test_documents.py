"""The parser on the real document, and on each kind of damage the corpus carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import CorpusError
from rag.reading import load_corpus, read_text
from rag.reading.fields import deadlines_in


@pytest.fixture(scope="module")
def doc():
    docs, _ = load_corpus(Path(__file__).resolve().parents[1] / "corpus")
    return docs[0]


def test_structure(doc):
    assert doc.title == "2020年全市安全生产工作要点"
    assert doc.meta["发布时间"] == "2020-04-22"
    assert doc.meta["索引号"] == "762053117/2020-163"
    assert [s.numeral for s in doc.sections] == list("一二三四五六七八九十")
    assert [it.number for it in doc.items] == list(range(1, 58))
    assert sum(len(s.items) for s in doc.sections) == 57
    assert doc.section("四").items == (13, 14, 15)


def test_everything_kept_is_exact_source_text(doc):
    for item in doc.items:
        assert item.text in doc.text
        assert item.title in doc.text
        assert item.units.raw in item.text
        for sentence in item.sentences:
            assert sentence in doc.text
    for sentence in doc.preamble:
        assert sentence in doc.text


def test_title_without_full_stop(doc):
    item = doc.item(33)
    assert item.title == "渔业农机" and item.title_damaged
    assert not doc.item(23).title_damaged


def test_lead_rules(doc):
    assert doc.item(1).units.lead == ("市应急管理局", "市委宣传部")
    assert doc.item(1).units.lead_rule == "explicit"
    assert doc.item(4).units.lead == ("市应急管理局",) and doc.item(4).units.co == ("市委组织部",)
    assert doc.item(4).units.lead_rule == "huitong"
    assert doc.item(23).units.lead == ("市城管执法局",) and doc.item(23).units.lead_rule == "first"
    assert doc.item(23).units.co == ("市公安局", "市市场监管局", "市外事商务局")


def test_block_forms_and_bracketed_units(doc):
    # each local government its own entry; a bare 政府 joins the one before it
    assert doc.item(3).units.local == ("各县(区)党委、政府", "秦皇岛开发区", "北戴河新区工管委")
    assert doc.item(17).units.raw == "市应急管理局,相关县区党委、政府"  # no brackets
    assert doc.item(13).units.local[0] == "各县(区)党委、政府"  # unclosed bracket
    assert doc.item(12).units.lead == ("各行业领域主管部门",)  # block glued to the text


def test_aliases_normalize_but_quotes_keep_the_original(doc):
    item26 = doc.item(26)
    assert "市市场监管局" in item26.units.co
    assert "市市市场监管局" in item26.units.raw
    assert doc.item(7).units.lead == ("市安全生产委员会办公室",)
    assert doc.item(7).units.written["市安全生产委员会办公室"] == "市安委会办公室"


def test_damaged_deadlines_read_but_not_rewritten(doc):
    assert [d.normalized for d in doc.item(6).deadlines] == ["4月25日前"]
    assert doc.item(6).deadlines[0].text == "425日前"
    assert [d.normalized for d in doc.item(38).deadlines] == ["2020年6月底前", "年底前"]
    assert [d.normalized for d in doc.item(16).deadlines] == ["2020年底前"]
    assert [c.text for c in doc.item(18).counts] == ["9类", "5家", "7家"]


@pytest.mark.parametrize("text,expected", [
    ("2020年6月底前完成", ["2020年6月底前"]),
    ("20206月底前完成", ["2020年6月底前"]),
    ("425日前整改到位", ["4月25日前"]),
    ("4月25日前整改到位", ["4月25日前"]),
    ("年底前全面完成", ["年底前"]),
    ("2020年底前完成", ["2020年底前"]),
    ("没有时限的句子", []),
])
def test_deadline_patterns(text, expected):
    assert [d.normalized for d in deadlines_in(text)] == expected


def test_survives_a_damaged_document():
    text = (
        "某市工作要点\n\n发布时间:2021-01-01\n\n前言。\n\n一、第一部分\n\n"
        "1.标题一。正文<b>x</b>。(市甲局、市乙局牵头,各有关部门分工负责)\n"
        "2.标题二没有句号正文继续,没有责任单位\n"
        "3.标题三。正文(责任单位:市甲局,各县(区)党委、政府\n"
        "二、第二部分\n4.标题四。正文。责任单位:市丙局\n"
    )
    doc = read_text(text, "t")
    assert [it.number for it in doc.items] == [1, 2, 3, 4]
    assert doc.item(1).units.lead == ("市甲局", "市乙局")
    assert doc.item(2).units.raw == "" and doc.item(2).units.lead_rule == "none"
    assert doc.item(3).units.lead == ("市甲局",) and doc.item(3).units.local == ("各县(区)党委、政府",)
    assert doc.item(4).section == "二"


def test_missing_and_empty_corpus(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="no readable documents"):
        load_corpus(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"\x00\x01binary\x00")
    with pytest.raises(CorpusError, match="a.txt: binary data"):
        load_corpus(tmp_path)


@pytest.mark.parametrize("block,lead,co,local,rule", [
    # a remark inside the block is not a unit, and its 牵头 marks nobody
    ("市经信局、市财政局(列第一位者为牵头单位,下同)", ("市经信局",), ("市财政局",), (), "first"),
    # one local unit written with 、 inside it
    ("市发展改革委、市商务局、各县、市、区政府", ("市发展改革委",), ("市商务局",), ("各县、市、区政府",), "first"),
    # 及 between two units; a name that merely contains 及 stays whole
    ("市政府办公室牵头,市级各有关部门及各县市区政府按职责分工负责", ("市政府办公室",), ("市级各有关部门",),
     ("各县市区政府",), "explicit"),
    ("市场监管及质量技术局、市公安局", ("市场监管及质量技术局",), ("市公安局",), (), "first"),
    # a sentence after a full stop inside the block is a remark, not units
    ("省发展改革委、商务厅按职责分工负责。具体任务均涉及相关市(州)人民政府,不再做分工,下同。",
     ("省发展改革委",), ("商务厅",), (), "first"),
    # a remark holding brackets of its own
    ("县委宣传部、县应急管理局(以下均需各乡镇(园区)落实属地管理责任,不再重复列出)", ("县委宣传部",),
     ("县应急管理局",), (), "first"),
])
def test_unit_lists_read_as_written(block, lead, co, local, rule):
    from rag.reading.duties import parse_list

    units = parse_list(block)
    assert (units.lead, units.co, units.local, units.lead_rule) == (lead, co, local, rule)
