"""The vector store: what the index needs from a vector engine, and two engines behind it.

A row's id is its chunk's position in the index version's chunk list; the version's layout
(documents.json) says which rows each document has ({"first", "count", "signature"}). An update
deletes the rows of removed and changed documents, moves the rows it keeps to their new positions,
and adds the rows of new and changed documents: one document's change touches only its rows.
Search can be restricted to some documents (the ones a question is scoped to).

- ``FaissStore`` (default, ``--store faiss``): in process, saved as one file in the index version.
- ``MilvusStore`` (``--store milvus:./rag.db`` for Milvus Lite, ``milvus:http://host:19530`` for a
  server): the vectors live in a Milvus collection; the version folder keeps everything else.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

FLAT_LIMIT = 50_000  # above this many vectors HNSW replaces exact search (flat costs ~12.6 ms per 10⁵)
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# efSearch: on vectors with the structure of real embeddings and real questions as queries
# (docs/STORES.md) recall@10 against exact search is 0.74 at 128, 0.94 at 1024 and 0.97 at 2048 at
# 10⁶ rows (p95 12 ms, one thread); 0.99 at 2048 at 10⁵ (p95 5.7 ms). FAISS's default of 16 finds half.
HNSW_EF_SEARCH = 2048
EXACT_SCOPE = 20_000  # a scoped search over at most this many rows of an HNSW store is exact: the graph,
# filtered to one document's rows, finds a tenth of their true neighbours (docs/STORES.md)
STORE_ENV = "RAG_STORE"
SERVER_SCHEMES = ("http://", "https://", "tcp://")  # a Milvus server; anything else is a Lite file

Layout = dict[str, dict[str, Any]]  # document -> {"first": row, "count": rows, "signature": …}


@dataclass(frozen=True)
class Scope:
    """The documents a search is restricted to, and their rows in the current version."""

    docs: frozenset[str]
    rows: np.ndarray


class VectorStore(Protocol):
    """What the index needs from a vector engine."""

    spec: str  # how the manifest names the store: "faiss", or "milvus:<uri>#<collection>"
    dim: int

    def add(self, layout: Layout, docs: Sequence[str], vectors: np.ndarray) -> None:
        """The rows of ``docs`` (placed as ``layout`` says), ``vectors`` in the same order."""

    def delete(self, layout: Layout, docs: Iterable[str]) -> int:
        """Every row of ``docs`` (placed as ``layout`` says); returns how many went."""

    def relayout(self, before: Layout, after: Layout) -> None:
        """The documents kept from ``before`` now sit where ``after`` says."""

    def search(self, vector: np.ndarray, k: int, scope: Scope | None = None) -> tuple[list[int], list[float]]:
        """Rows of the ``k`` nearest vectors (within ``scope``) and their inner products, best first."""

    def describe(self) -> str: ...

    def save(self, folder: Path) -> None:
        """Persist into the version folder being written (or make the engine durable)."""

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

    spec = "faiss"
    FILE = "vectors.faiss"

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self.index = index if index is not None else self._empty(dim, hnsw=False)
        self._position: np.ndarray | None = None  # row id -> place in the index (for exact scoped search)

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

    def add(self, layout: Layout, docs: Sequence[str], vectors: np.ndarray) -> None:
        self.add_rows(np.array([r for d in docs for r in _rows(layout[d])], dtype=np.int64), vectors)

    def delete(self, layout: Layout, docs: Iterable[str]) -> int:
        return self.delete_rows(r for d in docs for r in _rows(layout[d]))

    def relayout(self, before: Layout, after: Layout) -> None:
        self.renumber({before[d]["first"] + i: after[d]["first"] + i
                       for d in after if d in before for i in range(after[d]["count"])})

    def add_rows(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        self._position = None
        if len(rows) == 0:
            return
        if not self.hnsw and self.size + len(rows) > FLAT_LIMIT:  # grown past exact search
            self._rebuild(self.rows(), self.vectors(), hnsw=True)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(rows, dtype=np.int64))

    def delete_rows(self, rows: Iterable[int]) -> int:
        self._position = None
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
        self._position = None
        old = self.rows()
        new = np.array([mapping[int(r)] for r in old], dtype=np.int64)
        faiss.copy_array_to_vector(new, self.index.id_map)
        self.index.construct_rev_map()

    @classmethod
    def build(cls, vectors: np.ndarray, hnsw: bool | None = None) -> FaissStore:
        """A store of ``vectors`` with ids 0…n-1: flat up to FLAT_LIMIT rows, HNSW above (or as ``hnsw`` says)."""
        hnsw = len(vectors) > FLAT_LIMIT if hnsw is None else hnsw
        store = cls(vectors.shape[1], cls._empty(vectors.shape[1], hnsw=hnsw))
        store.add_rows(np.arange(len(vectors), dtype=np.int64), vectors)
        return store

    def _rebuild(self, rows: np.ndarray, vectors: np.ndarray, hnsw: bool) -> None:
        self.index = self._empty(self.dim, hnsw=hnsw)
        if len(rows):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), rows)

    def search(self, vector: np.ndarray, k: int, scope: Scope | None = None) -> tuple[list[int], list[float]]:
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if scope is not None and self.hnsw and len(scope.rows) <= EXACT_SCOPE:
            return self._exact(query[0], k, scope.rows)
        params = None if scope is None else only_rows(self.index, scope.rows)
        sims, ids = self.index.search(query, k, params=params)
        found = ids[0] >= 0
        return ids[0][found].tolist(), sims[0][found].tolist()

    def _exact(self, query: np.ndarray, k: int, rows: np.ndarray) -> tuple[list[int], list[float]]:
        """The ``k`` nearest of ``rows`` by exact inner product, read from the HNSW index's own
        storage (no copy of the index: its vectors sit in row order of the id map)."""
        if self._position is None:
            ids = self.rows()
            self._position = np.full(int(ids.max()) + 1 if len(ids) else 0, -1, dtype=np.int64)
            self._position[ids] = np.arange(len(ids))
        known = rows[rows < len(self._position)]
        places = self._position[known]
        known, places = known[places >= 0], places[places >= 0]
        storage = faiss.downcast_index(faiss.downcast_index(self.index.index).storage)
        matrix = faiss.rev_swig_ptr(storage.get_xb(), self.size * self.dim).reshape(self.size, self.dim)
        sims = matrix[places] @ query
        top = np.argsort(-sims, kind="stable")[:k]
        return known[top].tolist(), sims[top].tolist()

    def save(self, folder: Path) -> None:
        faiss.write_index(self.index, str(folder / self.FILE))

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


def _rows(entry: dict[str, Any]) -> range:
    return range(entry["first"], entry["first"] + entry["count"])


# -- Milvus ---------------------------------------------------------------------------------------
ROW_BITS = 20  # a row's primary key: its document's key << ROW_BITS | its place in the document
MILVUS_BATCH = 2_000  # rows an insert sends at once (gRPC messages stay far below their 64 MB cap)
MILVUS_SERVER_INDEX = {"index_type": "HNSW", "params": {"M": HNSW_M, "efConstruction": 200}}
MILVUS_SERVER_SEARCH = {"ef": HNSW_EF_SEARCH}  # as FAISS: docs/STORES.md (not measured on a server here)


def document_key(doc_id: str, signature: str) -> int:
    """A document's rows' key base, stable while the document is unchanged (so a kept document's
    rows never move in Milvus, whatever happens to the rows around it) and new when it changes."""
    digest = hashlib.sha1(f"{doc_id}\0{signature}".encode()).digest()
    return int.from_bytes(digest[:5], "big") << ROW_BITS  # 40 + 20 bits: a positive int64


class StoreSpec:
    """Which vector store an index uses, parsed from ``--store`` / RAG_STORE."""

    def __init__(self, raw: str | None) -> None:
        import os

        from rag.errors import RagError

        text = (raw or os.environ.get(STORE_ENV) or "faiss").strip()
        self.kind, self.uri, self.collection = "faiss", "", ""
        if text == "faiss":
            return
        if not text.startswith("milvus:") or len(text) == len("milvus:"):
            raise RagError(f"--store must be faiss, milvus:PATH.db (Milvus Lite) or milvus:http://host:19530, "
                           f"not {text!r}")
        uri, _, self.collection = text[len("milvus:"):].partition("#")
        self.kind = "milvus"
        if uri.startswith(SERVER_SCHEMES):
            self.uri = uri
        elif uri.endswith(".db"):
            self.uri = str(Path(uri).expanduser().resolve())
        else:
            raise RagError(f"--store milvus:{uri}: a Milvus Lite file must end in .db (or give a server URI "
                           "such as milvus:http://localhost:19530)")

    @property
    def lite(self) -> bool:
        return self.kind == "milvus" and not self.uri.startswith(SERVER_SCHEMES)

    def collection_for(self, embedder: str, root: Path) -> str:
        """The collection: as given after '#', else one per index folder and embedder (two indexes,
        or vectors of two models, never share one)."""
        if self.collection:
            return self.collection
        tag = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
        return f"policy_qa_{tag}_" + "".join(c if c.isascii() and c.isalnum() else "_" for c in embedder)[:200]

    def name(self, embedder: str, root: Path) -> str:
        """How a manifest names this store for an index built at ``root`` with ``embedder``."""
        return "faiss" if self.kind == "faiss" else f"milvus:{self.uri}#{self.collection_for(embedder, root)}"

    def accepts(self, stored: str) -> bool:
        """Whether the vectors of an index whose manifest says ``stored`` are in this store (a reader
        on another machine takes the collection from the manifest)."""
        if self.kind == "faiss":
            return stored == "faiss"
        uri, _, collection = stored.removeprefix("milvus:").partition("#")
        return stored.startswith("milvus:") and uri == self.uri and self.collection in ("", collection)


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def milvus_client(uri: str):
    """One client per URI in a process: Milvus Lite lets one process open a file, and a build and
    the service in the same process must share it."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        from rag.errors import RagError

        raise RagError("--store milvus:… needs the milvus extra: pip install -e '.[milvus]'") from None

    with _clients_lock:
        client = _clients.get(uri)
        if client is None:
            client = _clients[uri] = MilvusClient(uri)
        return client


