"""``rag serve``: options, the no-auth safety check, and uvicorn with limits against slow clients."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

from rag.errors import RagError

FILES_BESIDES_CONNECTIONS = 32  # the index, logs, the listening socket… (9 open when serving, measured)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    p.add_argument("--roles", type=Path, default=None,
                   help="the role configuration shared with the web chat: API keys and logins, each reader or "
                        "admin (TOML; default: $RAG_ROLES; docs/RELIABILITY.md)")
    p.add_argument("--keys-file", type=Path,
                   help="file of reader API keys, one a line (added to the comma-separated RAG_API_KEYS)")
    p.add_argument("--allow-no-auth", action="store_true",
                   help="allow binding a non-loopback address with no API keys configured")
    p.add_argument("--rate-limit", type=float, default=20.0,
                   help="cost units a second per key (per client address without keys): a short question costs 1, "
                        "a 500-character one 36 (docs/RELIABILITY.md); 0 = off (default: 20)")
    p.add_argument("--burst", type=int, help="cost units allowed at once (default: twice the rate)")
    p.add_argument("--auth-failures", type=int, default=10,
                   help="failed authentications a minute per client address, then 429 for that address; "
                        "0 = off (default: 10)")
    p.add_argument("--answer-slots", type=int,
                   help="answers computed at once (/v1/ask, /v1/search, /v1/chat/completions); the others wait "
                        "in a queue served round-robin across keys (default: the CPU cores)")
    p.add_argument("--queue", type=int, default=64,
                   help="answering requests waiting for a slot, in all; beyond: 503 busy (default: 64)")
    p.add_argument("--queue-per-key", type=int, default=8,
                   help="answering requests waiting per key (per client address without keys); beyond: "
                        "503 busy (default: 8)")
    p.add_argument("--forwarded-allow-ips", metavar="ADDRESSES",
                   help="proxies whose X-Forwarded-For names the client address (comma-separated addresses "
                        "or networks, * for any; default: $FORWARDED_ALLOW_IPS or 127.0.0.1,::1)")
    p.add_argument("--max-body", type=int, default=64 * 1024, help="request body limit in bytes (default: 65536)")
    p.add_argument("--cache-size", type=int, default=1024,
                   help="answers kept in the LRU answer cache; 0 = off (default: 1024)")
    p.add_argument("--access-log", action="store_true", help="log every request")
    slow = p.add_argument_group("slow clients (see docs/RELIABILITY.md for the reverse proxy in front)")
    slow.add_argument("--header-timeout", type=float, default=10.0,
                      help="seconds a connection has to send a whole request head, from when it opens or its "
                           "last response ends; then it is closed (default: 10)")
    slow.add_argument("--body-timeout", type=float, default=30.0,
                      help="seconds to receive a whole request body; then 408 (default: 30)")
    slow.add_argument("--keep-alive", type=int, default=5,
                      help="seconds an idle keep-alive connection stays open (default: 5)")
    slow.add_argument("--max-connections", type=int, default=256,
                      help="open connections at which new requests get 503 (uvicorn's limit_concurrency; "
                           "lowered to fit the open-file limit) (default: 256)")
    slow.add_argument("--max-header-bytes", type=int, default=16 * 1024,
                      help="bytes of a request head held while it is incomplete; past it 400 (h11's "
                           "max_incomplete_event_size) (default: 16384)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def head_timeout_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline for each request head: a connection that has not sent
    a whole head ``seconds`` after it opened, or after its last response, is closed. uvicorn has no
    such timer: its keep-alive timer stops at the first byte and none runs on a new connection, so a
    client sending a partial head (or nothing) would hold the connection for ever."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadTimeoutH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request head arrived
                self._disarm()

        def handle_websocket_upgrade(self, event: Any) -> None:
            self._disarm()
            super().handle_websocket_upgrade(event)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeadTimeoutH11Protocol


def open_file_limit(wanted: int) -> int | None:
    """The soft limit on open files, raised towards ``wanted`` when the hard limit allows; None when
    there is no limit to read (not on a Unix)."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


