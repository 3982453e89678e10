"""Access and limits for the HTTP API: API keys (and failed ones per address), a per-key limit of cost
units, a request-body size and time limit, the fair queue for answers.

One pure-ASGI middleware does them all before a request reaches routing or JSON parsing, so a
missing key is a 401 whatever the body holds, and a huge body is refused without being read whole.
What a request costs, the quotas and the queue are in api_limits.py; timeouts for request heads
and the connection cap are uvicorn's (api_serve.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.surfaces.api_limits import QUEUED, Busy, FairQueue, address_key, answer_slots, request_cost
from rag.surfaces.quota import Quota
from rag.surfaces.roles import Principal, Roles, key_digest

KEYS_ENV = "RAG_API_KEYS"
ADMIN_KEYS_ENV = "RAG_API_ADMIN_KEYS"  # keys that may also change the corpus (upload, delete)
UPLOAD_PATH = "/v1/documents"
MAX_UPLOAD_BODY = 12 * 2**20  # a document upload: 8 MB of file as base64 JSON
OPEN_PATHS = frozenset({"/healthz", "/readyz"})  # health checks never need a key


def load_keys(keys_file: Path | None = None, env: str | None = None, variable: str = KEYS_ENV) -> frozenset[str]:
    """Keys from ``RAG_API_KEYS`` (comma-separated) and from a file (one a line, # comments)."""
    raw = os.environ.get(variable, "") if env is None else env
    keys = {k.strip() for k in raw.split(",") if k.strip()}
    if keys_file is not None:
        try:
            lines = Path(keys_file).read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise RagError(f"cannot read the keys file {keys_file}: {exc}") from None
        keys |= {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}
    for key in keys:
        if len(key) < 8 or any(ch.isspace() for ch in key):
            raise RagError("API keys must be at least 8 characters with no spaces; fix the key list")
    return frozenset(keys)


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()


async def send_error(send: Any, status: int, code: str, message: str,
                     headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = error_body(code, message)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers,
    ]})
    await send({"type": "http.response.body", "body": body})


async def too_many(send: Any, wait: float, code: str, message: str) -> None:
    retry = max(1, math.ceil(wait))
    await send_error(send, 429, code, f"{message}; retry after {retry} s", [(b"retry-after", str(retry).encode())])


