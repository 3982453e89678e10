"""The web chat's server side (rag/surfaces/desk.py, chatview.py), follow-up resolution (rag/followup.py) and the
app's command line, on the real corpus with the default embedder."""

from __future__ import annotations

import io
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
from rag.surfaces import chatview, desk
from rag.surfaces.roles import Roles

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def service() -> Service:
    return Service(corpus=ROOT / "corpus", index=ROOT / "index")


@pytest.fixture(scope="module")
def docs(service: Service):
    return service.documents()


def converse(service: Service, *questions: str) -> list[dict]:
    history: list[dict] = []
    for q in questions:
        history.append(service.ask(q, history).to_dict())
    return history


# -- the desk's answer views ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def by_id(docs) -> dict:
    return {d.id: d for d in docs}


def test_answer_view_cards_carry_the_task_section_and_whole_text(service: Service, by_id) -> None:
    answer = service.ask("燃气安全由谁牵头?").to_dict()
    v = desk.view(answer, by_id, desk.Signer())
    cite = answer["citations"][0]
    item = service.item(cite["doc"], cite["item"])
    card = v["cards"][0]
    assert (card["ref"], card["title"], card["path"]) == ("第23条", item.title, "第23条")
    assert card["section"] == by_id[cite["doc_id"]].section(item.section).heading
    assert card["context"] == item.text and card["quote"] in card["context"]
    assert v["table"] is None and not v["set"] and v["label"] == "牵头单位"


def test_department_answer_is_a_table_with_one_row_per_task(service: Service, by_id) -> None:
    canonical, items = service.department("市应急局")
    answer = service.ask("市应急局负责哪些工作?").to_dict()
    v = desk.view(answer, by_id, desk.Signer())
    assert v["set"] and v["count"] == len(items) == 31
    assert v["table"]["columns"] == ["条目", "标题", "角色", "牵头单位", "完成时限"]
    assert [r[0] for r in v["table"]["rows"]] == [it.path for it in items]
    assert {r[2] for r in v["table"]["rows"]} == {"牵头", "配合"}
    assert "第57条" not in v["answer"] and "共31条" in v["answer"]  # the list is the table, not a paragraph
    assert "第57条\t" in v["plain"]  # and the copied text carries the table, tab-separated


def test_a_section_table_has_no_role_column(service: Service, by_id) -> None:
    v = desk.view(service.ask("第四部分包括哪些条目?").to_dict(), by_id, desk.Signer())
    assert v["table"]["columns"] == ["条目", "标题", "牵头单位", "完成时限"]
    assert [r[0] for r in v["table"]["rows"]] == ["第13条", "第14条", "第15条"]


def test_refusal_and_clarification_views(service: Service, by_id) -> None:
    refused = desk.view(service.ask("明年的工作要点是什么?").to_dict(), by_id, desk.Signer())
    assert refused["refused"] and refused["label"] == "文件中没有答案" and not refused["cards"]
    assert refused["chips"] == []
    clarify = desk.view(service.ask("第二条呢?").to_dict(), by_id, desk.Signer())
    assert clarify["label"] == "请补充" and not clarify["refused"]
    assert [c["question"] for c in clarify["candidates"]][0] == "第2条讲了什么?"


@pytest.mark.parametrize("question", ["燃气安全由谁牵头?", "双控机制建设什么时候要完成?", "市应急局负责哪些工作?",
                                      "第四部分包括哪些条目?", "第12条讲了什么?", "危险化学品的具体要求是什么?"])
def test_every_follow_up_chip_is_answered_about_the_same_task(service: Service, by_id, question: str) -> None:
    first = service.ask(question).to_dict()
    chips = desk.view(first, by_id, desk.Signer())["chips"]
    assert 2 <= len(chips) <= 3
    for chip in chips:
        reply = service.ask(chip, [first]).to_dict()
        path = chip[: chip.index("条") + 1]
        assert not reply["refused"], (chip, reply["answer"])
        assert {c["path"] for c in reply["citations"]} == {path}, chip


