"""What the HTTP handlers call: the service (loaded once, in the background, so /healthz answers
while the index loads) and the answer cache in front of it. Errors for clients are ``ApiError``."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.surfaces.api_cache import AnswerCache, cache_key

if TYPE_CHECKING:
    from rag.service import Service


class ApiError(Exception):
    """An error a client gets as JSON {"error": {"code", "message"}} with this HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:;,'\"]+/)*([^\s/:;,'\"]*)")


def without_paths(message: str) -> str:
    """A message for clients that need no key (/readyz): folders left out, the file's name kept."""
    return ABSOLUTE_PATH.sub(lambda m: m.group(1) or "…", message)


class Backend:
    def __init__(self, load: Callable[[], Service], cache_size: int = 1024, watch: float = 0.0) -> None:
        """``watch`` > 0: every so many seconds, look for an index version another process published."""
        self._load, self._watch = load, watch
        self._service: Service | None = None
        self.load_error: str | None = None
        self.cache = AnswerCache(cache_size)
        self._started = threading.Event()

    @classmethod
    def of(cls, service: Service, cache_size: int = 1024) -> Backend:
        backend = cls(lambda: service, cache_size)
        backend.load()
        return backend

    def load(self) -> None:
        """Load the service (build the index if needed); run once, at startup."""
        if self._started.is_set():
            return
        self._started.set()
        try:
            self._service = self._load()
            if self._watch:
                self._service.watch(self._watch)
        except RagError as exc:
            self.load_error = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported by /readyz; the server stays up for health checks
            self.load_error = f"{type(exc).__name__}: {exc}"
        if self.load_error:
            print(f"error: the index failed to load: {self.load_error}", file=sys.stderr, flush=True)

    def load_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.load, name="rag-load", daemon=True)
        thread.start()
        return thread

    @property
    def ready(self) -> bool:
        return self._service is not None

    @property
    def service(self) -> Service:
        if self._service is None:
            if self.load_error:
                raise ApiError(503, "load_failed", f"the index failed to load: {without_paths(self.load_error)}; "
                               "fix that and restart the server (the server's log has the full message)")
            raise ApiError(503, "not_ready", "the index is loading; try again shortly", {"Retry-After": "1"})
        return self._service

    def ask(self, question: str, history: list[dict[str, Any]],
            docs: list[str] | None = None, tenant: str = "") -> tuple[dict[str, Any], bool]:
        """The answer object, and whether it came from the cache. Each API key (``tenant``) has its
        own cache entries, so a hit never tells one key what another asked."""
        started = time.perf_counter()
        service = self.service
        generation = service.state
        key = cache_key(question, history, docs, tenant)
        cached = self.cache.get(key, generation)
        if cached is not None:
            return {**cached, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}, True
        answer = service.ask(question, history, docs).to_dict()
        self.cache.put(key, answer, generation)
        return answer, False

    def add_document(self, doc_id: str, data: bytes) -> tuple[str, Any]:
        from rag.errors import BadDocumentPath, BadQuestion

        try:
            return self.service.add_document(doc_id, data)
        except BadDocumentPath as exc:
            raise ApiError(400, "bad_document_path", str(exc)) from None
        except BadQuestion as exc:
            raise ApiError(400, "unreadable_document", str(exc)) from None

    def remove_document(self, doc_id: str) -> Any:
        from rag.errors import BadQuestion

        try:
            return self.service.remove_document(doc_id)
        except LookupError:
            raise ApiError(404, "unknown_document", f"no document {doc_id!r}; GET /v1/documents lists them") from None
        except BadQuestion as exc:
            raise ApiError(400, "bad_document_path", str(exc)) from None

    def reindex(self, force: bool) -> dict[str, Any]:
        started = time.perf_counter()
        manifest = self.service.reindex(force=force)
        return {"status": "reindexed", "corpus_hash": manifest.corpus_hash, "chunks": manifest.chunks,
                "index_created": manifest.created, "seconds": round(time.perf_counter() - started, 3)}
