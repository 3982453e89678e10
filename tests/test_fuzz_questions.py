"""A fuzz run of the question path (hypothesis): questions and conversations made of question words,
unit names, numbers, years, quotes, Latin letters, traditional characters, control characters and
emoji. Whatever comes in, the answer is either a one-line BadQuestion or an answer object that keeps
the contract: a known kind, quotes that are exact substrings of the cited document, citations of
tasks that exist, a JSON-serialisable dict, and a follow-up that can be asked after it.
(The parser has its own fuzz run in tests/test_layouts.py; the HTTP API's is tests/test_api_schema.py.)"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.errors import BadQuestion

KINDS = {"lead", "units", "deadline", "count", "fact", "item", "section", "department", "list", "overview",
         "clarify", "out_of_scope", "documents"}

FRAGMENTS = [
    # asks, pointers and fillers
    "谁牵头", "由谁负责", "配合单位", "哪些部门", "什么时候完成", "几月底前", "多少", "几个", "有没有", "吗", "呢",
    "那", "哪", "这条", "这一块", "其中", "第二个", "另外那条", "上一条", "不是这个,我问的是", "说错了,我是问",
    "还是", "分别", "和", "比", "一样吗", "哪个先到期", "只看牵头的", "配合的不用列", "包括哪些条目", "第几部分",
    "我们是一家企业,", "我是市水务局的,", "我们局", "今年", "明年", "去年", "上半年", "年底前", "年内",
    # topics, units, numbers, places and years
    "燃气", "消防", "危化品", "校园安全", "双控机制", "安全生产月", "尾矿库", "烟花爆竹", "有限空间",
    "市应急管理局", "市公安局", "公安局", "市教育局", "卫健委", "市市场监管局", "各县(区)党委、政府", "某某局",
    "第23条", "23条", "第五十七条", "第1000条", "第三部分", "五（二）3", "2020年", "2019年", "1999年", "秦皇岛",
    "“相关县区”", "《2020年全市安全生产工作要点》", "秦安〔2020〕3号", "100万元",
    # other scripts and noise
    "燃氣安全由誰牽頭", "Who leads gas safety?", "deadline", "ranqi", "rq", "ＡＢＣ１２３", "😀", "\u3000", "\t",
    "?", "？", "。", ",", "!!!", "\u200b", "\ufeff", "\x00", "\x07", "<script>", "' OR 1=1 --", "{{7*7}}", "%s%n",
]
QUESTION = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map("".join),
    st.text(min_size=0, max_size=60),
    st.text(alphabet=st.sampled_from(list("燃气消防谁牵头哪那几月底前条第一二三部分局委市县区?？,。 ")), max_size=40),
)


def _check(service, answer) -> None:
    assert answer.kind in KINDS, answer.kind
    assert isinstance(answer.answer, str) and answer.answer.strip()
    texts = {d.id: d.text for d in service.documents()} | {d.title: d.text for d in service.documents()}
    numbers = {d.title: {it.number for it in d.items} for d in service.documents()}
    for c in answer.citations:
        source = texts.get(c.doc_id) or texts.get(c.doc)
        assert source is not None and c.quote and c.quote in source, c
        assert c.item is None or c.item in numbers[c.doc], c
    if answer.kind == "clarify":
        assert not answer.refused
    json.dumps(answer.to_dict(), ensure_ascii=False)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(question=QUESTION)
def test_any_question_gets_an_answer_or_one_clear_line(service, question):
    try:
        answer = service.ask(question)
    except BadQuestion as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    _check(service, answer)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(turns=st.lists(QUESTION, min_size=2, max_size=4))
def test_any_conversation_keeps_the_contract_turn_after_turn(service, turns):
    history: list[dict] = []
    for question in turns:
        try:
            answer = service.ask(question, history)
        except BadQuestion as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        _check(service, answer)
        history.append(answer.to_dict())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(question=QUESTION, pick=st.sampled_from([None, ["2020/safety-work-plan-2020.txt"], ["no-such-document"]]))
def test_any_question_over_many_documents_keeps_the_contract(library, question, pick):
    try:
        answer = library.ask(question, docs=pick)
    except BadQuestion as exc:  # (an unknown document is one of these too)
        assert str(exc) and "\n" not in str(exc)
        return
    _check(library, answer)
