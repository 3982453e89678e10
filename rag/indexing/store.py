"""The index on disk: FAISS vectors + JSON chunks + BM25 arrays + a JSON manifest, and the
embedding cache. The only module that writes to disk. No pickle anywhere; every write is
atomic (a temp file or folder, then a rename), so a reader never sees half an index.

index/
  CURRENT                   {"version": "<folder>"}: swapped atomically after a build
  <version>/manifest.json   format, embedder, dimension, corpus hash, FAISS setting
  <version>/chunks.json     every chunk with its metadata (compact JSON)
  <version>/vectors.faiss   dense vectors (FAISS IndexIDMap2: row id = the chunk's position); with
                            --store milvus:… the vectors are in a Milvus collection instead
  <version>/documents.json  each document's rows and the signature of its chunks (incremental updates)
  <version>/bm25/           sparse BM25 matrix (.npy, allow_pickle=False) + vocabulary (JSON)
  cache/<embedder>.npz      embeddings by content hash, reused across builds
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexError_
from rag.indexing.vectors import (
    FLAT_LIMIT,
    HNSW_EF_SEARCH,
    HNSW_M,
    FaissStore,
    MilvusStore,
    StoreSpec,
    VectorStore,
)
from rag.types import Chunk

__all__ = ["FLAT_LIMIT", "HNSW_EF_SEARCH", "HNSW_M", "FaissStore", "IndexStore", "Manifest", "make_faiss_index"]

FORMAT_VERSION = 6  # 4: row-addressed vectors and documents.json; 5: every file's sha256 in the manifest;
# 6: the manifest's own sha256 in it
SAVE_EVERY = 8  # batches of new embeddings between cache saves
STALE_STAGING_S = 3600  # a staging folder this old was left by a build that died
REINDEX_HINT = "re-index with: rag index --force"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    embedder: str
    dim: int
    corpus_hash: str
    chunks: int
    faiss: str
    created: str
    checksums: dict[str, str] = field(default_factory=dict)  # file (relative) -> sha256, verified on load
    digest: str = ""  # sha256 of the other fields (manifest_digest): a damaged manifest is caught too
    store: str = "faiss"  # where the vectors are: "faiss" (vectors.faiss) or "milvus:<uri>#<collection>"


def manifest_digest(fields: dict[str, Any]) -> str:
    """sha256 of a manifest's fields other than ``digest``, as canonical JSON."""
    body = {k: v for k, v in fields.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of an index version except the manifest itself."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"):
        out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def sync_tree(folder: Path) -> None:
    """fsync every file under ``folder`` (FAISS and bm25s write without it), then the folders."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        _sync_dir(path)
    _sync_dir(folder)


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # (some filesystems cannot fsync a directory)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj: Any, compact: bool = False) -> None:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) if compact else \
        json.dumps(obj, ensure_ascii=False, indent=1)
    atomic_write_bytes(path, text.encode("utf-8"))


def append_jsonl(path: Path, obj: Any, max_bytes: int | None = None) -> None:
    """Append one line; a single write() of a whole line, so lines never interleave. Past
    ``max_bytes`` the file is rotated to ``<name>.1`` (one old file kept), so it never grows unbounded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if max_bytes is not None:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size >= max_bytes:
                os.replace(path, path.with_name(path.name + ".1"))
    line = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _cache_digest(keys: np.ndarray, vectors: np.ndarray) -> bytes:
    return hashlib.sha256(keys.tobytes() + np.ascontiguousarray(vectors, dtype=np.float32).tobytes()).hexdigest().encode()


