"""A bounded LRU of answers, keyed on the caller (API key digest), the question and the conversation
history, tied to one loaded index: when the service swaps in a new index, every answer of the old one
is dropped."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any


def cache_key(question: str, history: list[dict[str, Any]], docs: list[str] | None = None, tenant: str = "") -> str:
    return json.dumps([tenant, question, history, docs], ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class AnswerCache:
    def __init__(self, size: int = 1024) -> None:
        if size < 0:
            raise ValueError("size must be 0 (off) or greater.")
        self.size = size
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._generation: object | None = None  # the service state the entries were computed on
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str, generation: object) -> dict[str, Any] | None:
        if self.size == 0:
            return None
        with self._lock:
            if generation is not self._generation:
                self._entries.clear()
                self._generation = generation
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: str, answer: dict[str, Any], generation: object) -> None:
        """Store an answer computed on ``generation``; dropped if the index changed meanwhile."""
        if self.size == 0:
            return
        with self._lock:
            if generation is not self._generation:
                return
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
