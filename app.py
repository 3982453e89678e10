"""The web chat: ask the policy documents in Chinese, get answers with their citation cards.

    python app.py [--host 127.0.0.1] [--port 7860] [--roles FILE] [--auth user:pass] [--corpus DIR] [--index DIR]

Host and port default to Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT. Logins come from the
role configuration shared with the API (--roles or RAG_ROLES; rag/surfaces/roles.py), plus one admin
login from --auth or RAG_AUTH ("user:pass"). Feedback (thumbs up/down) is appended to
feedback/feedback.jsonl.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("RAG_HOME", str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.errors import RagError  # noqa: E402
from rag.surfaces import chatview  # noqa: E402

EXAMPLES = (
    "燃气安全由谁牵头?",
    "双控机制建设什么时候要完成?",
    "市民政局负责哪些工作?",
    "第四部分包括哪些条目?",
    "明年的工作要点是什么?",
)
HISTORY_TURNS = 8  # earlier answers passed to the service for follow-ups

CSS = """
.gradio-container { max-width: 1120px !important; margin: 0 auto !important; }
footer { display: none !important; }
#app-head { padding: 6px 2px 2px; }
#app-head h1 { font-size: 22px; margin: 0; font-weight: 650; color: #12355b; }
#app-head p { margin: 4px 0 0; color: #5b6574; font-size: 13.5px; }
.qa-question { white-space: pre-wrap; }
.qa-reply { font-size: 14.5px; line-height: 1.7; }
.qa-badge { display: inline-block; font-size: 12px; padding: 1px 9px; border-radius: 10px;
  background: #e6f0ff; color: #1d4ed8; margin-bottom: 4px; font-weight: 600; }
.qa-badge-no { background: #fff1e6; color: #b45309; }
.qa-refused { border-left: 4px solid #f59e0b; padding-left: 10px; }
.qa-refused .qa-text { color: #7c2d12; }
.qa-why { color: #8a6a45; font-size: 12.5px; margin-top: 4px; }
.qa-notice { border-left: 4px solid #94a3b8; padding-left: 10px; color: #475569; }
.qa-notice.qa-error { border-left-color: #dc2626; color: #991b1b; }
.qa-cites { margin-top: 10px; }
.qa-cites-head { font-size: 12.5px; color: #64748b; margin-bottom: 4px; font-weight: 600; }
.qa-card { border: 1px solid #dbe3ee; border-radius: 8px; margin: 6px 0; background: #fbfcfe; }
.qa-card > summary { list-style: none; cursor: pointer; padding: 7px 10px; display: flex;
  flex-wrap: wrap; align-items: baseline; gap: 2px 8px; }
.qa-card > summary::-webkit-details-marker { display: none; }
.qa-num { font-size: 11px; color: #fff; background: #64748b; border-radius: 9px; padding: 0 6px; }
.qa-ref { font-weight: 700; color: #12355b; }
.qa-title { font-weight: 600; }
.qa-meta { color: #64748b; font-size: 12.5px; }
.qa-quote { flex-basis: 100%; color: #334155; font-size: 13.5px; border-left: 3px solid #fcd34d;
  padding-left: 8px; margin-top: 3px; }
.qa-more { margin-left: auto; font-size: 12px; color: #2563eb; }
.qa-card[open] .qa-more { visibility: hidden; }
.qa-full { padding: 8px 12px 10px; border-top: 1px dashed #dbe3ee; font-size: 13.5px; color: #1f2937;
  white-space: pre-wrap; }
mark.qa-hl { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.qa-browse-head { font-weight: 600; color: #12355b; margin: 4px 0 8px; }
.qa-sec { margin: 14px 0 4px; font-weight: 700; color: #1e3a5f; border-bottom: 1px solid #e2e8f0;
  padding-bottom: 3px; }
.qa-units { padding: 6px 12px 0; font-size: 13px; }
.qa-unit { display: flex; gap: 8px; margin: 2px 0; }
.qa-unit-k { color: #64748b; min-width: 2.5em; }
.qa-empty { color: #64748b; padding: 12px; }
#examples button { font-size: 13px !important; }
#feedback-note { color: #15803d; font-size: 13px; min-height: 1em; }
"""

HEADER = """<div id="app-head"><h1>安全生产政策问答</h1>
<p>依据《{titles}》原文回答:每个回答注明出处条目并引用原文;文件没有写到的问题会直接说明。</p></div>"""

PLACEHOLDER = """<div style="text-align:center;color:#64748b;padding:40px 10px;font-size:14px">
<div style="font-size:17px;color:#12355b;margin-bottom:6px">请输入问题,或点击下方示例</div>
可以问牵头单位、配合单位、完成时限、某个部门负责哪些工作、第几条讲什么;也可以接着追问,例如“那它的完成时限呢?”</div>"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="app.py", description="The policy QA web chat (Gradio).")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument("--auth", default=os.environ.get("RAG_AUTH"),
                   help="user:pass, one admin login besides the role file (default: $RAG_AUTH)")
    p.add_argument("--roles", type=Path, default=None,
                   help="the role configuration shared with the API: logins, each reader or admin "
                        "(TOML; default: $RAG_ROLES; docs/RELIABILITY.md)")
    p.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: ./corpus)")
    p.add_argument("--index", type=Path, default=None, help="index folder (default: ./index)")
    p.add_argument("--embedder", default=None)
    p.add_argument("--feedback", type=Path,
                   default=Path(os.environ.get("RAG_FEEDBACK", ROOT / "feedback" / "feedback.jsonl")))
    p.add_argument("--queue-size", type=int, default=int(os.environ.get("RAG_QUEUE_SIZE", "16")),
                   help="questions allowed to wait; beyond this the chat says it is busy")
    args = p.parse_args(argv)
    if args.auth is not None and ":" not in args.auth:
        p.error("--auth must be user:pass")
    if args.queue_size < 1:
        p.error("--queue-size must be at least 1")
    return args


FEEDBACK_MAX_BYTES = 5 * 2**20  # then rotated to feedback.jsonl.1: the file never grows unbounded


def build(service: Any, feedback_path: Path, gate: chatview.Gate) -> gr.Blocks:
    from rag.indexing.store import append_jsonl

    feedback_limit = chatview.FeedbackLimit(per_minute=30)
    docs = service.documents()

    def user_message(question: str) -> dict[str, str]:
        shown = question if len(question) <= 200 else question[:200] + "…"
        return {"role": "user", "content": chatview.render_question(shown)}

    def notice(text: str, tone: str = "warn") -> dict[str, str]:
        return {"role": "assistant", "content": chatview.render_notice(text, tone)}

    def ask(question: str, chat: list, turns: list, picked: list | None = None):
        chat, turns = list(chat or []), list(turns or [])
        question = (question or "").strip()
        problem = chatview.check_question(question)
        if problem:
            if question:
                chat += [user_message(question), notice(problem)]
            return question, chat, turns, gr.skip()
        with gate.enter() as admitted:
            if not admitted:
                busy = [user_message(question), notice(chatview.BUSY_MESSAGE)]
                return question, chat + busy, turns, gr.skip()
            try:
                answer = service.ask(question, [t["answer"] for t in turns][-HISTORY_TURNS:],
                                     list(picked) if picked else None).to_dict()
            except RagError as exc:
                return "", chat + [user_message(question), notice(str(exc), "error")], turns, gr.skip()
        chat += [user_message(question),
                 {"role": "assistant", "content": chatview.render_answer(answer, docs)}]
        turns.append({"index": len(chat) - 1, "answer": answer})
        return "", chat, turns, chatview.plain_text(answer)

    def on_like(data: gr.LikeData, turns: list, request: gr.Request):
        record = next((t for t in turns or [] if t["index"] == data.index), None)
        if record is None:
            return "这条消息不是回答,没有记录反馈。"
        if not feedback_limit.allow(getattr(request, "session_hash", "") or ""):
            return "反馈太频繁,这次没有记录,请稍后再试。"
        liked = data.liked is True or data.liked == "Like"
        append_jsonl(feedback_path, chatview.feedback_record(record["answer"], liked), max_bytes=FEEDBACK_MAX_BYTES)
        return "已记录反馈:" + ("有帮助" if liked else "没有帮助") + "。谢谢!"

    def browse(section: str, department: str):
        return chatview.render_browse(docs, section or None, department or None)

    titles = "》《".join(d.title for d in docs) or "文件"
    with gr.Blocks(title="安全生产政策问答", analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.HTML(HEADER.format(titles=chatview.escape_text(titles)))
        with gr.Tabs():
            with gr.Tab("问答", id="chat-tab"):
                chatbot = gr.Chatbot(
                    value=[], show_label=False, elem_id="chat", height="calc(100vh - 300px)", min_height=420,
                    buttons=[],
                    placeholder=PLACEHOLDER, feedback_options=("Like", "Dislike"), autoscroll=True,
                    group_consecutive_messages=False, latex_delimiters=[],
                )
                picker = gr.Dropdown(choices=[(d.title, d.id) for d in docs], value=[], multiselect=True,
                                     label="只在这些文件里找(不选即全部文件)", elem_id="doc-picker",
                                     visible=len(docs) > 1)
                with gr.Row(equal_height=True):
                    box = gr.Textbox(show_label=False, placeholder="输入问题,例如:燃气安全由谁牵头?按回车提问",
                                     scale=8, lines=1, max_lines=4, elem_id="question", autofocus=True)
                    send = gr.Button("提问", variant="primary", scale=1, min_width=80, elem_id="send")
                    new = gr.Button("新对话", scale=1, min_width=80, elem_id="new-chat")
                with gr.Row(elem_id="examples"):
                    example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
                note = gr.Markdown("", elem_id="feedback-note")
                with gr.Accordion("复制上一条回答(纯文本,含出处)", open=False, elem_id="copy-panel"):
                    plain = gr.Textbox(show_label=False, lines=6, max_lines=16, interactive=False,
                                       buttons=["copy"], elem_id="plain")
            with gr.Tab("浏览文件", id="browse-tab"):
                with gr.Row():
                    section = gr.Dropdown(choices=[("全部部分", "")] + chatview.section_choices(docs), value="",
                                          label="按部分筛选", elem_id="filter-section")
                    department = gr.Dropdown(choices=[("全部部门", "")] + [(n, n) for n in
                                             chatview.department_choices(docs)], value="",
                                             label="按部门筛选", elem_id="filter-department")
                panel = gr.HTML(chatview.render_browse(docs), elem_id="browse")

        outputs = [box, chatbot, turns, plain]
        box.submit(ask, [box, chatbot, turns, picker], outputs, concurrency_limit=None)
        send.click(ask, [box, chatbot, turns, picker], outputs, concurrency_limit=None)
        for button in example_buttons:
            button.click(ask, [button, chatbot, turns, picker], outputs, concurrency_limit=None)
        new.click(lambda: ([], [], "", ""), None, [chatbot, turns, plain, note])
        chatbot.clear(lambda: ([], "", ""), None, [turns, plain, note])
        chatbot.like(on_like, [turns], [note])
        section.change(browse, [section, department], [panel])
        department.change(browse, [section, department], [panel])
    return demo


def theme() -> gr.themes.Base:
    local = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", font=local,
                          font_mono=["Noto Sans Mono CJK SC", "monospace"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rag.service import Service, stderr_progress
    from rag.surfaces.api_serve import is_loopback
    from rag.surfaces.roles import Roles

    try:
        roles = Roles.load(args.roles)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.auth:
        roles.add_login(*args.auth.split(":", 1))
    if not roles.logins and not is_loopback(args.host):  # as `rag serve` refuses without keys
        print(f"error: refusing to serve {args.host} without a login: give logins in a roles file (--roles) "
              "or pass --auth user:pass (or bind 127.0.0.1)", file=sys.stderr)
        return 2

    try:
        service = Service(corpus=args.corpus, index=args.index, embedder=args.embedder,
                          progress=stderr_progress)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    gate = chatview.Gate(active=2, waiting=args.queue_size)
    demo = build(service, args.feedback, gate)
    demo.queue(max_size=args.queue_size * 2, default_concurrency_limit=2)
    auth = chatview.Login(roles) if roles.logins else None  # failed logins are limited
    private = [ROOT / name for name in (".git", ".venv", "index", "feedback", "test-output")]
    private += [args.feedback.parent, Path(service.index)]
    demo.launch(
        server_name=args.host, server_port=args.port, auth=auth,
        auth_message="请输入账号和密码登录" if auth else None,
        allowed_paths=[], blocked_paths=[str(p) for p in private],
        max_file_size=0,  # the chat takes no files: Gradio's generic upload route refuses any (413)
        footer_links=[], ssr_mode=False, show_error=False, quiet=False,
        theme=theme(), css=CSS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
