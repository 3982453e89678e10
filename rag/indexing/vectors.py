"""The vector store: what the index needs from a vector engine, and FAISS behind it.

A row's id is its chunk's position in the index version's chunk list. An update deletes the rows of
removed and changed documents, renumbers the rows it keeps to their new positions, and adds the rows
of new and changed documents: one document's change touches only its rows (and the id table).
Search can be restricted to some rows (the chunks of the documents a question is scoped to).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

FLAT_LIMIT = 50_000  # above this many vectors HNSW replaces exact search (flat costs ~12.6 ms per 10⁵)
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # the retriever asks for 50 neighbours; FAISS's default of 16 loses recall


class VectorStore(Protocol):
    """What the index needs from a vector engine (the scale issue adds Milvus behind it)."""

    def add(self, rows: np.ndarray, vectors: np.ndarray) -> None: ...
    def delete(self, rows: Iterable[int]) -> int: ...
    def renumber(self, mapping: dict[int, int]) -> None: ...
    def search(self, vector: np.ndarray, k: int, only: np.ndarray | None = None) -> list[int]: ...
    def describe(self) -> str: ...
    def save(self, path: Path) -> None: ...
    @property
    def size(self) -> int: ...


def only_rows(index: faiss.Index, rows: np.ndarray) -> faiss.SearchParameters:
    """FAISS search parameters that look at ``rows`` only (ids of an IndexIDMap, or positions),
    keeping an HNSW index's efSearch."""
    selector = faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    if isinstance(inner, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=inner.hnsw.efSearch)
    else:
        params = faiss.SearchParameters(sel=selector)
    params._selector = selector  # keep the selector alive as long as the parameters
    return params


class FaissStore:
    """Inner-product search over normalised vectors, by row id: exact (flat) up to FLAT_LIMIT rows,
    HNSW above. A flat index deletes in place; HNSW cannot, so a deletion rebuilds it from the
    vectors it keeps (documented cost: a full HNSW build)."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self.index = index if index is not None else self._empty(dim, hnsw=False)

    @staticmethod
    def _empty(dim: int, hnsw: bool) -> faiss.Index:
        if hnsw:
            inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            inner = faiss.IndexFlatIP(dim)
        return faiss.IndexIDMap2(inner)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def hnsw(self) -> bool:
        return isinstance(faiss.downcast_index(self.index.index), faiss.IndexHNSW)

    def describe(self) -> str:
        if self.hnsw:
            return f"hnsw-ip(M={HNSW_M},efConstruction={HNSW_EF_CONSTRUCTION},efSearch={HNSW_EF_SEARCH})"
        return "flat-ip"

    def rows(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def vectors(self) -> np.ndarray:
        return self.index.index.reconstruct_n(0, self.size) if self.size else np.zeros((0, self.dim), np.float32)

    def add(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        if len(rows) == 0:
            return
        if not self.hnsw and self.size + len(rows) > FLAT_LIMIT:  # grown past exact search
            self._rebuild(self.rows(), self.vectors(), hnsw=True)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(rows, dtype=np.int64))

    def delete(self, rows: Iterable[int]) -> int:
        doomed = np.fromiter(rows, dtype=np.int64)
        if len(doomed) == 0:
            return 0
        if not self.hnsw:
            return int(self.index.remove_ids(faiss.IDSelectorBatch(doomed)))
        keep = ~np.isin(self.rows(), doomed)
        removed = int((~keep).sum())
        self._rebuild(self.rows()[keep], self.vectors()[keep], hnsw=True)
        return removed

    def renumber(self, mapping: dict[int, int]) -> None:
        """Give the kept rows their new ids (every row must be in ``mapping``)."""
        old = self.rows()
        new = np.array([mapping[int(r)] for r in old], dtype=np.int64)
        faiss.copy_array_to_vector(new, self.index.id_map)
        self.index.construct_rev_map()

    @classmethod
    def build(cls, vectors: np.ndarray) -> FaissStore:
        """A store of ``vectors`` with ids 0…n-1: flat up to FLAT_LIMIT rows, HNSW above."""
        store = cls(vectors.shape[1], cls._empty(vectors.shape[1], hnsw=len(vectors) > FLAT_LIMIT))
        store.add(np.arange(len(vectors), dtype=np.int64), vectors)
        return store

    def _rebuild(self, rows: np.ndarray, vectors: np.ndarray, hnsw: bool) -> None:
        self.index = self._empty(self.dim, hnsw=hnsw)
        if len(rows):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), rows)

    def search(self, vector: np.ndarray, k: int, only: np.ndarray | None = None) -> list[int]:
        """Row ids of the ``k`` nearest vectors, among ``only`` when given."""
        params = None if only is None else only_rows(self.index, only)
        _, ids = self.index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k, params=params)
        return [int(i) for i in ids[0] if i >= 0]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> FaissStore:
        index = faiss.read_index(str(path))
        if not isinstance(index, faiss.IndexIDMap2):
            raise ValueError("not a row-addressed FAISS index")
        store = cls(dim, index)
        inner = faiss.downcast_index(index.index)
        if isinstance(inner, faiss.IndexHNSW):  # efSearch is not stored in the file
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        return store
