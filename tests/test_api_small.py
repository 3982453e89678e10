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
