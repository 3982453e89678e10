"""``rag serve``: options, the no-auth safety check, and uvicorn with limits against slow clients;
``--workers N`` runs N replicas that share the port and read one index (docs/SCALING.md)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import math
import os
import sys
from pathlib import Path
from typing import Any

from rag.errors import RagError

FILES_BESIDES_CONNECTIONS = 32  # the index, logs, the listening socket… (9 open when serving, measured)
WATCH_SECONDS = 1.0  # how often a server looks for an index version published by another process
PATH_OPTIONS = ("corpus", "index", "roles", "keys_file")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    p.add_argument("--workers", type=int, default=1,
                   help="server processes sharing the port, each with the whole index in memory; this process "
                        "updates the index first, then each picks up new versions by itself. Per-second, "
                        "per-minute, queue and connection limits are divided among them (docs/SCALING.md) "
                        "(default: 1)")
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


def check_options(args: argparse.Namespace) -> None:
    if min(args.rate_limit, args.cache_size, args.auth_failures, args.queue, args.queue_per_key) < 0 \
            or min([args.max_body, *(v for v in (args.burst, args.answer_slots) if v is not None)]) < 1:
        raise RagError("--rate-limit, --auth-failures, --cache-size, --queue and --queue-per-key must be ≥ 0; "
                       "--max-body, --burst and --answer-slots ≥ 1")
    if min(args.header_timeout, args.body_timeout, args.keep_alive) <= 0 or args.max_connections < 1 \
            or args.max_header_bytes < 1024:
        raise RagError("--header-timeout, --body-timeout and --keep-alive must be > 0, --max-connections ≥ 1, "
                       "--max-header-bytes ≥ 1024")
    if not 1 <= args.workers <= 64:
        raise RagError("--workers must be between 1 and 64")


def share(total: int | float, workers: int, floor: int = 1) -> Any:
    """One replica's part of a limit: each replica keeps its own counters (no shared store), and
    connections spread over the replicas, so together they allow about ``total``. 0 stays off."""
    if not total or workers == 1:
        return total
    return total / workers if isinstance(total, float) else max(floor, math.ceil(total / workers))


def load_access(args: argparse.Namespace):
    """Admin keys, all keys, and the role file with those keys added (as the app adds them)."""
    from rag.surfaces.api_guard import ADMIN_KEYS_ENV, load_keys
    from rag.surfaces.roles import Roles

    admin_keys = load_keys(variable=ADMIN_KEYS_ENV)
    keys = load_keys(args.keys_file) | admin_keys
    roles = Roles.load(args.roles)
    roles.add_keys(keys - admin_keys, "reader", "configured")
    roles.add_keys(admin_keys, "admin", "configured admin")
    return admin_keys, keys, roles


def make_app(args: argparse.Namespace, replica: bool = False, access=None):
    """The app with its configuration (``access``: load_access's, read here when not given); a
    replica loads the published index before it serves (no build of its own, so never a 503
    'loading' from a replica that is up)."""
    from rag.service import Service, stderr_progress
    from rag.surfaces.api import ApiConfig, create_app
    from rag.surfaces.api_backend import Backend
    from rag.surfaces.api_limits import answer_slots

    n = args.workers
    admin_keys, keys, roles = access or load_access(args)
    burst = args.burst
    if n > 1 and args.rate_limit:  # each replica gets its part of the default burst (twice the rate) too
        burst = share(args.burst or max(1, round(2 * args.rate_limit)), n)
    config = ApiConfig(keys=keys, admin_keys=admin_keys, roles=roles, local_only=not args.allow_no_auth,
                       rate_limit=share(float(args.rate_limit), n), burst=burst,
                       max_body=args.max_body, cache_size=args.cache_size,
                       auth_failures=share(args.auth_failures, n),
                       answer_slots=args.answer_slots or share(answer_slots(), n),
                       queue=share(args.queue, n), queue_per_key=args.queue_per_key, body_timeout=args.body_timeout)
    backend = Backend(lambda: Service(corpus=args.corpus, index=args.index, embedder=args.embedder,
                                      store=args.store, progress=stderr_progress, build=not replica),
                      cache_size=args.cache_size, watch=WATCH_SECONDS)
    if replica:
        backend.load()
    return create_app(backend, config)


def uvicorn_settings(args: argparse.Namespace, connections: int) -> dict[str, Any]:
    """uvicorn's settings: the head deadline, connection cap and keep-alive, quiet logs."""
    # uvicorn wants ::1 without brackets; its access lines are INFO records, silenced at "warning"
    return dict(host=args.host.strip("[]"), port=args.port, log_level="info" if args.access_log else "warning",
                access_log=args.access_log, server_header=False, proxy_headers=True,
                forwarded_allow_ips=args.forwarded_allow_ips, timeout_keep_alive=args.keep_alive,
                h11_max_incomplete_event_size=args.max_header_bytes,
                http=head_timeout_protocol(args.header_timeout), limit_concurrency=connections)


def replica_server(options: dict[str, Any]):
    """The app and uvicorn settings of one replica of ``rag serve --workers N`` (in its process)."""
    args = argparse.Namespace(**{k: Path(v) if k in PATH_OPTIONS and v is not None else v
                                 for k, v in options.items()})
    return make_app(args, replica=True), uvicorn_settings(args, share(args.connections, args.workers))


def cmd_serve(args: argparse.Namespace) -> int:
    # One thread per OpenMP runtime: the embedder and FAISS spin-wait badly when their threads
    # compete with the server's own on a small shared machine (measured: 30 ms vs seconds).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import uvicorn

    from rag.indexing.vectors import StoreSpec

    check_options(args)
    if args.workers > 1 and StoreSpec(args.store).lite:
        raise RagError("Milvus Lite lets one process open its file: serve it with --workers 1, or put the "
                       "vectors in a Milvus server (--store milvus:http://host:19530) for replicas")
    access = load_access(args)
    _, keys, roles = access
    if not keys and not roles.keys and not is_loopback(args.host):
        if not args.allow_no_auth:
            raise RagError(f"refusing to serve {args.host} without API keys: set RAG_API_KEYS or --keys-file, "
                           "or pass --allow-no-auth to accept that anyone who reaches the port can use it")
        print(f"warning: serving {args.host}:{args.port} with NO authentication (--allow-no-auth)",
              file=sys.stderr, flush=True)
    cap = connection_cap(args.max_connections,
                         open_file_limit(args.max_connections + FILES_BESIDES_CONNECTIONS))
    if cap < args.max_connections:
        print(f"warning: the open-file limit allows {cap} connections, not --max-connections "
              f"{args.max_connections}; raise it (ulimit -n) to serve more", file=sys.stderr, flush=True)
    auth = roles.describe() if roles.keys else "no auth (loopback)" if is_loopback(args.host) else "NO AUTH"
    if args.workers == 1:
        app = make_app(args, access=access)
        print(f"serving on http://{args.host}:{args.port} — {auth}; /healthz, /readyz, /docs",
              file=sys.stderr, flush=True)
        uvicorn.run(app, **uvicorn_settings(args, cap))
        return 0
    from rag.surfaces.api_replicas import supervise

    update_index(args)  # the writer's turn before the replicas start: they only read
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "func"}
    print(f"serving on http://{args.host}:{args.port} with {args.workers} workers — {auth}; "
          "/healthz, /readyz, /docs", file=sys.stderr, flush=True)
    return supervise(args.workers, {**options, "connections": cap}, args.host.strip("[]"), args.port)


def update_index(args: argparse.Namespace) -> None:
    """Bring the index up to date once, here, before the replicas load it."""
    from rag.indexing.embedders import make_embedder
    from rag.indexing.vectors import StoreSpec
    from rag.service import build_index, default_corpus, default_index, stderr_progress

    build_index(args.corpus or default_corpus(), args.index or default_index(), make_embedder(args.embedder),
                progress=stderr_progress, vectors=StoreSpec(args.store))


def add_serve_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="run the HTTP API (FastAPI + uvicorn)")
    add_arguments(p)
    p.set_defaults(func=cmd_serve)