def test_a_chip_is_offered_only_for_what_the_task_states(service: Service, by_id) -> None:
    item = next(it for d in by_id.values() for it in d.items if not it.deadlines and not it.units.co)
    answer = service.ask(f"{item.path}讲了什么?").to_dict()
    chips = desk.view(answer, by_id, desk.Signer())["chips"]
    assert not any("完成" in c or "配合" in c for c in chips), chips


def test_a_signed_answer_cannot_be_altered_for_feedback() -> None:
    signer = desk.Signer()
    record = {"id": "a1", "question": "q", "answer": "a", "citations": []}
    sig = signer.sign(record)
    assert signer.check(record, sig)
    assert not signer.check({**record, "answer": "forged"}, sig)
    assert not desk.Signer().check(record, sig)  # another process's key
    assert not signer.check("not a dict", sig)


def test_parse_report_and_warnings_are_shown_in_chinese(by_id) -> None:
    view = desk.document_view(next(iter(by_id.values())))
    assert view["report"][0][0] == "格式" and all(not re.search(r"[A-Za-z]{5,}", v) for _, v in view["report"])
    assert desk.chinese_warning("numbering gap: 1. level goes from 4 to 6") == "编号不连续:1.一级从4跳到6"
    assert desk.chinese_warning("3 task(s) name no unit: 第1条、第2条") == "3项任务没有写明责任单位:第1条、第2条"
    assert desk.chinese_warning("something new").startswith("解析提示:")


def test_departments_are_listed_in_pinyin_order() -> None:
    assert desk.pinyin_sorted(["市住建局", "市安委办", "市城管执法局", "市财政局"]) == [
        "市安委办", "市财政局", "市城管执法局", "市住建局"]


def test_export_carries_answers_tables_and_citations(service: Service) -> None:
    records = [service.ask(q).to_dict() for q in ("燃气安全由谁牵头?", "第四部分包括哪些条目?")]
    md = desk.export_markdown("对话", records)
    assert "## 1. 燃气安全由谁牵头?" in md and "| 条目 | 标题 | 牵头单位 | 完成时限 |" in md
    assert records[0]["citations"][0]["quote"] in md
    from docx import Document as Docx

    d = Docx(io.BytesIO(desk.export_docx("对话", records)))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "燃气安全由谁牵头?" in text and records[0]["citations"][0]["quote"] in text
    assert [c.text for c in d.tables[0].rows[0].cells] == ["条目", "标题", "牵头单位", "完成时限"]
    assert len(d.tables[0].rows) == 4


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
    append_jsonl(path, chatview.feedback_record(answer, "up"))
    append_jsonl(path, chatview.feedback_record(answer, "down"))
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [r["rating"] for r in rows] == ["up", "down"]
    assert rows[0]["question"] == answer["question"] and rows[0]["answer"] == answer["answer"]
    assert [i["item"] for i in rows[0]["items"]] == [c["item"] for c in answer["citations"]]


def test_check_question_explains_empty_and_over_long_questions() -> None:
    assert chatview.check_question("燃气安全由谁牵头?") is None
    assert "请输入" in chatview.check_question("   ")
    message = chatview.check_question("问" * (MAX_QUESTION_CHARS + 1))
    assert str(MAX_QUESTION_CHARS) in message and "太长" in message


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


# -- the desk's calls -------------------------------------------------------------------------------
@pytest.fixture
def desk_on(service: Service, tmp_path: Path) -> desk.Desk:
    return desk.Desk(service, tmp_path / "feedback.jsonl", chatview.Gate(), None, staging=tmp_path / "staging")


def test_a_history_the_service_cannot_read_costs_the_follow_up_not_the_answer(desk_on) -> None:
    junk = [{"question": "q", "answer": "a", "citations": [], "focus": {"items": "not a list", "paths": 5}}, "text", 3]
    v = desk_on.ask({"question": "燃气安全由谁牵头?", "history": junk})
    assert v["type"] == "answer" and "市城管执法局" in v["answer"]
    assert desk_on.ask({"question": "  "})["type"] == "notice"


