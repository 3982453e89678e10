"""POST /v1/chat/completions in the OpenAI chat format, stream (SSE) and non-stream, and GET /v1/models.

The last user message is the question. Chat front ends send back only the text of earlier answers,
so the conversation's history (what follow-ups such as 「那它的完成时限呢?」 need) is rebuilt by
answering the earlier user messages again — from the answer cache, usually.
The answer text carries its citations inline (【第23条】); the full citation objects ride in an extra
``citations`` field (on the completion, or on the last chunk of a stream).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from rag.errors import BadQuestion
from rag.surfaces import api_models as m
from rag.surfaces.api_backend import ApiError, Backend

MODEL_ID = "policy-qa"
REPLAYED_TURNS = 4  # earlier questions answered again to rebuild the history (the core looks back 4)
CREATED = int(time.time())


def message_text(message: m.ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(part.text or "" for part in message.content or [] if part.type == "text")


def with_inline_citations(answer: dict[str, Any]) -> str:
    marks: list[str] = []
    for c in answer["citations"]:
        ref = c.get("path") or f"第{c['item']}条"
        mark = f"【{ref}】" if c["item"] is not None else f"【{c['title'] or c['doc']}】"
        if mark not in marks:
            marks.append(mark)
    return answer["answer"] + "".join(marks)


def chat_answer(backend: Backend, messages: list[m.ChatMessage], docs: list[str] | None = None,
                tenant: str = "") -> dict[str, Any]:
    users = [message_text(msg) for msg in messages if msg.role == "user"]
    if not users or messages[-1].role != "user":
        raise ApiError(422, "invalid_request", "the last message must be the user's question")
    history: list[dict[str, Any]] = []
    for earlier in users[:-1][-REPLAYED_TURNS:]:
        try:
            answer = backend.ask(earlier, list(history), docs, tenant)[0]
        except BadQuestion:
            continue  # an unanswerable earlier turn carries nothing over
        try:  # the same fields /v1/ask passes on, so the cache key does not hold latencies
            history.append(m.Turn.model_validate(answer).model_dump(exclude_none=True))
        except ValidationError:
            continue
    return backend.ask(users[-1], history, docs, tenant)[0]


def _chunk(cid: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def pieces(text: str, size: int = 16) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start:start + size]


def stream(cid: str, answer: dict[str, Any], text: str) -> Iterator[str]:
    yield _chunk(cid, {"role": "assistant", "content": ""})
    for piece in pieces(text):
        yield _chunk(cid, {"content": piece})
    yield _chunk(cid, {}, "stop", citations=answer["citations"], refused=answer["refused"], kind=answer["kind"])
    yield "data: [DONE]\n\n"


def chat_router(backend: Backend) -> APIRouter:
    router = APIRouter(tags=["openai"])
    errors = {s: {"model": m.ErrorOut} for s in (400, 401, 413, 422, 429, 503)}

    @router.post("/chat/completions", response_model=m.ChatOut, responses={
        **errors, 200: {"content": {"text/event-stream": {}}, "description": "a completion, or SSE chunks"}})
    def chat_completions(body: m.ChatIn, request: Request) -> Any:
        """OpenAI-compatible chat: answers the last user message, citations inline and in ``citations``."""
        answer = chat_answer(backend, body.messages, body.docs, getattr(request.state, "tenant", ""))
        text = with_inline_citations(answer)
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            return StreamingResponse(stream(cid, answer, text), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        prompt = sum(len(message_text(msg)) for msg in body.messages)
        return JSONResponse({
            "id": cid, "object": "chat.completion", "created": int(time.time()), "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": len(text), "total_tokens": prompt + len(text)},
            "citations": answer["citations"], "refused": answer["refused"], "kind": answer["kind"],
        })

    @router.get("/models", response_model=m.ModelsOut, responses=errors)
    def models() -> JSONResponse:
        return JSONResponse({"object": "list", "data": [
            {"id": MODEL_ID, "object": "model", "created": CREATED, "owned_by": "policy-qa"}]})

    return router