class EmbeddingCache:
    """Vectors keyed by sha1(embedder, text); saved as .npz of plain arrays (no pickle) with the
    sha256 of their bytes, checked on load beside the zip's own CRCs."""

    def __init__(self, path: Path, embedder: str, dim: int) -> None:
        self.path, self.embedder, self.dim = path, embedder, dim
        self._vectors: dict[bytes, np.ndarray] = {}
        if path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
                    digest = data["digest"] if "digest" in data else None
                if digest is not None and digest.tobytes() != _cache_digest(keys, vectors):
                    raise ValueError("checksum mismatch")
                if vectors.ndim == 2 and vectors.shape[1] == dim:
                    self._vectors = dict(zip(keys.tolist(), vectors, strict=True))
            except Exception as exc:  # noqa: BLE001 - truncated zip, bad header …: a damaged cache is only a slower build
                self._vectors = {}
                print(f"warning: embedding cache {path} is damaged ({type(exc).__name__}); discarded, "
                      "vectors will be embedded again", file=sys.stderr, flush=True)
                with contextlib.suppress(OSError):
                    path.unlink()

    def key(self, text: str) -> bytes:
        return hashlib.sha1(f"{self.embedder}\0{text}".encode()).hexdigest().encode()

    def embed(
        self, texts: list[str], embed: Callable[[list[str]], np.ndarray],
        progress: Callable[[int, int], None] | None = None, batch: int = 32,
    ) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        # each text once (the first of equal texts), in document order: sorting by length measured no
        # faster here, and mixed lengths keep the progress line's rate and ETA true
        first = {k: i for i, k in reversed(list(enumerate(keys))) if k not in self._vectors}
        missing = sorted(first.values())
        if progress and missing:
            progress(0, len(missing))
        for start in range(0, len(missing), batch):
            part = missing[start : start + batch]
            vectors = embed([texts[i] for i in part])
            for i, vector in zip(part, vectors, strict=True):
                self._vectors[keys[i]] = np.asarray(vector, dtype=np.float32)
            if progress:
                progress(min(start + batch, len(missing)), len(missing))
            if (start // batch) % SAVE_EVERY == SAVE_EVERY - 1:
                self.save()  # saved as it grows: an interrupted build keeps what it embedded
        if missing:
            self.save()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        keys = np.array(list(self._vectors), dtype="S40")
        vectors = np.stack(list(self._vectors.values())).astype(np.float32)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(fd)
        try:
            np.savez(tmp, keys=keys, vectors=vectors, digest=np.frombuffer(_cache_digest(keys, vectors), dtype="S64"))
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def make_faiss_index(vectors: np.ndarray):
    """A FAISS index of ``vectors`` with row ids 0…n-1 (flat up to FLAT_LIMIT, HNSW above), and its setting."""
    store = FaissStore.build(vectors, hnsw=len(vectors) > FLAT_LIMIT)  # this module's limit (tests lower it)
    return store.index, store.describe()


class IndexStore:
    """Reads and writes index versions under one folder; the vectors go to the store ``spec`` names."""

    def __init__(self, root: Path, spec: StoreSpec | None = None) -> None:
        self.root = root
        self.spec = spec or StoreSpec("faiss")

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    def cache(self, embedder: str, dim: int) -> EmbeddingCache:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return EmbeddingCache(self.cache_dir / f"{_slug(embedder)}.npz", embedder, dim)

    def current_version(self) -> Path | None:
        pointer = self.root / "CURRENT"
        if not pointer.exists():
            return None
        try:
            name = json.loads(pointer.read_text("utf-8"))["version"]
        except (OSError, ValueError, KeyError, TypeError):
            raise IndexError_(f"index pointer {pointer} is damaged; {REINDEX_HINT}") from None
        folder = self.root / name
        if not folder.is_dir():
            raise IndexError_(f"index version {folder} is missing; {REINDEX_HINT}")
        return folder

    def read_manifest(self, folder: Path) -> Manifest:
        try:
            raw = json.loads((folder / "manifest.json").read_text("utf-8"))
            manifest = Manifest(**raw)
        except (OSError, ValueError, TypeError):
            raise IndexError_(f"index manifest in {folder} is unreadable; {REINDEX_HINT}") from None
        if manifest.format_version == FORMAT_VERSION and manifest.digest != manifest_digest(raw):
            raise IndexError_(f"index manifest in {folder} is damaged (checksum mismatch); {REINDEX_HINT}")
        return manifest

    def write(
        self, chunks: list[Chunk], tokens: list[list[str]], vectors: np.ndarray | VectorStore,
        embedder: str, corpus_hash: str, documents: dict[str, dict[str, Any]] | None = None,
    ) -> Path:
        """A new version: ``vectors`` are either all the rows (a full FAISS build) or a store with
        every row in it; ``documents`` maps each document to its rows."""
        from rag.indexing.lexical import BM25Index

        self.root.mkdir(parents=True, exist_ok=True)
        self._clean_stale_staging()
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".build-"))
        try:
            if isinstance(vectors, np.ndarray):
                vectors = FaissStore(int(vectors.shape[1]), make_faiss_index(vectors)[0])
            vectors.save(staging)
            atomic_write_json(staging / "chunks.json", [asdict(c) for c in chunks], compact=True)
            atomic_write_json(staging / "documents.json", documents or {})
            BM25Index.build(tokens).save(staging / "bm25")
            manifest = Manifest(
                format_version=FORMAT_VERSION, embedder=embedder, dim=vectors.dim,
                corpus_hash=corpus_hash, chunks=len(chunks), faiss=vectors.describe(),
                created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), checksums=_checksums(staging), store=vectors.spec,
            )
            fields = asdict(manifest)
            atomic_write_json(staging / "manifest.json", {**fields, "digest": manifest_digest(fields)})
            name = f"v-{corpus_hash[:12]}-{_slug(embedder)}-{time.time_ns()}"
            final = self.root / name
            sync_tree(staging)  # on disk before CURRENT points at them: a power cut cannot leave it at unflushed files
            os.rename(staging, final)
            _sync_dir(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        atomic_write_json(self.root / "CURRENT", {"version": name})
        self._prune(keep=final)
        return final

    def _clean_stale_staging(self) -> None:
        """Staging folders of builds and uploads that died (kill -9, power loss) an hour ago or more."""
        now = time.time()
        for path in self.root.glob(".*"):
            if path.is_dir() and path.name.startswith((".build-", ".upload-")):
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > STALE_STAGING_S:
                        shutil.rmtree(path, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        """Drop old versions (readers hold theirs in memory) and staging folders abandoned long ago."""
        for path in self.root.iterdir():
            if path.is_dir() and path != keep and path.name.startswith("v-"):
                shutil.rmtree(path, ignore_errors=True)
        self._clean_stale_staging()  # a recent staging folder may be another process's build

    def read(self, folder: Path, embedder: str, dim: int):
        """Manifest, chunks, vector store and BM25 index of one version, validated."""

        from rag.indexing.lexical import BM25Index

        manifest = self.read_manifest(folder)
        if manifest.format_version != FORMAT_VERSION:
            raise IndexError_(
                f"index format {manifest.format_version} is not this version's ({FORMAT_VERSION}); "
                f"{REINDEX_HINT}"
            )
        if manifest.embedder != embedder or manifest.dim != dim:
            raise IndexError_(
                f"index was built with embedder {manifest.embedder!r} ({manifest.dim} dims), not "
                f"{embedder!r} ({dim} dims); {REINDEX_HINT}"
            )
        if not self.spec.accepts(manifest.store):
            raise IndexError_(f"index vectors are in {manifest.store}, not {self.spec.name(embedder, self.root)}; "
                              f"{REINDEX_HINT}")
        self.verify(folder, manifest)
        try:
            raw = json.loads((folder / "chunks.json").read_text("utf-8"))
            chunks = [Chunk(**r) for r in raw]
            bm25 = BM25Index.load(folder / "bm25")
            if self.spec.kind == "faiss":
                vectors: VectorStore = FaissStore.load(folder / FaissStore.FILE, manifest.dim)
                fits = vectors.index.d == dim and vectors.size == len(chunks)
            else:
                collection = manifest.store.partition("#")[2]
                vectors = MilvusStore(self.spec, collection, dim, self.read_documents(folder))
                vectors.open()
                fits = vectors.size >= len(chunks)  # a writer elsewhere may be adding the next version's rows
        except IndexError_ as exc:
            raise IndexError_(f"{exc}; {REINDEX_HINT}") from None
        except Exception as exc:  # any damage to these files means the same thing to the user
            raise IndexError_(
                f"index files in {folder} are damaged ({type(exc).__name__}); {REINDEX_HINT}"
            ) from None
        if not fits or len(chunks) != manifest.chunks:
            raise IndexError_(f"index files in {folder} disagree with each other; {REINDEX_HINT}")
        return manifest, chunks, vectors, bm25

    def verify(self, folder: Path, manifest: Manifest | None = None) -> None:
        """Every file of the version against its checksum in the manifest; IndexError_ when one differs."""
        manifest = manifest or self.read_manifest(folder)
        damaged = [name for name, digest in manifest.checksums.items()
                   if not (folder / name).is_file() or hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest]
        if damaged or not manifest.checksums:
            raise IndexError_(f"index files in {folder} are damaged (checksum mismatch: "
                              f"{', '.join(damaged[:3]) or 'none recorded'}); {REINDEX_HINT}")

    def read_documents(self, folder: Path) -> dict[str, dict[str, Any]]:
        """Each document's rows ({"first", "count"}) and chunk signature, as the version was built."""
        try:
            raw = json.loads((folder / "documents.json").read_text("utf-8"))
        except (OSError, ValueError):
            raise IndexError_(f"index documents file in {folder} is unreadable; {REINDEX_HINT}") from None
        if not isinstance(raw, dict):
            raise IndexError_(f"index documents file in {folder} is damaged; {REINDEX_HINT}")
        return raw
