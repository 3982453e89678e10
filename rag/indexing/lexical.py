"""Chinese tokenization (jieba, with the corpus's unit names and domain terms in its dictionary)
and the sparse BM25 index (bm25s: built once, scored per query without rebuilding)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np

# Question cue words and function words: they say what kind of answer is wanted, not what about.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 由 把 被 对 将 为 以 从 向 于 等 这 那 这个 那个 这些 那些 也 都 还 就
    吗 呢 吧 啊 呀 嘛 哦 么 请问 请 问 一下 告诉 我 我们 你 你们 他们 它 它们 想 知道 查 查询 看看 帮 帮忙
    谁 哪 哪个 哪些 哪家 哪几个 哪几条 什么 啥 怎么 怎样 如何 多少 几 几个 几家 几条 是否 有没有 有 没有 要
    牵头 负责 主抓 挑头 主管 归 管 单位 部门 责任 责任单位 牵头单位 配合 参与 协同 哪些部门 什么时候 何时
    时候 时限 期限 截止 啥时候 多久 之前 以前 条 项 第 部分 内容 讲 说 写 规定 提到 涉及 关于 方面 里 中 上
    一 个 各 其 该 之 所 而 则 但 并 且 又 再 很 最 更 去 来 做 搞 弄 呀 的话 一共 总共 具体 主要 相关 有关""".split()
)
TOKEN = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z]+|\d+")
log = logging.getLogger(__name__)


def domain_terms() -> list[str]:
    text = resources.files("rag.data").joinpath("terms.txt").read_text("utf-8")
    return [t.strip() for t in text.splitlines() if t.strip() and not t.startswith("#")]


class Tokenizer:
    """jieba in search mode with extra dictionary words; a private jieba instance, so adding
    words never changes the global one other code may use."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = None
        for word in list(extra_words) + domain_terms():
            if len(word) >= 2:
                self._jieba.add_word(word, freq=50000)

    def words(self, text: str) -> list[str]:
        out = []
        for piece in TOKEN.findall(text):
            if piece.isascii():
                out.append(piece.lower())
                continue
            out.extend(self._jieba.cut_for_search(piece, HMM=False))
        return out

    def __call__(self, text: str) -> list[str]:
        return [w for w in self.words(text) if w not in STOPWORDS]


class BM25Index:
    """BM25 over pre-tokenized chunks; the sparse matrix is built once and saved as .npy + JSON."""

    def __init__(self, retriever) -> None:
        self._retriever = retriever
        self._vocab = retriever.vocab_dict

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> BM25Index:
        import bm25s

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        retriever.index([t or [""] for t in token_lists], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), show_progress=False, mmap=False))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        known = [t for t in query_tokens if t in self._vocab]
        if not known:
            return np.zeros(self._retriever.scores["num_docs"], dtype=np.float32)
        return self._retriever.get_scores(known)
