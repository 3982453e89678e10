"""Smaller defects of the serving and command surfaces: an IPv6 loopback host, the access log, and a
folder the user may not write."""

from __future__ import annotations

from pathlib import Path

import httpx

from rag.surfaces import cli
from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]


def test_ipv6_loopback_serves_and_the_access_log_has_the_requests(service, home, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    args = ["--corpus", str(home / "corpus"), "--index", str(home / "index"), "--access-log"]
    with ServerProcess(args, cwd=tmp_path, log=log, host="[::1]") as srv:
        assert srv.url.startswith("http://[::1]:")
        assert httpx.get(f"{srv.url}/healthz", timeout=10).status_code == 200
    assert "GET /healthz" in log.read_text("utf-8", errors="replace")


def test_a_folder_without_permission_is_one_clear_line(monkeypatch, capsys) -> None:
    def denied(args):
        raise PermissionError(13, "Permission denied", "/srv/rag/index/.build-x")

    monkeypatch.setattr(cli, "cmd_index", denied)
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    for action in parser._subparsers._group_actions[0].choices.values():  # route `index` to the stub
        if action.get_default("func") is not None and action.get_default("func").__name__ == "cmd_index":
            action.set_defaults(func=denied)
    assert cli.main(["index"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no permission to write or read /srv/rag/index/.build-x" in err


def test_readyz_tells_no_folder_names_to_a_client_without_a_key() -> None:
    import asyncio

    from rag.errors import RagError
    from rag.surfaces.api import create_app
    from rag.surfaces.api_backend import Backend

    def load():
        raise RagError("corpus folder /home/clerk/private/corpus does not exist")

    backend = Backend(load)
    backend.load()

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(backend))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get("/readyz")

    r = asyncio.run(get())
    assert r.status_code == 503 and r.json()["error"]["code"] == "load_failed"
    message = r.json()["error"]["message"]
    assert "/home/clerk" not in message and "corpus folder corpus does not exist" in message
