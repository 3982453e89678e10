"""Who may use the service, and as what: one role configuration for the HTTP API's keys and the web
chat's logins.

A role is ``reader`` (ask, search, browse) or ``admin`` (also add, replace and remove documents and
rebuild the index). The configuration is a TOML file, given by ``--roles FILE`` or ``RAG_ROLES`` to
both ``rag serve`` and ``app.py``::

    [[key]]                       # an API key: 'Authorization: Bearer <key>'
    name = "helpdesk"             # shown in messages, never the key
    sha256 = "9f86d0…"            # of the key: rag roles hash-key
    role = "reader"

    [[login]]                     # a web chat account
    user = "zhang.wei"
    password = "scrypt:16384:8:1:<salt>:<hash>"   # rag roles hash-password
    role = "admin"

Only digests are stored: keys as sha256 (they are long and random), passwords as scrypt (they are
not). The older settings still work and add to the file: ``RAG_API_KEYS`` and ``--keys-file`` are
reader keys, ``RAG_API_ADMIN_KEYS`` admin keys, and ``app.py --auth user:pass`` an admin login.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from rag.errors import RagError

ROLES_ENV = "RAG_ROLES"
ROLES = ("reader", "admin")
SCRYPT = (2**14, 8, 1)  # n, r, p: about 16 MiB and 50 ms a check
MIN_KEY = 8


@dataclass(frozen=True)
class Principal:
    """A caller the configuration knows: its name (never its secret) and its role."""

    name: str
    role: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The form a login's password is stored in: ``scrypt:n:r:p:<salt hex>:<hash hex>``."""
    n, r, p = SCRYPT
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20)
    return f"scrypt:{n}:{r}:{p}:{salt.hex()}:{digest.hex()}"


def _check_password(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split(":")
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                         maxmem=64 * 2**20)
    return hmac.compare_digest(got, bytes.fromhex(digest))


def _valid_scrypt(stored: str) -> bool:
    parts = stored.split(":")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(x.isdigit() for x in parts[1:4]):
        return False
    try:
        return len(bytes.fromhex(parts[4])) >= 8 and len(bytes.fromhex(parts[5])) >= 16
    except ValueError:
        return False


@dataclass
class Roles:
    """API keys (by sha256) and web logins (by scrypt), each with its principal."""

    keys: dict[str, Principal] = field(default_factory=dict)
    logins: dict[str, tuple[str, Principal]] = field(default_factory=dict)

    @cached_property
    def _dummy(self) -> str:
        """What an unknown user's password is checked against: made on the first failed name, not at start."""
        return hash_password(secrets.token_hex(8))

    @classmethod
    def load(cls, path: Path | None = None) -> Roles:
        """The file (or ``$RAG_ROLES``), plus the older key variables; a clear RagError when invalid."""
        roles = cls()
        path = path or (Path(os.environ[ROLES_ENV]) if os.environ.get(ROLES_ENV) else None)
        if path is not None:
            roles._read(Path(path))
        return roles

    def _read(self, path: Path) -> None:
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise RagError(f"cannot read the roles file {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise RagError(f"the roles file {path} is not valid TOML: {exc}") from None
        unknown = set(data) - {"key", "login"}
        if unknown:
            raise RagError(f"the roles file {path} has unknown tables: {', '.join(sorted(unknown))} "
                           "(expected [[key]] and [[login]])")
        for n, entry in enumerate(data.get("key", []), 1):
            where = f"{path}: [[key]] number {n}"
            role = self._role(entry, where)
            digest = entry.get("sha256")
            if "key" in entry:
                digest = key_digest(self._key(str(entry["key"]), where))
            if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise RagError(f"{where} needs sha256 = \"<64 hex digits>\" (rag roles hash-key) or key = \"…\"")
            self.add_key_digest(digest, Principal(str(entry.get("name") or f"key {n}"), role))
        for n, entry in enumerate(data.get("login", []), 1):
            where = f"{path}: [[login]] number {n}"
            role = self._role(entry, where)
            user, stored = entry.get("user"), entry.get("password")
            if not isinstance(user, str) or not user.strip():
                raise RagError(f"{where} needs user = \"…\"")
            if not isinstance(stored, str) or not _valid_scrypt(stored):
                raise RagError(f"{where} needs password = \"scrypt:…\" (from: rag roles hash-password)")
            if user in self.logins:
                raise RagError(f"{where}: the user {user!r} is configured twice")
            self.logins[user] = (stored, Principal(user, role))

    @staticmethod
    def _role(entry: object, where: str) -> str:
        if not isinstance(entry, dict):
            raise RagError(f"{where} is not a table")
        role = entry.get("role", "reader")
        if role not in ROLES:
            raise RagError(f"{where} has role {role!r}; a role is one of: {', '.join(ROLES)}")
        return role

    @staticmethod
    def _key(key: str, where: str) -> str:
        if len(key) < MIN_KEY or any(ch.isspace() for ch in key):
            raise RagError(f"{where}: API keys must be at least {MIN_KEY} characters with no spaces")
        return key

    def add_keys(self, keys: frozenset[str] | set[str], role: str, source: str) -> None:
        for n, key in enumerate(sorted(keys), 1):
            self.add_key_digest(key_digest(self._key(key, source)), Principal(f"{source} key {n}", role))

    def add_key_digest(self, digest: str, who: Principal) -> None:
        known = self.keys.get(digest)
        if known is None or who.admin:  # a key listed as reader and admin is an admin key
            self.keys[digest] = who

    def add_login(self, user: str, password: str, role: str = "admin") -> None:
        self.logins[user] = (hash_password(password), Principal(user, role))

    def key(self, token: str) -> Principal | None:
        """The principal of an API key."""
        return self.by_digest(key_digest(token))

    def by_digest(self, digest: str) -> Principal | None:
        """The principal of a key's sha256, compared against every known digest in constant time."""
        got = digest.encode()
        found = None
        for digest, who in self.keys.items():
            if hmac.compare_digest(digest.encode(), got):
                found = who
        return found

    def login(self, user: str, password: str) -> Principal | None:
        """The principal of a web login; an unknown user costs the same scrypt as a known one."""
        stored, who = self.logins.get(user, (self._dummy, None))
        ok = _check_password(password, stored)
        return who if ok and who is not None else None

    def describe(self) -> str:
        admin_keys = sum(p.admin for p in self.keys.values())
        admin_logins = sum(p.admin for _, p in self.logins.values())
        return (f"{len(self.keys)} API key(s) ({admin_keys} admin), "
                f"{len(self.logins)} web login(s) ({admin_logins} admin)")
