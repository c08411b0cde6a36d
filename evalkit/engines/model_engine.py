"""What every engine backed by a model folder has in common: where the model is, and
releasing it when done. Model files are resolved lazily, so creating a system (to check
every `--system` before work starts) costs nothing."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import BaseModel

from evalkit.engines.base import TranslationEngine
from evalkit.engines.model_source import ModelSource, resolve_model
from evalkit.errors import UserInputError


class ModelEngine(TranslationEngine):
    #: bump when a change to the engine's code can change its output
    engine_version: int = 1

    def __init__(
        self,
        argument: str | None,
        options: BaseModel | None = None,
        source: ModelSource | None = None,
    ) -> None:
        if not argument:
            raise UserInputError(f"{self.kind} needs a model: {self.kind}:PATH_OR_HUB_ID")
        super().__init__(argument, options)
        self._model: Any = None
        if source is not None:  # already resolved by the caller (packaged models)
            self.source = source

    @cached_property
    def source(self) -> ModelSource:
        return resolve_model(self.argument or "")

    @cached_property
    def tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.source.path)

    @cached_property
    def config(self) -> Any:
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(self.source.path)

    def model_fingerprint(self) -> dict[str, Any]:
        """The fields every model engine's fingerprint starts with."""
        return {
            "kind": self.kind,
            "engine_version": self.engine_version,
            "model": self.source.name,
            "revision": self.source.revision,
            "options": self.options.model_dump(),
        }

    def close(self) -> None:
        self._model = None
