"""The web chat: ask the policy documents in Chinese, get answers with their citation cards.

    python app.py [--host 127.0.0.1] [--port 7860] [--roles FILE] [--auth user:pass] [--corpus DIR] [--index DIR]

Host and port default to Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT. Logins come from the
role configuration shared with the API (--roles or RAG_ROLES; rag/surfaces/roles.py), plus one admin
login from --auth or RAG_AUTH ("user:pass"); an admin login also sees 管理 (documents, feedback).
Feedback (赞 / 踩 with a reason, and withdrawals) is appended to feedback/feedback.jsonl.
"""

from __future__ import annotations

import argparse
import json
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
    "市应急局负责哪些工作?",
    "第四部分包括哪些条目?",
    "明年的工作要点是什么?",
)
WEB = ROOT / "rag" / "surfaces" / "web"
BODY_LIMIT = 24 * 2**20  # one upload of MAX_FILE_BYTES as base64 in JSON fits; nothing bigger is read
SMALL_BODY_LIMIT = 256 * 2**10  # every other route: questions, feedback, logins, the queue
# Gradio scopes the css= rules to its container; the page's own scrollbar needs a rule on <html>: the
# gutter is kept whether or not the page scrolls, so the first long answer does not narrow the page.
HEAD = "<style>html { scrollbar-gutter: stable; }</style>"


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
    p.add_argument("--store", default=None,
                   help="faiss (default), milvus:PATH.db or milvus:http://host:19530 (default: $RAG_STORE)")
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


def build(desk: Any) -> gr.Blocks:
    """One HTML component holding the whole desk; its script (rag/surfaces/web/desk.js) builds the
    page with DOM text nodes and calls the desk's functions below over Gradio's component server."""
    from rag.surfaces.desk import DeskError

    def call(fn, payload: Any, *args):
        """One desk call: a payload that is not a JSON object counts as an empty one; a refusal
        is the page's {"error": message}."""
        try:
            return fn(payload if isinstance(payload, dict) else {}, *args)
        except DeskError as exc:
            return {"error": str(exc)}

    def session(payload: dict, request: gr.Request) -> dict:
        return {**desk.session(user_of(request)), "examples": list(EXAMPLES)}

    def ask(payload: dict, request: gr.Request) -> dict:
        return call(desk.ask, payload)

    def feedback(payload: dict, request: gr.Request) -> dict:
        who = user_of(request)  # feedback is limited per login, or per client address without logins
        return call(desk.feedback, payload, who, who or client_of(request))

    def browse(payload: dict, request: gr.Request) -> dict:
        return call(desk.browse, payload)

    def original(payload: dict, request: gr.Request) -> dict:
        return call(desk.original, payload)

    def export(payload: dict, request: gr.Request) -> dict:
        return call(desk.export, payload)

    def admin(payload: dict, request: gr.Request) -> dict:
        return call(desk.admin, payload, user_of(request))

    script = (WEB / "desk.js").read_text("utf-8")
    with gr.Blocks(title="安全生产政策问答", analytics_enabled=False) as demo:
        gr.HTML(value="", html_template='<div id="desk" class="desk" lang="zh-CN"></div>', js_on_load=script,
                apply_default_css=False, container=False, padding=False, elem_id="desk-root",
                server_functions=[session, ask, feedback, browse, original, export, admin])
    return demo


def user_of(request: Any) -> str | None:
    """The signed-in user of a component-server call: Gradio's login cookie, looked up in its tokens."""
    raw = getattr(request, "request", None) or request
    app = getattr(raw, "app", None)
    if app is None or not hasattr(raw, "cookies"):
        return None
    cookie_id = getattr(app, "cookie_id", "")
    token = raw.cookies.get(f"access-token-{cookie_id}") or raw.cookies.get(f"access-token-unsecure-{cookie_id}")
    return getattr(app, "tokens", {}).get(token) if token else None


def client_of(request: Any) -> str:
    raw = getattr(request, "request", None) or request
    client = getattr(raw, "client", None)
    return getattr(client, "host", "") or "anonymous"


class BodyLimit:
    """Refuses (413, JSON) a request body larger than the route allows, before anything reads it:
    the desk's upload call may carry one document, every other route only a few kilobytes."""

    def __init__(self, app: Any, big: int = BODY_LIMIT, small: int = SMALL_BODY_LIMIT) -> None:
        self.app, self.big, self.small = app, big, small

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.big if scope.get("path", "").endswith("/component_server") else self.small
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(send, limit)
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        try:
            return await self.app(scope, counted, send)
        except _TooLarge:
            return await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Any, limit: int) -> None:
        body = json.dumps({"error": "too_large", "message": f"请求内容超过上限({limit // 2**10} KB)。"},
                          ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def theme() -> gr.themes.Base:
    local = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", font=local,
                          font_mono=["Noto Sans Mono CJK SC", "monospace"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from starlette.middleware import Middleware

    from rag.service import Service, stderr_progress
    from rag.surfaces.api_serve import is_loopback
    from rag.surfaces.desk import Desk
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
                          progress=stderr_progress, store=args.store)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    service.watch()  # index versions another process publishes (rag index, an API replica) are picked up
    gate = chatview.Gate(active=2, waiting=args.queue_size)
    auth = chatview.Login(roles) if roles.logins else None  # failed logins are limited
    desk = Desk(service, args.feedback, gate, auth)
    demo = build(desk)
    demo.queue(max_size=args.queue_size * 2, default_concurrency_limit=2)
    private = [ROOT / name for name in (".git", ".venv", "index", "feedback", "test-output")]
    private += [args.feedback.parent, Path(service.index)]
    demo.launch(
        server_name=args.host, server_port=args.port, auth=auth,
        auth_message="请输入账号和密码登录" if auth else None,
        allowed_paths=[], blocked_paths=[str(p) for p in private],
        max_file_size=0,  # the chat takes no files: Gradio's generic upload route refuses any (413)
        footer_links=[], ssr_mode=False, show_error=False, quiet=False,
        theme=theme(), css=(WEB / "desk.css").read_text("utf-8"), head=HEAD,
        app_kwargs={"middleware": [Middleware(BodyLimit)]},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