def test_feedback_lines_carry_the_rating_reason_and_citations(desk_on, tmp_path: Path) -> None:
    v = desk_on.ask({"question": "燃气安全由谁牵头?"})
    for rating, reason in (("up", ""), ("withdrawn", ""), ("down", "漏了属地")):
        assert desk_on.feedback({"rating": rating, "record": v["record"], "sig": v["sig"], "reason": reason},
                                None, "s")["ok"]
    lines = [json.loads(x) for x in (tmp_path / "feedback.jsonl").read_text("utf-8").splitlines()]
    assert [x["rating"] for x in lines] == ["up", "withdrawn", "down"]
    assert lines[-1]["reason"] == "漏了属地" and lines[-1]["citations"][0]["path"] == "第23条"
    with pytest.raises(desk.DeskError):
        desk_on.feedback({"rating": "like", "record": v["record"], "sig": v["sig"]}, None, "s")


def test_admin_calls_need_an_admin_and_uploads_are_checked(desk_on, service: Service) -> None:
    with pytest.raises(desk.DeskError, match="管理员"):
        desk_on.admin({"op": "feedback"}, None)
    roles = Roles()
    roles.add_login("boss", "pw-boss-1")
    roles.add_login("clerk", "pw-clerk-1", role="reader")
    desk_on.login = chatview.Login(roles)
    with pytest.raises(desk.DeskError, match="管理员"):
        desk_on.admin({"op": "feedback"}, "clerk")
    with pytest.raises(desk.DeskError, match="不支持"):
        desk_on.admin({"op": "stage", "name": "a.exe", "data": "TVo="}, "boss")
    with pytest.raises(desk.DeskError, match="无法读取"):
        desk_on.admin({"op": "stage", "name": "a.docx", "data": "bm90IGEgZG9jeA=="}, "boss")
    fixture = ROOT / "tests" / "fixtures" / "formats" / "division-table.docx"
    import base64

    staged = desk_on.admin({"op": "stage", "name": "../../x/plan.docx",
                            "data": base64.b64encode(fixture.read_bytes()).decode()}, "boss")
    assert staged["name"] == "plan.docx" and staged["total"] > 5 and not staged["replace"]
    assert dict(staged["report"])["格式"] == "Word 文档"
    assert list((desk_on.staging).glob("*/plan.docx"))  # staged, not in the corpus
    assert service.document("plan.docx") is None
    assert desk_on.admin({"op": "discard", "token": staged["token"]}, "boss")["ok"]
    assert not list(desk_on.staging.glob("*/plan.docx"))
    with pytest.raises(desk.DeskError, match="过期"):
        desk_on.admin({"op": "publish", "token": staged["token"]}, "boss")


def test_a_signature_survives_the_browsers_json() -> None:
    """JavaScript writes 2.0 back as 2: the record still checks after the round trip."""
    signer = desk.Signer()
    record = {"id": "a", "answer": "x", "score": 2.0, "rows": [{"n": 1.0}], "part": 0.25}
    assert signer.check(json.loads(json.dumps(record).replace("2.0", "2").replace("1.0", "1")), signer.sign(record))


def test_export_of_damaged_records_is_a_message_and_the_last_document_stays(desk_on) -> None:
    with pytest.raises(desk.DeskError, match="无法导出"):
        desk_on.export({"turns": [{"answer": "a", "citations": [{"no": "doc"}]}]})
    roles = Roles()
    roles.add_login("boss", "pw-boss-1")
    desk_on.login = chatview.Login(roles)
    only = desk_on.service.documents()[0].id
    with pytest.raises(desk.DeskError, match="至少要保留"):
        desk_on.admin({"op": "remove", "doc": only}, "boss")
