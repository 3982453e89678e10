"""``rag serve --workers N``: N server processes on one port, each with a listening socket of its own
(SO_REUSEPORT), so that the kernel spreads new connections over them by their addresses, rather than
one shared socket that whichever process wakes first drains (asyncio accepts a whole backlog at a
time). Each replica builds its app in its own process after the writer's update. A replica that dies
is replaced; this process only watches them and holds the port."""

from __future__ import annotations

import json
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections import deque
from typing import Any

RESTARTS_PER_MINUTE = 5  # more replacements than this in a minute: something is wrong, stop serving
STOP_SECONDS = 10.0  # a replica gets this long to finish its requests on shutdown


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets that say
    # TCP, and with it on every answer on a keep-alive connection waited ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run_replica(options: str, host: str, port: int) -> None:
    """One replica (a child process): load the published index, then serve on its own socket."""
    import uvicorn

    from rag.surfaces.api_serve import replica_server

    app, settings = replica_server(json.loads(options))
    uvicorn.Server(uvicorn.Config(app, **settings)).run(sockets=[reuse_port_socket(host, port)])


def supervise(workers: int, options: dict[str, Any], host: str, port: int) -> int:
    """Start ``workers`` replicas on ``host:port`` and keep them running until SIGINT or SIGTERM."""
    reserve = reuse_port_socket(host, port)  # holds the port (0: a free one) while replicas come and go
    port = reserve.getsockname()[1]
    spawn = multiprocessing.get_context("spawn")
    payload = json.dumps(options)

    def start() -> multiprocessing.process.BaseProcess:
        process = spawn.Process(target=run_replica, args=(payload, host, port), name="rag-replica")
        process.start()
        return process

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    replicas = [start() for _ in range(workers)]
    replaced: deque[float] = deque()
    code = 0
    while not stopping.wait(0.5):
        for i, process in enumerate(replicas):
            if process.exitcode is None:
                continue
            now = time.monotonic()
            while replaced and now - replaced[0] > 60:
                replaced.popleft()
            if len(replaced) >= RESTARTS_PER_MINUTE:
                print(f"error: replicas exited {len(replaced) + 1} times in a minute; stopping "
                      "(the log above says why)", file=sys.stderr, flush=True)
                stopping.set()
                code = 1
                break
            print(f"warning: replica {process.pid} exited with {process.exitcode}; starting another",
                  file=sys.stderr, flush=True)
            replaced.append(now)
            replicas[i] = start()
    for process in replicas:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    for process in replicas:
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
    reserve.close()
    return code
