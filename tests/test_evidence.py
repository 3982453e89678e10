"""The typo check behind title matching: the regex form says what the plain window scan says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answering.evidence import _near_copy

ALPHABET = "燃气安全牵头单位a^]\\.*-[ "


def window_scan(word: str, text: str) -> bool:
    """Some window of ``text`` differs from ``word`` in exactly one character."""
    n = len(word)
    return any(sum(a != b for a, b in zip(word, text[i : i + n], strict=True)) == 1 for i in range(len(text) - n + 1))


@settings(max_examples=3000, deadline=None)
@given(st.text(ALPHABET, max_size=6), st.text(ALPHABET, max_size=14))
def test_near_copy_is_the_window_scan(word: str, text: str) -> None:
    assert _near_copy(word, text) == window_scan(word, text)


def test_near_copy_examples() -> None:
    assert _near_copy("特种设备", "特种设被的检验由谁负责")  # one character replaced
    assert not _near_copy("特种设备", "特种设备的检验由谁负责")  # the word itself is not a typo of it
    assert not _near_copy("特种设备", "特殊设被")  # two replaced
    assert not _near_copy("", "任何文字")