def connection_cap(wanted: int, file_limit: int | None) -> int:
    """--max-connections, lowered so that the connections and the server's own files fit the limit."""
    if file_limit is None:
        return wanted
    return max(1, min(wanted, file_limit - FILES_BESIDES_CONNECTIONS))


def cmd_serve(args: argparse.Namespace) -> int:
    # One thread per OpenMP runtime: the embedder and FAISS spin-wait badly when their threads
    # compete with the server's own on a small shared machine (measured: 30 ms vs seconds).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import uvicorn

    from rag.service import Service, stderr_progress
    from rag.surfaces.api import ApiConfig, create_app
    from rag.surfaces.api_backend import Backend
    from rag.surfaces.api_guard import load_keys

    if min(args.rate_limit, args.cache_size, args.auth_failures, args.queue, args.queue_per_key) < 0 \
            or min([args.max_body, *(v for v in (args.burst, args.answer_slots) if v is not None)]) < 1:
        raise RagError("--rate-limit, --auth-failures, --cache-size, --queue and --queue-per-key must be ≥ 0; "
                       "--max-body, --burst and --answer-slots ≥ 1")
    if min(args.header_timeout, args.body_timeout, args.keep_alive) <= 0 or args.max_connections < 1 \
            or args.max_header_bytes < 1024:
        raise RagError("--header-timeout, --body-timeout and --keep-alive must be > 0, --max-connections ≥ 1, "
                       "--max-header-bytes ≥ 1024")
    from rag.surfaces.api_guard import ADMIN_KEYS_ENV
    from rag.surfaces.roles import Roles

    admin_keys = load_keys(variable=ADMIN_KEYS_ENV)
    keys = load_keys(args.keys_file) | admin_keys
    roles = Roles.load(args.roles)
    if not keys and not roles.keys and not is_loopback(args.host):
        if not args.allow_no_auth:
            raise RagError(f"refusing to serve {args.host} without API keys: set RAG_API_KEYS or --keys-file, "
                           "or pass --allow-no-auth to accept that anyone who reaches the port can use it")
        print(f"warning: serving {args.host}:{args.port} with NO authentication (--allow-no-auth)",
              file=sys.stderr, flush=True)
    config = ApiConfig(keys=keys, admin_keys=admin_keys, roles=roles, local_only=not args.allow_no_auth, rate_limit=args.rate_limit, burst=args.burst, max_body=args.max_body,
                       cache_size=args.cache_size, auth_failures=args.auth_failures,
                       answer_slots=args.answer_slots, queue=args.queue, queue_per_key=args.queue_per_key,
                       body_timeout=args.body_timeout)
    backend = Backend(lambda: Service(corpus=args.corpus, index=args.index, embedder=args.embedder,
                                      progress=stderr_progress), cache_size=args.cache_size)
    app = create_app(backend, config)
    auth = (roles.describe() if roles.keys else "no auth (loopback)" if is_loopback(args.host) else "NO AUTH")
    print(f"serving on http://{args.host}:{args.port} — {auth}; /healthz, /readyz, /docs", file=sys.stderr, flush=True)
    cap = connection_cap(args.max_connections,
                         open_file_limit(args.max_connections + FILES_BESIDES_CONNECTIONS))
    if cap < args.max_connections:
        print(f"warning: the open-file limit allows {cap} connections, not --max-connections "
              f"{args.max_connections}; raise it (ulimit -n) to serve more", file=sys.stderr, flush=True)
    # uvicorn wants ::1 without brackets; its access lines are INFO records, silenced at "warning"
    uvicorn.run(app, host=args.host.strip("[]"), port=args.port, log_level="info" if args.access_log else "warning",
                access_log=args.access_log,
                server_header=False, proxy_headers=True, forwarded_allow_ips=args.forwarded_allow_ips,
                http=head_timeout_protocol(args.header_timeout), timeout_keep_alive=args.keep_alive,
                limit_concurrency=cap, h11_max_incomplete_event_size=args.max_header_bytes)
    return 0
