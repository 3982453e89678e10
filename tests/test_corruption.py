"""The corruption matrix: every file of an index (and the embedding cache) damaged in each of six
ways. Each damage must be detected when the index is loaded, so that it is rebuilt and never
served; a damaged embedding cache is discarded. The matrix and its figure are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexError_
from rag.indexing.store import EmbeddingCache, IndexStore


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _empty(data: bytes) -> bytes:
    return b""


def _flip_middle(data: bytes) -> bytes:
    at = len(data) // 2
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _append(data: bytes) -> bytes:
    return data + b"\x00garbage"


DAMAGES = {"truncated": _truncate, "emptied": _empty, "middle byte flipped": _flip_middle,
           "last byte flipped": _flip_last, "bytes appended": _append, "deleted": None}
VERSION_FILES = ["manifest.json", "chunks.json", "documents.json", "vectors.faiss",
                 "bm25/data.csc.index.npy", "bm25/indices.csc.index.npy", "bm25/indptr.csc.index.npy",
                 "bm25/params.index.json", "bm25/vocab.index.json"]
INDEX_FILES = ["CURRENT", *VERSION_FILES]


@pytest.fixture(scope="module")
def built(service, home) -> Path:
    return home / "index"  # built by the shared service


def _damage(path: Path, how: str) -> None:
    if DAMAGES[how] is None:
        path.unlink()
    else:
        path.write_bytes(DAMAGES[how](path.read_bytes()))


def _load(root: Path, embedder: str, dim: int) -> None:
    """What the service does before it serves an index: the version, its files, its documents."""
    store = IndexStore(root)
    folder = store.current_version()
    if folder is None:
        raise IndexError_("no index")  # a deleted pointer: the service builds anew
    store.read(folder, embedder, dim)
    store.read_documents(folder)


def test_the_matrix_covers_every_file_of_an_index(built):
    folder = IndexStore(built).current_version()
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert on_disk == set(VERSION_FILES)


@pytest.mark.parametrize("how", list(DAMAGES))
@pytest.mark.parametrize("name", INDEX_FILES)
def test_damage_to_an_index_file_is_detected_on_load(service, built, tmp_path, name, how):
    root = tmp_path / "index"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns("cache"))
    embedder, dim = service.embedder.name, service.embedder.dim
    _load(root, embedder, dim)  # intact, it loads
    folder = root if name == "CURRENT" else IndexStore(root).current_version()
    _damage(folder / name, how)
    with pytest.raises(IndexError_):
        _load(root, embedder, dim)


@pytest.mark.parametrize("how", [h for h in DAMAGES if h != "deleted"])
def test_damage_to_the_embedding_cache_discards_it_unless_its_vectors_are_intact(service, built, tmp_path, capsys, how):
    """A damaged cache is discarded with a warning. Two damages leave the vectors' bytes intact (the
    zip's last byte is its comment length; bytes after the zip are not read): then the cache's own
    checksum passes and the vectors loaded are exactly the intact ones, so nothing wrong can enter an
    index."""
    (source,) = (built / "cache").glob("*.npz")
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    intact = EmbeddingCache(path, service.embedder.name, service.embedder.dim)._vectors
    assert len(intact) > 0 and "damaged" not in capsys.readouterr().err
    _damage(path, how)
    loaded = EmbeddingCache(path, service.embedder.name, service.embedder.dim)._vectors
    if how in ("last byte flipped", "bytes appended"):
        assert loaded.keys() == intact.keys()
        assert all(np.array_equal(loaded[k], intact[k]) for k in intact)
    else:
        assert loaded == {}
        assert "damaged" in capsys.readouterr().err and not path.exists()


def test_vectors_changed_inside_the_cache_fail_its_checksum(service, tmp_path, capsys):
    """A change the zip cannot see (the arrays rewritten with a consistent CRC) fails the cache's
    own sha256 of its vectors."""
    path = tmp_path / "cache.npz"
    cache = EmbeddingCache(path, service.embedder.name, service.embedder.dim)
    cache.embed(["一句话", "两句话"], lambda texts: np.ones((len(texts), service.embedder.dim), np.float32))
    with np.load(path, allow_pickle=False) as data:
        arrays = dict(data)
    arrays["vectors"][0, 0] = 2.0
    np.savez(path, **arrays)
    assert EmbeddingCache(path, service.embedder.name, service.embedder.dim)._vectors == {}
    assert "damaged" in capsys.readouterr().err


@pytest.mark.parametrize("name", INDEX_FILES)
def test_a_damaged_index_is_healed_and_answers_as_before(service, home, built, tmp_path, name):
    """Detected is not enough: the service rebuilds the damaged index (from the embedding cache) and
    answers exactly as the intact one did; nothing from the damaged files is served."""
    from rag.service import Service

    root = tmp_path / "index"
    shutil.copytree(built, root)
    folder = root if name == "CURRENT" else IndexStore(root).current_version()
    _damage(folder / name, "middle byte flipped")
    stages: list[str] = []
    healed = Service(corpus=home / "corpus", index=root, progress=lambda stage, *_: stages.append(stage))
    assert any(s.startswith("rebuilding") for s in stages), stages
    _load(root, service.embedder.name, service.embedder.dim)  # the index on disk is whole again
    for question in ("燃气安全由谁牵头?", "市教育局负责哪些工作?", "双控机制建设什么时候完成?"):
        assert healed.ask(question).to_dict()["answer"] == service.ask(question).to_dict()["answer"]
