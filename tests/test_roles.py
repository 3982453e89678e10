"""One role configuration for the API's keys and the web chat's logins: a reader may ask, an admin
may also change the corpus and the index; the same file serves `rag serve` and app.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from rag.errors import RagError
from rag.surfaces import chatview
from rag.surfaces.api import ApiConfig, create_app
from rag.surfaces.api_backend import Backend
from rag.surfaces.roles import Roles, _check_password, hash_password, key_digest

ROOT = Path(__file__).resolve().parents[1]
READER, ADMIN = "reader-key-0123456789", "admin-key-0123456789"


def _roles_file(tmp_path: Path) -> Path:
    path = tmp_path / "roles.toml"
    path.write_text(f"""
[[key]]
name = "helpdesk"
sha256 = "{key_digest(READER)}"
role = "reader"

[[key]]
name = "operator"
key = "{ADMIN}"
role = "admin"

[[login]]
user = "clerk"
password = "{hash_password("desk-pass")}"

[[login]]
user = "chief"
password = "{hash_password("chief-pass")}"
role = "admin"
""", "utf-8")
    return path


def test_keys_and_logins_get_their_roles(tmp_path):
    roles = Roles.load(_roles_file(tmp_path))
    assert roles.key(READER).role == "reader" and roles.key(ADMIN).role == "admin"
    assert roles.key("unknown-key-012345") is None
    assert roles.login("clerk", "desk-pass").role == "reader"  # role defaults to reader
    assert roles.login("chief", "chief-pass").admin
    assert roles.login("chief", "desk-pass") is None and roles.login("nobody", "desk-pass") is None
    assert READER not in _roles_file(tmp_path).read_text("utf-8")  # only its digest is stored


def test_the_environment_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_ROLES", str(_roles_file(tmp_path)))
    assert Roles.load().key(ADMIN).admin


@pytest.mark.parametrize(("text", "message"), [
    ('[[key]]\nsha256 = "abc"\n', "sha256"),
    ('[[key]]\nkey = "short"\n', "at least 8"),
    ('[[key]]\nkey = "long-enough-key"\nrole = "owner"\n', "role 'owner'"),
    ('[[login]]\nuser = "a"\npassword = "plain text"\n', "scrypt"),
    ('[[login]]\npassword = "x"\n', 'user = '),
    ('[[user]]\nname = "a"\n', "unknown tables"),
    ('[[key]\n', "not valid TOML"),
])
def test_a_bad_roles_file_is_one_clear_line(tmp_path, text, message):
    path = tmp_path / "roles.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(RagError, match=message) as info:
        Roles.load(path)
    assert "\n" not in str(info.value)


def test_a_missing_roles_file_is_one_clear_line(tmp_path):
    with pytest.raises(RagError, match="cannot read the roles file"):
        Roles.load(tmp_path / "none.toml")


@pytest.fixture(scope="module")
def backend(service) -> Backend:
    return Backend.of(service)


def test_the_api_gives_each_key_its_role(backend, tmp_path):
    app = create_app(backend, ApiConfig(roles=Roles.load(_roles_file(tmp_path)), rate_limit=0))

    async def run() -> dict[str, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=60) as client:
            def auth(key):
                return {"Authorization": f"Bearer {key}"}
            out = {}
            out["reader asks"] = (await client.post("/v1/ask", json={"question": "燃气谁牵头?"},
                                                    headers=auth(READER))).status_code
            out["reader deletes"] = (await client.delete("/v1/documents/none.txt", headers=auth(READER))).status_code
            out["admin deletes"] = (await client.delete("/v1/documents/none.txt", headers=auth(ADMIN))).status_code
            out["unknown key"] = (await client.post("/v1/ask", json={"question": "燃气谁牵头?"},
                                                    headers=auth("unknown-key-012345"))).status_code
            return out

    import asyncio

    got = asyncio.run(run())
    # a reader is refused before anything is looked up; an admin gets as far as "no such document"
    assert got == {"reader asks": 200, "reader deletes": 403, "admin deletes": 404, "unknown key": 401}


def test_the_web_chat_logs_in_from_the_same_file(tmp_path):
    login = chatview.Login(Roles.load(_roles_file(tmp_path)))
    assert login("chief", "chief-pass") and login.role("chief") == "admin"
    assert login("clerk", "desk-pass") and login.role("clerk") == "reader"
    assert not login("clerk", "chief-pass") and login.role("nobody") is None


def test_rag_roles_hashes_secrets_and_checks_a_file(tmp_path):
    rag = [sys.executable, "-m", "rag.surfaces.cli", "roles"]
    key = subprocess.run([*rag, "hash-key"], input=READER + "\n", capture_output=True, text=True, cwd=ROOT)
    assert key.returncode == 0 and key.stdout.strip() == f'sha256 = "{key_digest(READER)}"'
    password = subprocess.run([*rag, "hash-password"], input="pw\n", capture_output=True, text=True, cwd=ROOT)
    stored = password.stdout.strip().removeprefix('password = "').removesuffix('"')
    assert _check_password("pw", stored) and not _check_password("pw2", stored)
    check = subprocess.run([*rag, "check", str(_roles_file(tmp_path))], capture_output=True, text=True, cwd=ROOT)
    assert check.returncode == 0 and "2 API key(s) (1 admin), 2 web login(s) (1 admin)" in check.stdout
    assert ADMIN not in check.stdout
    short = subprocess.run([*rag, "hash-key"], input="short\n", capture_output=True, text=True, cwd=ROOT)
    assert short.returncode == 2 and short.stderr.count("\n") == 1
