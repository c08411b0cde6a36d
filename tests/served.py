"""What the served-model tests share: the server's coordinates, seed sentences, figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evalkit.corpus.segment import split_sentences

#: the name the test server gives the packaged 0.5B model
SERVED_NAME = "qwen0.5b-served"
#: lines printed at the end of the test run (pytest_terminal_summary in conftest)
FIGURES: list[str] = []


@dataclass(frozen=True)
class ServedModel:
    base_url: str
    model: str
    api_key: str
    log: Path

    @property
    def root(self) -> str:
        """The server's address without /v1, for a proxy in front of it."""
        return self.base_url.removesuffix("/v1")

    def spec(self, options: str = "", base_url: str | None = None) -> str:
        spec = f"openai:{self.model},base_url={base_url or self.base_url}"
        return f"{spec},{options}" if options else spec


def seed_sentences(count: int) -> list[str]:
    """The first `count` sentences of the built-in test set's Arabic sources, in order."""
    from evalkit.corpus.resolve import load_test_set

    sentences: list[str] = []
    for doc in load_test_set("seeds").documents:
        if doc.source.lang != "ar":
            continue
        for paragraph in doc.source.segments:
            sentences += [s.text for s in split_sentences(paragraph, "ar") if s.text.strip()]
    return sentences[:count]