class GuardMiddleware:
    """Body size limit, then the Bearer key check (an address with too many failed ones gets 429
    without its key being checked), then the cost quota (per key, or per client address when no keys
    are configured), the body within its deadline, and the fair queue for the answering paths.
    Health checks pass untouched."""

    def __init__(self, app: Any, roles: Roles, limiter: Quota, max_body: int, local_only: bool = True,
                 auth_failures: Quota | None = None, queue: FairQueue | None = None,
                 body_timeout: float | None = 30.0) -> None:
        self.app, self.limiter, self.max_body, self.local_only = app, limiter, max_body, local_only
        self.body_timeout = body_timeout  # seconds for the whole body; None: no limit
        self.auth_failures = auth_failures or Quota(None)
        self.queue = queue or FairQueue(answer_slots())
        self.roles = roles
        self.keys = bool(roles.keys)  # no keys at all: loopback only, one user who is an admin

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit = MAX_UPLOAD_BODY if (scope["path"], scope.get("method")) == (UPLOAD_PATH, "POST") else self.max_body
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await send_error(send, 413, "body_too_large", f"request body over {limit} bytes")
            return
        if not self.keys and self.local_only and not _same_machine(headers):  # open mode: no cross-site or rebound requests
            await send_error(send, 403, "forbidden_origin",
                             "without API keys only pages and clients on this machine may call (Host/Origin)")
            return
        address = address_key((scope.get("client") or ("local", 0))[0])
        if self.keys and (wait := self.auth_failures.wait(address)) > 0:  # the key is not even looked at
            await too_many(send, wait, "too_many_auth_failures", "too many failed authentications from this address")
            return
        client, who = self._client(headers.get(b"authorization", b""), address)
        if client is None:
            self.auth_failures.take(address)
            await send_error(send, 401, "unauthorized",
                             "missing or unknown API key: send 'Authorization: Bearer <key>'",
                             [(b"www-authenticate", b"Bearer")])
            return
        if (wait := self.limiter.wait(client)) > 0:  # already over: refused before the body is read
            await too_many(send, wait, "rate_limited", "too many requests")
            return
        try:  # a client trickling its body would hold the request (and its connection) for ever
            async with asyncio.timeout(self.body_timeout):
                body = await self._read_body(receive, limit)
        except TimeoutError:
            await send_error(send, 408, "body_timeout", f"the request body did not arrive within "
                             f"{self.body_timeout:g} s", [(b"connection", b"close")])
            return
        if body is None:
            await send_error(send, 413, "body_too_large", f"request body over {limit} bytes")
            return
        if (wait := self.limiter.take(client, request_cost(scope["path"], body))) > 0:
            await too_many(send, wait, "rate_limited", "too many requests (long questions cost more)")
            return
        # The role handlers check: no keys at all (loopback only) is the single-user admin mode.
        admin = not self.keys or (who is not None and who.admin)
        # the caller's identity for per-key state (the answer cache): a digest, never the key itself
        tenant = hashlib.sha256(client.encode()).hexdigest()[:16] if self.keys else ""
        scope = {**scope, "state": {**(scope.get("state") or {}), "role": "admin" if admin else "reader",
                                    "tenant": tenant}}
        if body:  # every body here is JSON: read it so whatever Content-Type says (curl -d sends form type)
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"content-type"]
                     + [(b"content-type", b"application/json")]}
        if scope.get("method") == "POST" and scope["path"] in QUEUED:
            await self._queued(client, scope, body, receive, send)
        else:
            await self.app(scope, _replay(body, receive), send)

    async def _queued(self, client: str, scope: dict, body: bytes, receive: Any, send: Any) -> None:
        """Run an answering request when the fair queue gives it a slot; the slot is freed as soon as
        the response starts (the answer is computed by then), or when the app fails."""
        try:
            slot = await self.queue.turn(client, receive)
        except Busy:
            await send_error(send, 503, "busy", "the server is busy answering other questions; retry after 1 s",
                             [(b"retry-after", b"1")])
            return
        if slot is None:
            return  # the client went away while it waited

        async def send_then_free(message: dict) -> None:
            if message["type"] == "http.response.start":
                slot.release()
            await send(message)

        try:
            await self.app(scope, _replay(body, receive), send_then_free)
        finally:
            slot.release()

    def _client(self, authorization: bytes, address: str) -> tuple[str | None, Principal | None]:
        """Who calls: ``key:<digest>`` and its principal, ``addr:<address>`` without keys, or None."""
        if not self.keys:
            return f"addr:{address}", None
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, None
        digest = key_digest(token)
        who = self.roles.by_digest(digest)  # constant-time comparison against every key's digest
        return (f"key:{digest}", who) if who is not None else (None, None)

    async def _read_body(self, receive: Any, limit: int) -> bytes | None:
        """The whole body, or None past the limit (chunked bodies carry no Content-Length)."""
        parts, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(parts)
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)


def _host_of(value: str) -> str:
    """The host of a Host header or an Origin (scheme://host:port), without port or brackets."""
    value = value.split("://", 1)[-1].split("/", 1)[0]
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value.strip("[]")
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _loopback(host: str) -> bool:
    import ipaddress

    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _same_machine(headers: dict[bytes, bytes]) -> bool:
    """With no keys the server is a single user's, on loopback: a request must name a loopback Host
    (a rebound DNS name does not) and, when a browser sends one, come from a loopback Origin (a
    page elsewhere posting text/plain does not)."""
    host = headers.get(b"host", b"").decode("latin-1")
    origin = headers.get(b"origin")
    if not _loopback(_host_of(host)):
        return False
    return origin is None or _loopback(_host_of(origin.decode("latin-1")))  # 「null」 is not loopback


def _replay(body: bytes, receive: Any) -> Any:
    """A receive() that hands the app the already-read body, then waits for the disconnect."""
    sent = False

    async def wrapped() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped
