"""The HTTP surface: ``create_app()`` (FastAPI) and ``rag serve`` (uvicorn).

Endpoints: POST /v1/ask, POST /v1/search, GET /v1/documents, GET /v1/documents/{doc}/items/{n},
GET /v1/departments/{name}, POST /v1/chat/completions (OpenAI format, see api_chat.py),
POST /v1/admin/reindex, GET /healthz, GET /readyz, GET /openapi.json.
Keys, limits and body size live in api_guard.py and api_limits.py; the answer cache in api_cache.py.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from limits.storage import MemoryStorage
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from rag.errors import BadQuestion, RagError
from rag.surfaces import api_models as m
from rag.surfaces.api_backend import ApiError, Backend
from rag.surfaces.api_guard import OPEN_PATHS, GuardMiddleware
from rag.surfaces.api_limits import FairQueue, answer_slots
from rag.surfaces.quota import Quota
from rag.surfaces.roles import Roles

if TYPE_CHECKING:
    from rag.types import Document, Item

log = logging.getLogger("rag.surfaces.api")


@dataclass(frozen=True)
class ApiConfig:
    keys: frozenset[str] = frozenset()  # reader keys (or use ``roles``)
    admin_keys: frozenset[str] = frozenset()  # may also upload and delete documents
    roles: Roles | None = None  # the role configuration (rag/surfaces/roles.py); keys above add to it
    local_only: bool = True  # without keys: only loopback Host/Origin (off with --allow-no-auth)
    rate_limit: float = 20.0  # cost units a second per key (or per client address without keys); 0 = off
    burst: int | None = None  # cost units at once; default: twice the rate
    auth_failures: int = 10  # failed authentications a minute per client address, then 429; 0 = off
    answer_slots: int | None = None  # answers computed at once; default: the CPU cores
    queue: int = 64  # answering requests waiting for a slot, in all (then 503 busy)
    queue_per_key: int = 8  # ... and per key (or client address without keys)
    body_timeout: float = 30.0  # seconds to receive a whole request body, then 408
    max_body: int = 64 * 1024  # bytes
    cache_size: int = 1024  # answers; 0 = off


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error responses an operation can give."""
    return {s: {"model": m.ErrorOut} for s in statuses}


COMMON = (401, 413, 429, 503)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return json_response({"error": {"code": code, "message": message}}, status, headers)


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return 400, "invalid_json", "the request body is not valid JSON"
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
    return 422, "invalid_request", f"{where}: {first.get('msg', 'invalid value')}"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(*_validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every route of the path, not only the first (GET and POST /v1/documents)
            methods = sorted({m for r in app.router.routes if r.matches(request.scope)[0] != Match.NONE
                              for m in getattr(r, "methods", None) or ()} - {"HEAD"})
            headers["Allow"] = ", ".join(methods)
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), message, headers)

    @app.exception_handler(RagError)
    async def rag_error(_: Request, exc: RagError) -> JSONResponse:
        if isinstance(exc, BadQuestion):
            return error_response(422, exc.code, str(exc))
        return error_response(503, exc.code, str(exc))

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; the server log has the details")


