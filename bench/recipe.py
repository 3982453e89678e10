"""The pipeline a user would assemble from the LangChain docs: RecursiveCharacterTextSplitter
(500 characters, 50 overlap, default separators), the same embedder, a flat FAISS index, top-k chunks.

FAISS is used directly: IndexFlatL2 is what LangChain's FAISS vector store builds by default, and on
the embedder's unit vectors it ranks exactly as cosine similarity does. No structure, no answer step.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.indexing.embedders import Embedder

ITEM_START = re.compile(r"(?m)^[ \t\u3000\xa0]*(\d{1,3})[.．](?!\d)")


class LangChainEmbeddings(Embeddings):
    """The project's embedder behind LangChain's interface (passage/query roles kept)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


class RecipeHit(NamedTuple):
    text: str
    distance: float
    doc: int  # which input text the chunk was cut from
    start: int  # where in it (LangChain's start_index metadata)


class Recipe:
    def __init__(self, embeddings: Embeddings, chunk_size: int = 500, chunk_overlap: int = 50) -> None:
        self.embeddings = embeddings
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True)
        self.chunks: list[str] = []
        self.origins: list[tuple[int, int]] = []
        self._index = None

    def build(self, texts: list[str]) -> Recipe:
        import faiss

        docs = [(i, d) for i, t in enumerate(texts) for d in self.splitter.create_documents([t])]
        self.chunks = [d.page_content for _, d in docs]
        self.origins = [(i, d.metadata["start_index"]) for i, d in docs]
        vectors = np.asarray(self.embeddings.embed_documents(self.chunks), dtype=np.float32)
        self._index = faiss.IndexFlatL2(vectors.shape[1])
        self._index.add(vectors)
        return self

    def search(self, query: str, k: int = 5) -> list[RecipeHit]:
        vector = np.asarray([self.embeddings.embed_query(query)], dtype=np.float32)
        distances, ids = self._index.search(vector, min(k, len(self.chunks)))
        return [RecipeHit(self.chunks[i], float(d), *self.origins[i]) for d, i in zip(distances[0], ids[0], strict=True) if i >= 0]


def cited_item(chunk: str) -> int | None:
    """The item number a chunk can be cited as: of the items whose start 「N.」 it contains, the one
    with the most of its characters in the chunk. A chunk cut from inside an item shows no number."""
    starts = [(m.start(), int(m.group(1))) for m in ITEM_START.finditer(chunk)]
    if not starts:
        return None
    spans = [(end - start, number) for (start, number), end in
             zip(starts, [s for s, _ in starts[1:]] + [len(chunk)], strict=True)]
    return max(spans, key=lambda s: s[0])[1]
