"""Replicas: `rag serve --workers 2` on loopback answers while another process (`rag index`, the
single writer) publishes new index versions, and every replica picks each version up without a
restart and without an error."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
NEW_DOCUMENT = ROOT / "tests" / "fixtures" / "layouts" / "three-level.txt"
QUESTIONS = ["燃气安全由谁牵头?", "市民政局负责哪些工作?", "第5条讲了什么?", "双控机制建设什么时候完成?"]


def versions_by_worker(url: str, workers: int, until, deadline: float = 90.0, after_a_crash: bool = False) -> dict[int, str]:
    """Ask /readyz on new connections until every worker has answered and ``until`` holds for each
    worker's latest index version. ``after_a_crash``: a connection the kernel had queued at the
    killed replica's socket is reset when that socket closes; that one is asked again."""
    seen: dict[int, str] = {}
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        try:
            ready = httpx.get(url + "/readyz", timeout=10).json()
        except httpx.ReadError:
            if not after_a_crash:
                raise
            continue
        seen[ready["worker"]] = ready["version"]
        if len(seen) == workers and all(until(v) for v in seen.values()):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"not every worker reached the version in {deadline:.0f} s: {seen}")


def rag(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "rag.surfaces.cli", *args], check=True, capture_output=True, timeout=300)


def test_two_workers_pick_up_each_new_index_version_under_load_without_an_error(service, home, tmp_path):
    shutil.copytree(home / "corpus", tmp_path / "corpus")
    shutil.copytree(home / "index", tmp_path / "index")  # built by the session's service: no embedding here
    where = ["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")]
    statuses: list[int] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        with httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as http:
            i = offset
            while not stop.is_set():
                r = http.post(url + "/v1/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                statuses.append(r.status_code)
                i += 1

    with ServerProcess(["--workers", "2", "--rate-limit", "0", "--cache-size", "0", *where],
                       cwd=ROOT, log=tmp_path / "serve.log") as server:
        url = server.url
        first = versions_by_worker(url, 2, lambda v: True)
        assert len(set(first.values())) == 1
        clients = [threading.Thread(target=client, args=(n,)) for n in range(3)]
        for t in clients:
            t.start()
        try:
            shutil.copy(NEW_DOCUMENT, tmp_path / "corpus" / NEW_DOCUMENT.name)
            rag("index", *where)  # the writer: another process
            added = versions_by_worker(url, 2, lambda v: v not in first.values())
            assert len(set(added.values())) == 1
            docs = httpx.get(url + "/v1/documents", timeout=10).json()
            assert NEW_DOCUMENT.name in {d["id"] for d in docs["documents"]}
            (tmp_path / "corpus" / NEW_DOCUMENT.name).unlink()
            rag("index", *where)
            versions_by_worker(url, 2, lambda v: v not in first.values() and v not in added.values())
        finally:
            stop.set()
            for t in clients:
                t.join(timeout=60)
    assert len(statuses) >= 20 and set(statuses) == {200}, f"{len(statuses)} answers: {set(statuses)}"


def test_milvus_lite_is_refused_for_several_workers_with_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rag.surfaces.cli", "serve", "--workers", "2", "--port", "0",
                           "--store", f"milvus:{tmp_path / 'x.db'}"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Milvus Lite lets one process open its file" in lines[0]


@pytest.mark.parametrize("total, workers, part", [
    (20.0, 2, 10.0), (10, 2, 5), (7, 2, 4), (64, 3, 22), (0, 2, 0), (1, 4, 1), (40.0, 1, 40.0),
])
def test_limits_are_divided_among_the_workers(total, workers, part):
    from rag.surfaces.api_serve import share

    assert share(total, workers) == part


def test_a_replica_that_dies_is_replaced(service, home, tmp_path):
    import os
    import signal

    where = ["--corpus", str(home / "corpus"), "--index", str(home / "index")]
    with ServerProcess(["--workers", "2", *where], cwd=ROOT, log=tmp_path / "serve.log") as server:
        before = versions_by_worker(server.url, 2, lambda v: True)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        after = versions_by_worker(server.url, 2, lambda v: True, deadline=120, after_a_crash=True)
        assert victim not in after and len(after) == 2
        assert httpx.post(server.url + "/v1/ask", json={"question": QUESTIONS[0]}, timeout=30).status_code == 200
    assert "exited with -9; starting another" in (tmp_path / "serve.log").read_text("utf-8")


def test_a_replica_socket_says_tcp_so_that_answers_are_not_held_back_by_nagle():
    """asyncio sets TCP_NODELAY only on sockets whose protocol is TCP; with 0 every answer on a
    keep-alive connection waited for a delayed ACK (~40 ms)."""
    import socket

    from rag.surfaces.api_replicas import reuse_port_socket

    sock = reuse_port_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        sock.close()


def test_the_writer_lock_excludes_a_second_writer_and_leaves_a_read_only_index_readable(tmp_path):
    import fcntl

    from rag.service import writer_lock

    with writer_lock(tmp_path / "index"):
        with open(tmp_path / "index" / ".writer.lock", "a+b") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what another process's writer would meet
    with open(tmp_path / "index" / ".writer.lock", "a+b") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again afterwards
    (tmp_path / "file").write_text("x")
    ran = []
    with writer_lock(tmp_path / "file" / "index"):  # cannot be created: as on a read-only mount
        ran.append(True)
    assert ran == [True]