def _openapi_security(app: FastAPI) -> None:
    """Declare Bearer auth in the schema: every operation needs it except the health checks."""
    plain = app.openapi

    def schema() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = plain()
        spec.setdefault("components", {})["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        spec["security"] = [{"bearer": []}]
        for path in OPEN_PATHS:
            for op in spec["paths"].get(path, {}).values():
                op["security"] = []
        app.openapi_schema = spec
        return spec

    app.openapi = schema  # type: ignore[method-assign]


# -- response bodies from the core's dataclasses ---------------------------------------------------
class DocumentPath(Convertor):
    """A doc_id (a path with slashes) that is not an item address (…/items/N)."""

    regex = r"(?!.*/items/[^/]*$).+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("docpath", DocumentPath())


def _require_admin(request: Request) -> None:
    if getattr(request.state, "role", "reader") != "admin":
        raise ApiError(403, "forbidden", "changing the corpus or the index needs an admin key (RAG_API_ADMIN_KEYS)")


def change_out(status: str, doc_id: str, report: Any) -> dict[str, Any]:
    return {"status": status, "doc_id": doc_id, "added": list(report.added), "changed": list(report.changed),
            "removed": list(report.removed), "unchanged": report.unchanged, "embedded": report.embedded,
            "chunks": report.chunks, "seconds": round(report.seconds, 3)}


def document_out(doc: Document) -> dict[str, Any]:
    info = doc.info
    return {"id": doc.id, "title": doc.title, "meta": dict(doc.meta), "items": len(doc.items),
            "issuer": info.issuer if info else None, "doc_number": info.doc_number if info else None,
            "date": info.date if info else None, "year": info.year if info else None,
            "place": info.place if info else None, "format": doc.report.format if doc.report else None,
            "sections": [{"numeral": s.numeral, "title": s.title, "items": list(s.items)} for s in doc.sections]}


def item_out(item: Item) -> dict[str, Any]:
    u = item.units
    return {
        "doc": item.doc, "number": item.number, "section": item.section, "title": item.title,
        "text": item.text, "body": item.body,
        "units": {"raw": u.raw, "lead": list(u.lead), "lead_rule": u.lead_rule, "co": list(u.co),
                  "local": list(u.local)},
        "deadlines": [{"text": d.text, "normalized": d.normalized, "sentence": d.sentence} for d in item.deadlines],
        "counts": [{"text": c.text, "value": c.value, "unit": c.unit, "sentence": c.sentence} for c in item.counts],
    }


def department_row(item: Item, name: str) -> dict[str, Any]:
    u = item.units
    return {"doc": item.doc, "doc_id": item.doc_id, "path": item.path, "number": item.number,
            "section": item.section, "title": item.title,
            "role": "lead" if name in u.lead else "co", "lead": list(u.lead), "lead_rule": u.lead_rule,
            "co": list(u.co), "written": u.written.get(name, name)}


def create_app(backend: Backend, config: ApiConfig | None = None) -> FastAPI:
    """The FastAPI app over ``backend``; loads the service in the background at startup."""
    from rag.surfaces.api_chat import chat_router

    config = config or ApiConfig()

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        backend.load_in_background()
        yield

    app = FastAPI(title="policy-qa", version="1", lifespan=lifespan,
                  description="Answers, search and browsing over policy documents, with exact item citations.")
    storage = MemoryStorage()  # one in-memory store for every quota of this app; the queue is watchable
    app.state.queue = FairQueue(config.answer_slots or answer_slots(), config.queue, config.queue_per_key)
    roles = config.roles or Roles()
    roles.add_keys(config.keys - config.admin_keys, "reader", "configured")
    roles.add_keys(config.admin_keys, "admin", "configured admin")
    app.add_middleware(GuardMiddleware, roles=roles, local_only=config.local_only,
                       max_body=config.max_body, body_timeout=config.body_timeout, queue=app.state.queue,
                       limiter=Quota.per_second(config.rate_limit, config.burst, storage),
                       auth_failures=Quota.per_minute(config.auth_failures, storage))
    _install_error_handlers(app)
    _openapi_security(app)
    app.include_router(chat_router(backend), prefix="/v1")

    @app.get("/healthz", response_model=m.HealthOut, tags=["ops"])
    def healthz() -> JSONResponse:
        """The process is up (the index may still be loading)."""
        return json_response({"status": "ok"})

    @app.get("/readyz", response_model=m.ReadyOut, responses=errors(503), tags=["ops"])
    def readyz() -> JSONResponse:
        """The index is loaded: which embedder, which corpus."""
        service = backend.service
        manifest = service.state.manifest
        return json_response({"status": "ready", "embedder": manifest.embedder, "dim": manifest.dim,
                              "corpus_hash": manifest.corpus_hash, "chunks": manifest.chunks,
                              "documents": len(service.documents()), "index_created": manifest.created,
                              "version": service.state.version, "worker": os.getpid()})

    @app.post("/v1/ask", response_model=m.AnswerOut, responses=errors(400, 422, *COMMON), tags=["answers"])
    def ask(body: m.AskIn, request: Request) -> JSONResponse:
        """Answer one question; ``history`` holds this conversation's earlier answer objects."""
        history = [turn.model_dump(exclude_none=True) for turn in body.history]
        answer, hit = backend.ask(body.question, history, body.docs, getattr(request.state, "tenant", ""))
        return json_response(answer, headers={"X-Cache": "hit" if hit else "miss"})

    @app.post("/v1/search", response_model=m.SearchOut, responses=errors(400, 422, *COMMON), tags=["answers"])
    def search(body: m.SearchIn) -> JSONResponse:
        """Ranked clauses for a query, with their fused scores."""
        from rag.answering.question import clean_question

        query = clean_question(body.query)
        hits = backend.service.search(query, k=body.k)
        return json_response({"query": query, "k": body.k, "hits": [
            {"rank": n, "score": h.score, "id": h.chunk.id, "doc": h.chunk.doc, "kind": h.chunk.kind,
             "item": h.chunk.item, "section": h.chunk.section, "title": h.chunk.title, "text": h.chunk.text}
            for n, h in enumerate(hits, 1)]})

    @app.get("/v1/documents", response_model=m.DocumentsOut, responses=errors(*COMMON), tags=["browse"])
    def documents() -> JSONResponse:
        return json_response({"documents": [document_out(d) for d in backend.service.documents()]})

    @app.post("/v1/documents", response_model=m.DocumentChangeOut, status_code=201,
              responses=errors(400, 403, 413, 422, *COMMON), tags=["documents"])
    def add_document(request: Request, body: m.DocumentIn) -> JSONResponse:
        """Add or replace one document (admin keys): it is read first, then only its rows are indexed."""
        _require_admin(request)
        try:
            data = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, "invalid_request", "content_base64 is not valid base64") from None
        status, report = backend.add_document(body.path, data)
        return json_response(change_out(status, body.path, report), 201 if status == "added" else 200)

    @app.delete("/v1/documents/{doc_id:docpath}", response_model=m.DocumentChangeOut,
                responses=errors(403, 404, 422, *COMMON), tags=["documents"])
    def remove_document(request: Request, doc_id: str = Path(max_length=300, description="document id",
                                                            examples=["2021/safety-work-plan-2021.txt"])) -> JSONResponse:
        """Remove one document (admin keys): its file leaves the corpus and its rows the index."""
        _require_admin(request)
        return json_response(change_out("removed", doc_id, backend.remove_document(doc_id)))

    @app.get("/v1/documents/{doc:path}/items/{n}", response_model=m.ItemOut, responses=errors(404, 422, *COMMON),
             tags=["browse"])
    def item(doc: str = Path(max_length=300, description="document id or title",
                              examples=["safety-work-plan-2020.txt"]),
             n: int = Path(ge=0, le=100_000, description="item number", examples=[23])) -> JSONResponse:
        """One parsed item: title, text, lead and co-units, local governments, deadlines."""
        service = backend.service
        if service.document(doc) is None:
            raise ApiError(404, "unknown_document", f"no document {doc!r}; GET /v1/documents lists them")
        found = service.item(doc, n)
        if found is None:
            raise ApiError(404, "unknown_item", f"document {doc!r} has no item {n}")
        return json_response(item_out(found))

    @app.get("/v1/departments/{name}", response_model=m.DepartmentOut, responses=errors(404, 422, *COMMON),
             tags=["browse"])
    def department(name: str = Path(max_length=200, description="any spelling of a department's name",
                                    examples=["市安委办"])) -> JSONResponse:
        """Every item whose responsibility block names the department (any spelling of it)."""
        found = backend.service.department(name)
        if found is None:
            raise ApiError(404, "unknown_department", f"no department {name!r} in the corpus")
        canonical, rows = found
        return json_response({"query": name, "department": canonical, "count": len(rows),
                              "items": [department_row(it, canonical) for it in rows]})

    @app.post("/v1/admin/reindex", response_model=m.ReindexOut, responses=errors(400, 422, *COMMON),
              tags=["ops"])
    def reindex(request: Request, body: m.ReindexIn | None = None) -> JSONResponse:
        """Rebuild the index from the corpus and swap it in (admin keys); requests keep being served meanwhile."""
        _require_admin(request)
        return json_response(backend.reindex(force=body.force if body else True))

    return app

