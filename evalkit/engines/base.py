"""What a translation system is to the harness.

Two kinds exist. A `TranslationEngine` translates lists of text segments (a model, an
API, the `copy` floor); the harness splits documents into units, batches them and puts the
translations back together. A `PrecomputedSystem` already has one output line per source
segment of each document (files made elsewhere) and is only read.

Every system has a fingerprint: a JSON-able dict that changes whenever its output could
change (model, weights, decoding settings, engine version). It is stored in every run and
keys the translation cache.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any

from evalkit.corpus.model import TestSet


class System(ABC):
    """Anything that produces hypotheses for a test set."""

    #: the registry name of this kind of system (e.g. "copy", "files")
    kind: str = ""

    def __init__(self, argument: str | None) -> None:
        self.argument = argument

    @abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines the output, as JSON-able data."""

    def fingerprint_hash(self) -> str:
        blob = json.dumps(self.fingerprint(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class TranslationEngine(System):
    """A system that translates text; batching and document handling live in the harness."""

    @abstractmethod
    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        """Translate each segment; the result has the same length and order."""


class PrecomputedSystem(System):
    """A system whose outputs already exist: one line per source segment per document."""

    @abstractmethod
    def hypotheses(self, test_set: TestSet) -> dict[str, list[str]]:
        """Map each document id to its output lines, validated against the source."""
