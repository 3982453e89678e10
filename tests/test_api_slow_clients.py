"""Slow and idle clients against a real ``rag serve`` (uvicorn) on a free loopback port, through raw
sockets: request heads and bodies have deadlines, and past the connection cap requests get 503.
The servers load no index (their corpus is missing), so they start in seconds; the waits here are
the server's own timeouts, with generous bounds for a busy machine."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.surfaces.api_process import ServerProcess
from rag.surfaces.api_serve import connection_cap

ROOT = Path(__file__).resolve().parents[1]
KEY = "slow-test-key-0123456789"
BOUND = 15.0  # seconds a test waits for the server to act on a 1 s timeout


def _serve(tmp_path: Path, *options: str) -> ServerProcess:
    args = ["--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "index"), *options]
    return ServerProcess(args, env={"RAG_API_KEYS": KEY}, cwd=ROOT, log=tmp_path / "serve.log", ready_path="/healthz")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    with _serve(tmp_path_factory.mktemp("slow"), "--header-timeout", "1", "--body-timeout", "1",
                "--keep-alive", "1") as srv:
        yield srv


def _connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=BOUND)


def _closed_by_server(sock: socket.socket) -> bool:
    """Read until the server closes the connection (True) or BOUND passes (False)."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            if sock.recv(65536) == b"":
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
    return False


def _response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length, read from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def test_a_silent_connection_is_closed(server: ServerProcess) -> None:
    with _connect(server) as sock:
        assert _closed_by_server(sock)


def test_a_partial_request_head_is_closed(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        assert _closed_by_server(sock)
        assert time.monotonic() - started < BOUND


def test_a_trickled_request_head_is_closed(server: ServerProcess) -> None:
    """One byte of header every 0.1 s keeps the connection busy, not alive: the deadline is for the whole head."""
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sock.settimeout(0.1)
        sent, closed = 0, False
        while not closed and sent < BOUND / 0.1:
            try:
                sock.sendall(b"x")
                sent += 1
                closed = sock.recv(65536) == b""
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        assert closed and sent < BOUND / 0.1


def test_an_idle_keep_alive_connection_is_closed_and_a_later_head_has_its_deadline(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(_get("/healthz"))
        assert _response(sock)[0] == 200
        assert _closed_by_server(sock)  # keep-alive: 1 s
    with _connect(server) as sock:
        sock.sendall(_get("/healthz"))
        assert _response(sock)[0] == 200
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request's head, never finished
        assert _closed_by_server(sock)


def test_a_slow_body_gets_408(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(f"POST /v1/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"question\":".encode())
        status, headers, body = _response(sock)
        assert status == 408 and headers["content-type"] == "application/json"
        assert b'"body_timeout"' in body
        assert _closed_by_server(sock)


def test_an_unfinished_head_over_the_size_limit_is_refused(server: ServerProcess) -> None:
    """h11 buffers at most --max-header-bytes (16 KiB) of a head it cannot parse yet."""
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"x" * 20_000)
        assert _response(sock)[0] == 400
        assert _closed_by_server(sock)


def test_the_server_still_answers(server: ServerProcess) -> None:
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_connections_beyond_the_cap_get_503(tmp_path: Path) -> None:
    """With --max-connections 10, nine open (idle, kept alive) connections leave room for none more:
    uvicorn counts the connection asking too. Once they close, requests are served again."""
    with _serve(tmp_path, "--max-connections", "10", "--header-timeout", "60", "--keep-alive", "60") as srv:
        socks, statuses = [], []
        try:
            for _ in range(12):
                sock = socket.create_connection(("127.0.0.1", srv.port), timeout=BOUND)
                socks.append(sock)
                sock.sendall(_get("/healthz"))
                statuses.append(_response(sock)[0])  # answered: the server has counted this connection
        finally:
            for sock in socks:
                sock.close()
        assert statuses == [200] * 9 + [503] * 3
        deadline = time.monotonic() + BOUND
        while httpx.get(f"{srv.url}/healthz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_the_connection_cap_fits_the_open_file_limit() -> None:
    assert connection_cap(256, None) == 256
    assert connection_cap(256, 20_000) == 256
    assert connection_cap(256, 200) == 200 - 32  # the server's own files come first
    assert connection_cap(256, 10) == 1


def test_serve_passes_the_limits_to_uvicorn(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    from rag.surfaces.cli import main

    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    monkeypatch.setenv("RAG_API_KEYS", KEY)
    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append(kw))  # nothing binds in this test
    assert main(["serve", "--max-connections", "50", "--keep-alive", "3", "--header-timeout", "4"]) == 0
    kw = runs[0]
    assert (kw["limit_concurrency"], kw["timeout_keep_alive"], kw["h11_max_incomplete_event_size"]) == (50, 3, 16384)
    assert kw["http"].__name__ == "HeadTimeoutH11Protocol" and kw["proxy_headers"] is True
    for bad in (["--queue", "-1"], ["--answer-slots", "0"], ["--burst", "0"], ["--header-timeout", "0"],
                ["--max-connections", "0"], ["--auth-failures", "-1"]):
        assert main(["serve", *bad]) == 2, bad
    assert len(runs) == 1 and "must be" in capsys.readouterr().err
