"""Run ``rag serve`` (or another server, such as the web chat's ``app.py``) as a child process on a
free loopback port, wait until it is ready, stop it.

Used by the API tests, the load test and the web chat's latency bench, so that each talks to a real server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``with ServerProcess(["--rate-limit", "0"], env={...}) as server: server.url``; ``program`` is
    the command before ``--host`` and ``--port`` (default: ``rag serve``)."""

    def __init__(self, args: list[str] | None = None, env: dict[str, str] | None = None,
                 cwd: Path | None = None, timeout: float = 120.0, log: Path | None = None,
                 ready_path: str = "/readyz", host: str = "127.0.0.1", program: list[str] | None = None) -> None:
        self.program = program or [sys.executable, "-m", "rag.surfaces.cli", "serve"]
        self.port = free_port()
        self.host = host
        self.url = f"http://{host}:{self.port}"
        self.args, self.cwd, self.timeout, self.log = list(args or []), cwd, timeout, log
        self.ready_path = ready_path  # /healthz: up; /readyz: index loaded
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115 - closed in stop()
        self._out = out
        cmd = [*self.program, "--host", self.host, "--port", str(self.port), *self.args]
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdout=out, stderr=out)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{' '.join(self.program[1:])} exited with {self.proc.returncode}" +
                                   (f"; see {self.log}" if self.log else ""))
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"{' '.join(self.program[1:])} not ready after {self.timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.log and hasattr(self, "_out"):
            self._out.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
