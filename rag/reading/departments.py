"""Department names: an alias table built from the corpus, and lookup of names inside free text.

Canonical names are the corpus's own longest spelling. Quotes always keep the original text;
only answers and lookups use canonical names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from importlib import resources

LEVEL_PREFIXES = ("市", "省", "县", "区")
SUB_UNITS = ("分局", "支队", "大队", "中队", "分队", "分中心")
LEVEL_RANK = {"市": 0, "县": 1, "区": 2, "省": 3}
GENERIC_UNITS = ("各行业领域主管部门",)
STEM_FOLLOWERS = "(?=那边|这边|部门|口子|牵头|配合|参与)"  # not 方面 or 这块: 「交通方面」 is a topic


def _load_short_forms() -> dict[str, list[str]]:
    raw = json.loads(resources.files("rag.data").joinpath("aliases.json").read_text("utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _abbreviates(short: str, long: str) -> bool:
    """``short`` is a Chinese abbreviation of ``long`` (市安委办 of 市安全生产委员会办公室)."""
    if len(short) >= len(long) or short[:2] != long[:2] or not _is_subsequence(short, long):
        return False
    if long.startswith(short) and short[-1] in "局厅委" and long != short + "员会":
        return False  # 市公安局交警支队 is a part of 市公安局, not its full name
    if long.endswith(SUB_UNITS) and not short.endswith(long[-2:]):
        return False  # 市自然资源和规划局示范区分局 is a branch, not 市自然资源规划局 written out
    same_kind = short[-1] == long[-1] or (short.endswith("办") and long.endswith("办公室"))
    return same_kind


def _undouble(name: str, names: set[str]) -> str:
    """A doubled level prefix left by extraction: 市市市场监管局 -> 市市场监管局."""
    if len(name) > 3 and name[0] == name[1] and name[0] in LEVEL_PREFIXES and name[1:] in names:
        return name[1:]
    return name


def _full_name(name: str, longest_first: list[str]) -> str:
    for other in longest_first:
        if _abbreviates(name, other):
            return other
    return name


class Directory:
    """Every unit name the corpus uses, its canonical form, and the aliases users may type."""

    def __init__(self, written_names: Iterable[str], preferred: Iterable[str] = ()) -> None:
        written = set(written_names)
        self._written = frozenset(written)
        undoubled = {name: _undouble(name, written) for name in written}
        clean = sorted(set(undoubled.values()), key=lambda n: (-len(n), n))
        self._canonical: dict[str, str] = {
            name: _full_name(undoubled[name], clean) for name in written
        }
        self.canonical_names: tuple[str, ...] = tuple(sorted(set(self._canonical.values())))
        self._aliases: dict[str, str] = dict(self._canonical)
        self._preferred = {self._canonical.get(n, n) for n in preferred}
        self._add_user_aliases()
        # 「市场监管那边」「教育部门」: a name without its 局, followed by a word that makes it a unit
        self._stems = {a[:-1].removeprefix("市"): c for a, c in self._aliases.items()
                       if a.endswith(("局", "委")) and len(a[:-1].removeprefix("市")) >= 2}
        self._stems = {stem: c for stem, c in self._stems.items() if stem not in self._aliases}
        forms = [(re.escape(a), len(a)) for a in self._aliases]
        forms += [(re.escape(stem) + STEM_FOLLOWERS, len(stem)) for stem in self._stems]
        # 应急局长 is a person, not the bureau
        self._pattern = re.compile(
            "(?:" + "|".join(f for f, _ in sorted(forms, key=lambda f: -f[1])) + ")(?!长)"
        ) if self._aliases else None

    def preferring(self, names: Iterable[str]) -> Directory:
        """The same directory, where a short name two units share (应急管理局: 市… and 区…) means the
        one among ``names`` (one document's units) first."""
        return Directory(self._written, preferred=names)

    def _rank(self, canonical: str) -> tuple[int, int, str]:
        """Who gets a shared short name: the preferred document's units, then by level 市 县 区 省."""
        return (canonical not in self._preferred, LEVEL_RANK.get(canonical[:1], len(LEVEL_RANK)), canonical)

    def _add_user_aliases(self) -> None:
        short_forms = _load_short_forms()
        spellings: dict[str, list[str]] = {}
        for written, canonical in self._canonical.items():
            spellings.setdefault(canonical, []).append(written)
        for canonical in sorted(self.canonical_names, key=self._rank):
            prefix, base = canonical[0], canonical[1:]
            if prefix not in LEVEL_PREFIXES:
                continue
            if len(base) >= 3:
                self._aliases.setdefault(base, canonical)
            for written in sorted(spellings.get(canonical, ())):  # 市场监管局 of 市市场监管局 too
                if written[:1] == prefix and len(written) >= 4:
                    self._aliases.setdefault(written[1:], canonical)
                    for short in short_forms.get(written[1:], ()):
                        self._aliases.setdefault(prefix + short, canonical)
                        self._aliases.setdefault(short, canonical)
            for short in short_forms.get(base, ()):
                self._aliases.setdefault(prefix + short, canonical)
                self._aliases.setdefault(short, canonical)
            # 城管局 of 城管执法局, 市场局 of 市场监管局: a name without the two characters before its suffix
            if base[-1:] in ("局", "委") and len(base) >= 5:
                self._aliases.setdefault(base[:-3] + base[-1], canonical)
            # 消防队 of 消防救援支队: a 支队/大队 by its first two characters and 队
            if base.endswith(("支队", "大队")) and len(base) >= 5:
                self._aliases.setdefault(base[:2] + "队", canonical)

    def canonical(self, name: str) -> str:
        return self._canonical.get(name, name)

    def lookup(self, alias: str) -> str | None:
        return self._aliases.get(alias)

    def find(self, text: str) -> list[str]:
        """Canonical names of the departments mentioned in ``text``, in order of appearance."""
        if self._pattern is None:
            return []
        found: list[str] = []
        for match in self._pattern.finditer(text):
            name = self._aliases.get(match.group(0)) or self._stems[match.group(0)]
            if name not in found:
                found.append(name)
        return found

    def mentions(self, text: str) -> list[str]:
        """The department names in ``text`` as written there (应急局, 市民政局 …)."""
        return [m.group(0) for m in self._pattern.finditer(text)] if self._pattern else []

    def aliases_of(self, canonical: str) -> list[str]:
        return sorted(a for a, c in self._aliases.items() if c == canonical and a != canonical)

    def all_aliases(self) -> list[str]:
        return list(self._aliases)