class MilvusStore:
    """Vectors in a Milvus collection: ``pk`` (INT64, the row's stable key), ``doc_id`` (VARCHAR,
    the filter a scoped question uses) and ``vector`` (FLOAT_VECTOR, inner product over normalised
    vectors, i.e. cosine, as FAISS). Milvus Lite builds FLAT (exact) indexes only; on a server the
    collection gets HNSW (MILVUS_SERVER_INDEX). Rows are found by key, so moving a kept document is
    free, and an update deletes and inserts only the changed documents' rows."""

    def __init__(self, spec: StoreSpec, collection: str, dim: int, layout: Layout | None = None) -> None:
        self.uri, self.dim, self.lite, self.collection = spec.uri, dim, spec.lite, collection
        self.spec = f"milvus:{self.uri}#{collection}"
        self.client = milvus_client(self.uri)
        self._where: dict[int, tuple[int, int]] = {}  # document key -> (first row, rows)
        if layout is not None:
            self.relayout({}, layout)

    # -- the collection ----------------------------------------------------------------------------
    def exists(self) -> bool:
        return bool(self.client.has_collection(self.collection))

    def create(self) -> None:
        """A new, empty collection (an old one of the same name is dropped: a full rebuild)."""
        from pymilvus import DataType, MilvusClient

        if self.exists():
            self.client.drop_collection(self.collection)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        index = self.client.prepare_index_params()
        setting = {"index_type": "FLAT", "params": {}} if self.lite else MILVUS_SERVER_INDEX
        index.add_index("vector", metric_type="IP", **setting)
        self.client.create_collection(self.collection, schema=schema, index_params=index,
                                      consistency_level="Strong")

    def open(self) -> None:
        """Check the collection is there with this dimension, and load it for search."""
        from rag.errors import IndexError_

        if not self.exists():
            raise IndexError_(f"Milvus collection {self.collection!r} at {self.uri} is missing")
        fields = {f["name"]: f for f in self.client.describe_collection(self.collection)["fields"]}
        if fields.get("vector", {}).get("params", {}).get("dim") != self.dim or "doc_id" not in fields:
            raise IndexError_(f"Milvus collection {self.collection!r} at {self.uri} is not this index's")
        self.client.load_collection(self.collection)

    @property
    def size(self) -> int:
        return int(self.client.get_collection_stats(self.collection)["row_count"])

    def describe(self) -> str:
        setting = "flat-ip" if self.lite else f"hnsw-ip(M={HNSW_M},efConstruction=200,ef={HNSW_EF_SEARCH})"
        return f"milvus-{setting}"

    # -- rows ------------------------------------------------------------------------------------
    def add(self, layout: Layout, docs: Sequence[str], vectors: np.ndarray) -> None:
        rows: list[dict[str, Any]] = []
        at = 0
        for d in docs:
            entry = layout[d]
            if entry["count"] >= 1 << ROW_BITS:
                raise ValueError(f"{d}: more than {1 << ROW_BITS} chunks in one document")
            base = document_key(d, entry["signature"])
            rows.extend({"pk": base + i, "doc_id": d, "vector": vectors[at + i].tolist()}
                        for i in range(entry["count"]))
            at += entry["count"]
        for start in range(0, len(rows), MILVUS_BATCH):
            self.client.insert(self.collection, rows[start : start + MILVUS_BATCH])

    def delete(self, layout: Layout, docs: Iterable[str]) -> int:
        ranges = [(document_key(d, layout[d]["signature"]), layout[d]["count"]) for d in docs]
        if not ranges:
            return 0
        where = " or ".join(f"(pk >= {base} and pk < {base + count})" for base, count in ranges)
        self.client.delete(self.collection, filter=where)
        return sum(count for _, count in ranges)

    def relayout(self, before: Layout, after: Layout) -> None:
        self._where = {document_key(d, e["signature"]): (e["first"], e["count"]) for d, e in after.items()}

    def save(self, folder: Path) -> None:
        """Seal what was inserted (a growing segment is searched without its index: ~10× slower)."""
        self.client.flush(self.collection)

    # -- search ----------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, scope: Scope | None = None) -> tuple[list[int], list[float]]:
        where = "" if scope is None else "doc_id in " + json.dumps(sorted(scope.docs), ensure_ascii=False)
        params = {"metric_type": "IP", "params": {} if self.lite else MILVUS_SERVER_SEARCH}
        found = self.client.search(self.collection, data=[np.asarray(vector, dtype=np.float32).tolist()],
                                   limit=k, filter=where, output_fields=["pk"], search_params=params)[0]
        rows, sims = [], []
        for hit in found:
            pk = int(hit["pk"])
            offset = pk & ((1 << ROW_BITS) - 1)
            place = self._where.get(pk - offset)
            if place is None or offset >= place[1]:
                continue  # a row of another version (a writer elsewhere is mid-update)
            rows.append(place[0] + offset)
            sims.append(float(hit["distance"]))
        return rows, sims


def new_store(spec: StoreSpec, embedder: str, dim: int, root: Path) -> VectorStore:
    """An empty store for a full build of the index at ``root`` (a Milvus collection is created afresh)."""
    if spec.kind == "faiss":
        return FaissStore(dim)
    store = MilvusStore(spec, spec.collection_for(embedder, root), dim)
    store.create()
    return store
