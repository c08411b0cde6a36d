"""What a translation system is to the harness.

Two kinds exist. A `TranslationEngine` translates lists of text segments (a model, an
API, the `copy` floor); the harness splits documents into units, batches them, caches the
results and puts the translations back together. A `PrecomputedSystem` already has one
output line per source segment of each document (files made elsewhere) and is only read.

Every system has a fingerprint: a JSON-able dict that changes whenever its output could
change (model, weights, decoding settings, engine version). It is stored in every run and
keys the translation cache. Options come from the spec string (`kind:arg,key=value`) and
are validated by the system's `Options` model, so a typo is an error, not a default.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from evalkit.cache.translation import Translation
from evalkit.corpus.model import TestSet
from evalkit.registry import Build, NoOptions


def fingerprint_digest(fingerprint: dict[str, Any]) -> str:
    """sha256 of a fingerprint's canonical JSON: the engine's id in the cache and in runs."""
    blob = json.dumps(fingerprint, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class DecodingOptions(BaseModel):
    """Settings shared by model engines; every one of them is part of the fingerprint."""

    model_config = ConfigDict(extra="forbid")
    batch_size: int = Field(8, ge=1)
    beam_size: int = Field(1, ge=1)
    #: hard cap on generated tokens per segment
    max_new_tokens: int = Field(256, ge=1)
    #: generated tokens allowed per source token (plus 16), so a looping model stops early
    max_length_ratio: float = Field(3.0, gt=0)
    threads: int = Field(0, ge=0)  # 0: all cores
    seed: int = 0


class System(ABC):
    """Anything that produces hypotheses for a test set."""

    #: the registry name of this kind of system (e.g. "copy", "files")
    kind: ClassVar[str] = ""
    #: one line for `evalkit models` (default: the first line of the class docstring)
    summary: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, argument: str | None, options: BaseModel | None = None) -> None:
        self.argument = argument
        self.options = options if options is not None else self.Options()

    @classmethod
    def build(cls, build: Build) -> System:
        """The system a spec names (the registry's one way of building anything)."""
        return cls(build.argument, build.options)

    @abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines the output, as JSON-able data."""

    def fingerprint_hash(self) -> str:
        return fingerprint_digest(self.fingerprint())


@dataclass
class RequestStats:
    """What an engine that talks to a server sent: kept in the run record per system."""

    requests: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class RequestPlan:
    """What a served engine would send, counted before sending anything (a dry run)."""

    requests: int
    prompt_tokens: int
    #: False when the prompt tokens are estimated from characters (nothing could count them)
    exact: bool
    #: the sum of the per-unit generation caps: the most the run could generate
    max_completion_tokens: int


#: called with the unit's index in the list given to the engine, as soon as it is done
OnTranslated = Callable[[int, Translation], None]


class TranslationEngine(System):
    """A system that translates text; batching, caching and documents live in the harness."""

    #: tokens generated so far (engines that count them add to it; shown as tokens/s)
    generated_tokens: int = 0

    @property
    def batch_size(self) -> int:
        return int(getattr(self.options, "batch_size", 16))

    @abstractmethod
    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        """Translate each segment; the result has the same length and order."""

    def translate_units(
        self, segments: list[str], src_lang: str, tgt_lang: str
    ) -> list[Translation]:
        """Translations with whether the generation cap cut each off; engines that can
        tell override this (and define `translate` from it)."""
        return [Translation(text) for text in self.translate(segments, src_lang, tgt_lang)]

    def translate_each(
        self, segments: list[str], src_lang: str, tgt_lang: str, on_done: OnTranslated
    ) -> None:
        """Translate, handing over each unit as soon as it is done, so the harness can
        store it at once. Engines that finish units one by one (a server answering
        concurrent requests) override this; batch engines hand over a batch at its end."""
        outputs = self.translate_units(segments, src_lang, tgt_lang)
        if len(outputs) != len(segments):
            raise RuntimeError(
                f"{self.kind} returned {len(outputs)} translations for {len(segments)} segments"
            )
        for index, translation in enumerate(outputs):
            on_done(index, translation)

    def plan(self, segments: list[str], src_lang: str, tgt_lang: str) -> RequestPlan | None:
        """What translating these units would send to a server; None for local engines."""
        return None

    def request_stats(self) -> RequestStats | None:
        """Requests, retries and tokens sent so far; None for engines that send none."""
        return None

    def close(self) -> None:
        """Free the model; called once the system has translated everything."""


class PrecomputedSystem(System):
    """A system whose outputs already exist: one line per source segment per document."""

    @abstractmethod
    def hypotheses(self, test_set: TestSet) -> dict[str, list[str]]:
        """Map each document id to its output lines, validated against the source."""
