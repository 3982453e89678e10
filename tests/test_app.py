"""The web chat's view helpers (rag/chatview.py), follow-up resolution (rag/followup.py) and the
app's command line, on the real corpus with the default embedder."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from pathlib import Path

import pytest

from rag.answering.followup import anchor_of, resolve_follow_up, topic_residue
from rag.answering.question import MAX_QUESTION_CHARS, Query
from rag.evaluation import evaluate, load_cases
from rag.indexing.store import append_jsonl
from rag.service import Service
from rag.surfaces import chatview
from rag.surfaces.roles import Roles

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def service() -> Service:
    return Service(corpus=ROOT / "corpus", index=ROOT / "index")


@pytest.fixture(scope="module")
def docs(service: Service):
    return service.documents()


def visible(fragment: str) -> str:
    """What a browser shows for an HTML fragment: tags dropped, character references decoded."""
    return html.unescape(TAG.sub("", fragment))


def converse(service: Service, *questions: str) -> list[dict]:
    history: list[dict] = []
    for q in questions:
        history.append(service.ask(q, history).to_dict())
    return history


# -- escaping ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    "<script>alert(1)</script>", "**粗体** 和 [链接](http://x)", "1. 列表 $$x$$ `code` <img src=x onerror=y>",
    "a & b < c > d \"q\" 'q'", "_斜体_ ~~删除~~ # 标题 | 表格 |",
])
def test_escape_text_leaves_no_markup_and_shows_the_same_text(raw: str) -> None:
    out = chatview.escape_text(raw)
    assert not re.search(r"[<>*\[\]()`$_~#|\"':]", out.replace("&#", "").replace(";", "")), out
    assert html.unescape(out) == raw


def test_highlight_marks_the_quote_inside_the_escaped_context() -> None:
    out = chatview.highlight("前文<b>**引文**</b>后文", "**引文**")
    assert out.count("<mark") == 1
    assert visible(out) == "前文<b>**引文**</b>后文"
    inside = re.search(r"<mark[^>]*>(.*?)</mark>", out).group(1)
    assert html.unescape(inside) == "**引文**"
    assert "<mark" not in chatview.highlight("没有这段", "引文")


# -- answers as cards -------------------------------------------------------------------------
def test_answer_card_names_item_section_and_highlights_the_quote(service: Service, docs) -> None:
    answer = service.ask("燃气安全由谁牵头?").to_dict()
    out = chatview.render_answer(answer, docs)
    cite = answer["citations"][0]
    item = service.item(cite["doc"], cite["item"])
    section = docs[0].section(item.section)
    text = visible(out)
    assert f"第{cite['item']}条" in text and item.title in text
    assert section.heading in text
    assert item.text in text  # the full item, expandable
    marked = html.unescape(re.search(r"<mark[^>]*>(.*?)</mark>", out).group(1))
    assert marked == cite["quote"] and marked in item.text
    assert "qa-refused" not in out
    assert "\n\n" not in out  # one HTML block for the Markdown renderer


def test_department_answer_shows_every_item_with_the_count(service: Service, docs) -> None:
    canonical, items = service.department("市公安局")
    answer = service.ask("市公安局负责哪些工作?").to_dict()
    out = chatview.render_answer(answer, docs)
    assert out.count('class="qa-card"') == len(items) > 3
    assert f"共{len(items)}条" in visible(out)
    for it in items:
        assert f"第{it.number}条" in visible(out)


def test_refusal_looks_different_and_says_why(service: Service, docs) -> None:
    answer = service.ask("明年的工作要点是什么?").to_dict()
    assert answer["refused"]
    out = chatview.render_answer(answer, docs)
    assert "qa-refused" in out and "文件中没有答案" in visible(out)
    assert answer["answer"] in visible(out)
    assert "qa-card" not in out


def test_plain_text_has_answer_and_every_citation_without_markup(service: Service) -> None:
    answer = service.ask("市民政局负责哪些工作?").to_dict()
    text = chatview.plain_text(answer)
    assert answer["answer"] in text
    for c in answer["citations"]:
        assert f"第{c['item']}条" in text and c["quote"] in text
    assert "<" not in text.replace(answer["answer"], "")


def test_feedback_record_round_trips_through_the_jsonl_file(service: Service, tmp_path: Path) -> None:
    answer = service.ask("双控机制建设什么时候要完成?").to_dict()
    path = tmp_path / "feedback" / "feedback.jsonl"
    append_jsonl(path, chatview.feedback_record(answer, liked=True))
    append_jsonl(path, chatview.feedback_record(answer, liked=False))
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [r["rating"] for r in rows] == ["up", "down"]
    assert rows[0]["question"] == answer["question"] and rows[0]["answer"] == answer["answer"]
    assert [i["item"] for i in rows[0]["items"]] == [c["item"] for c in answer["citations"]]


def test_check_question_explains_empty_and_over_long_questions() -> None:
    assert chatview.check_question("燃气安全由谁牵头?") is None
    assert "请输入" in chatview.check_question("   ")
    message = chatview.check_question("问" * (MAX_QUESTION_CHARS + 1))
    assert str(MAX_QUESTION_CHARS) in message and "太长" in message


# -- browse panel -------------------------------------------------------------------------------
def test_browse_filters_by_section_and_by_department(service: Service, docs) -> None:
    doc = docs[0]
    section = doc.sections[4]
    value = f"{doc.id}|{section.numeral}"
    assert value in [v for _, v in chatview.section_choices(docs)]
    out = chatview.render_browse(docs, section=value)
    numbers = [int(n) for n in re.findall(r'qa-ref">第(\d+)条', out)]
    assert numbers == list(section.items)
    assert f"共{len(section.items)}条" in visible(out)

    canonical, items = service.department("市安委办")
    assert canonical in chatview.department_choices(docs)
    out = chatview.render_browse(docs, department=canonical)
    assert [int(n) for n in re.findall(r'qa-ref">第(\d+)条', out)] == [it.number for it in items]
    everything = chatview.render_browse(docs)
    assert len(re.findall(r'qa-ref">第(\d+)条', everything)) == len(doc.items)
    assert "没有符合条件" in chatview.render_browse(docs, section=value, department="不存在的部门")


def test_browse_shows_each_items_units(docs) -> None:
    item = next(it for it in docs[0].items if it.units.co and it.deadlines)
    out = visible(chatview.render_browse(docs, section=f"{docs[0].id}|{item.section}"))
    for name in item.units.lead + item.units.co:
        assert name in out
    assert item.deadlines[0].normalized in out


# -- busy gate ----------------------------------------------------------------------------------
def test_gate_turns_away_what_does_not_fit() -> None:
    gate = chatview.Gate(active=1, waiting=1, timeout=5)
    release = threading.Event()
    entered = []

    def hold() -> None:
        with gate.enter() as ok:
            entered.append(ok)
            release.wait(5)

    first = threading.Thread(target=hold)
    first.start()
    while not entered:
        time.sleep(0.01)
    second = threading.Thread(target=hold)
    second.start()  # waits for the slot: counts as waiting
    time.sleep(0.1)
    with gate.enter() as ok:
        assert ok is False  # one active + one waiting: full
    release.set()
    first.join()
    second.join()
    assert entered == [True, True]
    with gate.enter() as ok:
        assert ok is True
    with pytest.raises(ValueError):
        chatview.Gate(active=0)


# -- follow-ups ---------------------------------------------------------------------------------
def test_follow_up_keeps_the_item_and_asks_its_units(service: Service) -> None:
    first, second = converse(service, "燃气安全由谁牵头?", "还有哪些部门配合?")
    item = first["citations"][0]["item"]
    assert not second["refused"] and second["citations"][0]["item"] == item
    assert second["kind"] == "units"
    for name in service.item(first["citations"][0]["doc"], item).units.co:
        assert name in second["answer"]


def test_follow_up_with_only_an_item_number_keeps_the_question(service: Service) -> None:
    turns = converse(service, "燃气安全由谁牵头?", "第二十四条呢?")
    assert turns[1]["kind"] == "lead" and turns[1]["citations"][0]["item"] == 24
    lead = service.item(turns[1]["citations"][0]["doc"], 24).units.lead
    assert all(name in turns[1]["answer"] for name in lead)


def test_follow_up_moves_to_the_next_item(service: Service) -> None:
    turns = converse(service, "第12条讲什么?", "下一条呢?", "上一条呢?")
    assert [t["citations"][0]["item"] for t in turns] == [12, 13, 12]


def test_follow_up_names_another_department(service: Service) -> None:
    turns = converse(service, "市民政局负责哪些工作?", "那市公安局呢?")
    _, items = service.department("市公安局")
    assert turns[1]["kind"] == "department"
    assert sorted(c["item"] for c in turns[1]["citations"]) == [it.number for it in items]


def test_a_new_topic_is_not_pulled_back_to_the_old_item(service: Service) -> None:
    alone = service.ask("危险化学品安全由谁牵头?").to_dict()
    after = converse(service, "燃气安全由谁牵头?", "那么危险化学品安全由谁牵头?")[1]
    assert after["citations"][0]["item"] == alone["citations"][0]["item"] != 23


def test_a_refusal_about_one_item_still_anchors_the_next_turn(service: Service) -> None:
    turns = converse(service, "燃气安全由谁牵头?", "那它的完成时限呢?", "还有哪些部门配合?")
    assert turns[1]["refused"]  # the item gives no deadline
    assert not turns[2]["refused"] and turns[2]["citations"][0]["item"] == 23


def test_anchor_skips_refusals_with_several_guesses() -> None:
    history = [
        {"kind": "lead", "refused": False, "focus": {"items": [7], "departments": []}},
        {"kind": "fact", "refused": True, "focus": {"nearest": [3, 4, 5]}},
    ]
    assert anchor_of(history).items == (7,)
    history.append({"kind": "deadline", "refused": True, "focus": {"nearest": [9]}})
    assert anchor_of(history).items == (9,)


def test_topic_residue_separates_topics_from_cue_words() -> None:
    assert topic_residue("那它的完成时限呢?") == ""
    assert topic_residue("还有哪些部门配合?") == ""
    assert "燃气" in topic_residue("那燃气呢?")


def test_first_question_is_untouched() -> None:
    q = Query("燃气安全由谁牵头?", "lead")
    assert resolve_follow_up(q, []) is q


def test_conversation_set_meets_the_multi_turn_bar(service: Service) -> None:
    cases = load_cases(ROOT / "eval" / "conversations.jsonl")
    assert len(cases) >= 20 and all(2 <= len(c.turns) <= 4 for c in cases)
    texts = {d.title: d.text for d in service.documents()}
    report = evaluate(service.ask, cases, texts.get)
    failed = [(o.case.id, o.reasons) for o in report.failures]
    assert report.overall >= 0.90, failed


# -- command line -------------------------------------------------------------------------------
def test_app_flags_default_to_gradio_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import app

    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    monkeypatch.setenv("RAG_AUTH", "staff:secret")
    args = app.parse_args([])
    assert (args.host, args.port, args.auth) == ("0.0.0.0", 7999, "staff:secret")
    args = app.parse_args(["--host", "127.0.0.1", "--port", "8123"])
    assert (args.host, args.port) == ("127.0.0.1", 8123)
    with pytest.raises(SystemExit):
        app.parse_args(["--auth", "no-colon"])


def test_the_web_chat_refuses_a_public_address_without_a_login(capsys) -> None:
    """As `rag serve` refuses without keys: no Gradio server binds a non-loopback host unprotected."""
    import app

    assert app.main(["--host", "0.0.0.0"]) == 2
    assert "--auth" in capsys.readouterr().err


def test_the_feedback_file_is_rotated_past_its_cap(tmp_path) -> None:
    from rag.indexing.store import append_jsonl

    path = tmp_path / "feedback.jsonl"
    for n in range(50):
        append_jsonl(path, {"n": n, "pad": "x" * 100}, max_bytes=1000)
    assert path.stat().st_size < 1200 and (tmp_path / "feedback.jsonl.1").stat().st_size < 1200
    last = [line for line in path.read_text("utf-8").splitlines() if line]
    assert '"n": 49' in last[-1]


def test_failed_logins_lock_the_name_for_a_minute() -> None:
    roles = Roles()
    roles.add_login("staff", "s3cret")
    login = chatview.Login(roles, per_name=3, overall=5)
    assert login("staff", "s3cret")
    assert [login("staff", f"guess{i}") for i in range(3)] == [False, False, False]
    assert not login("staff", "s3cret")  # locked: the right password gains nothing now
    assert not login("clerk", "x") and not login("clerk", "y")  # (5 failures in all)
    assert not login("other", "s3cret")  # and every name is locked once the overall limit is reached


def test_feedback_is_limited_per_chat_session() -> None:
    limit = chatview.FeedbackLimit(per_minute=3)
    assert [limit.allow("session-a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("session-b")  # another session has its own allowance
