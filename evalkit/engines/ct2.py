"""`ct2:MODEL`: CTranslate2 decoding of a transformers model, for speed on CPU.

The model (folder or hub id) is converted once and cached under the user cache directory,
keyed by the source weights' digest and the compute type. The compute type is part of
the system's identity: int8 weights decode differently from float32 ones, so they are a
different system with a different fingerprint. Encoder-decoder models use the same
language plumbing as `hf-seq2seq`; decoder-only instruct models use the same prompts and
cleanup as `hf-causal`.
"""

from __future__ import annotations

import json
import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import platformdirs

from evalkit.engines import ct2_packing
from evalkit.engines.base import Translation
from evalkit.engines.chat_prompt import PromptBuilder, prompt_fingerprint_of
from evalkit.engines.ct2_stream import streamable, streamed_converter
from evalkit.engines.decoding import (
    cut_to_budgets,
    new_token_budget,
    reached_budget,
    unit_budgets,
)
from evalkit.engines.hf_causal import CausalOptions
from evalkit.engines.model_engine import ModelEngine
from evalkit.engines.model_source import ModelSource
from evalkit.engines.one_time import timed
from evalkit.engines.registry import register
from evalkit.engines.seq2seq_plumbing import check_token, plan_for, seq2seq_family
from evalkit.errors import UserInputError


class CT2Options(CausalOptions):
    compute_type: Literal["float32", "int8", "int8_float32", "int16", "float16", "bfloat16"] = (
        "float32"
    )
    device: Literal["cpu", "cuda"] = "cpu"


def converted_models_dir() -> Path:
    return Path(platformdirs.user_cache_dir("evalkit")) / "ct2"


def conversion_dir(revision: str, compute_type: str) -> Path:
    """Where the conversion of a model revision to `compute_type` is (or will be)."""
    return converted_models_dir() / conversion_name(revision, compute_type)


def is_converted(folder: Path) -> bool:
    """Whether `folder` holds a finished conversion: written under a temporary name and
    renamed into place whole, so its model file is there only once all of it is."""
    return (folder / "model.bin").is_file()


def convert_once(source: ModelSource, compute_type: str) -> Path:
    """The converted model folder, converting (atomically) on first use."""
    target = conversion_dir(source.revision, compute_type)
    if is_converted(target):
        return target
    with timed("convert"):
        return _convert(source, compute_type, target)


def _convert(source: ModelSource, compute_type: str, target: Path) -> Path:
    import ctranslate2
    from transformers.utils import logging

    logging.disable_progress_bar()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        if streamable(Path(source.path)):
            # same output, byte for byte, without holding the float32 weights in memory
            converter = streamed_converter(Path(source.path))
        else:
            converter = ctranslate2.converters.TransformersConverter(
                str(source.path), low_cpu_mem_usage=True
            )
        try:
            converter.convert(str(staging), quantization=compute_type, force=True)
        except (AttributeError, ValueError, NotImplementedError, KeyError) as error:
            raise UserInputError(
                f"CTranslate2 {ctranslate2.__version__} could not convert {source.name}: "
                f"{type(error).__name__}: {error}; use the hf-seq2seq or hf-causal engine"
            ) from None
        if not is_converted(target):  # else another process finished first: it stays
            shutil.rmtree(target, ignore_errors=True)  # what an old version left unfinished
            os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def conversion_name(revision: str, compute_type: str) -> str:
    """The folder (under `converted_models_dir`) of a model revision's conversion: also
    how `evalkit cache info` finds the systems of stored runs that use one."""
    return f"{_slug(revision)}-{compute_type}"


def _slug(revision: str) -> str:
    return revision.split(":", 1)[-1][:24]


@register("ct2")
class CT2Engine(ModelEngine):
    summary = "CTranslate2 decoding of a transformers model, for speed on CPU"
    Options = CT2Options
    #: 2: the generation cap is per unit, not per batch
    engine_version = 2
    options: CT2Options
    #: Compute the prompt text every unit shares (system turn, examples, the instruction
    #: up to the source text) once, as CTranslate2's cached `static_prompt`, instead of
    #: once per unit. Same tokens, same greedy output (tests/test_ct2_efficiency.py);
    #: bench/engines.py measures it off against on.
    reuse_prefix: bool = True
    #: CTranslate2 workers (`inter_threads`), each with `threads` OpenMP threads; above 1
    #: a call's units are split into that many sub-batches decoded in parallel. A bench
    #: lever, not an option (not in the fingerprint): sub-batches regroup units, which can
    #: change outputs as batching does (see `_decode`).
    workers: int = 1
    #: Forward every prompt's text after the shared prefix token by token, as CTranslate2
    #: does for the part of a longer prompt past the call's shortest one, so that a unit
    #: is computed the same way whatever it is batched with (see `_decode`). Slower, and
    #: its outputs differ from the default's on some units: not the default (it would
    #: need a new engine_version); bench/engines.py measures it.
    stepwise_prompts: bool = False

    def __init__(
        self,
        argument: str | None,
        options: CT2Options | None = None,
        source: ModelSource | None = None,
    ) -> None:
        super().__init__(argument, options, source)
        #: prompt tokens forwarded through the model so far (a cached prefix once)
        self.prompt_tokens = 0
        self._prefixes: dict[tuple[str, str], list[str]] = {}
        if self.options.gguf_file:
            raise UserInputError("ct2 reads transformers checkpoints, not GGUF files")
        ct2_packing.plan(self.options.compute_type, self.options.device)

    @property
    def is_seq2seq(self) -> bool:
        # decided from config.json where it can be: AutoConfig imports transformers, which
        # is most of a fully cached run's time
        raw = json.loads((Path(self.source.path) / "config.json").read_text(encoding="utf-8"))
        if "is_encoder_decoder" in raw:
            return bool(raw["is_encoder_decoder"])
        architectures = raw.get("architectures") or []
        if architectures and all(name.endswith("ForCausalLM") for name in architectures):
            return False
        return bool(getattr(self.config, "is_encoder_decoder", False))

    @cached_property
    def prompt(self) -> PromptBuilder:
        return PromptBuilder(
            self.tokenizer, self.options.instruction_file, self.options.examples_file
        )

    def fingerprint(self) -> dict[str, Any]:
        import ctranslate2

        fingerprint: dict[str, Any] = {
            **self.model_fingerprint(),
            "ctranslate2": ctranslate2.__version__,
        }
        if self.is_seq2seq:
            fingerprint["family"] = seq2seq_family(self.config.model_type, self.tokenizer)
        else:
            fingerprint["prompt"] = prompt_fingerprint_of(
                Path(self.source.path),
                self.options.instruction_file,
                self.options.examples_file,
                lambda: self.prompt,
            )
        return fingerprint

    def _load(self) -> Any:
        if self._model is None:
            import ctranslate2

            folder = convert_once(self.source, self.options.compute_type)
            ct2_packing.settle()
            cls = ctranslate2.Translator if self.is_seq2seq else ctranslate2.Generator
            self._model = cls(
                str(folder),
                device=self.options.device,
                compute_type=self.options.compute_type,
                intra_threads=self.options.threads,
                inter_threads=self.workers,
            )
        return self._model

    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        return [t.text for t in self.translate_units(segments, src_lang, tgt_lang)]

    def translate_units(
        self, segments: list[str], src_lang: str, tgt_lang: str
    ) -> list[Translation]:
        if self.is_seq2seq:
            texts = self._translate_seq2seq(segments, src_lang, tgt_lang)
            return [Translation(text) for text in texts]
        return self._translate_causal(segments, src_lang, tgt_lang)

    def _tokens(self, text: str, add_special_tokens: bool = True) -> list[str]:
        ids = self.tokenizer(text, add_special_tokens=add_special_tokens).input_ids
        return self.tokenizer.convert_ids_to_tokens(ids)

    def _translate_seq2seq(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        translator = self._load()
        tokenizer = self.tokenizer
        plan = plan_for(self.config.model_type, tokenizer, src_lang, tgt_lang)
        if plan.tokenizer_src_lang is not None:
            check_token(tokenizer, plan.tokenizer_src_lang)
            tokenizer.src_lang = plan.tokenizer_src_lang
        sources = [self._tokens(plan.source_prefix + text) for text in segments]
        prefix = None
        if plan.forced_bos_token is not None:
            check_token(tokenizer, plan.forced_bos_token)
            prefix = [[plan.forced_bos_token] for _ in segments]
        results = translator.translate_batch(
            sources,
            target_prefix=prefix,
            beam_size=self.options.beam_size,
            max_decoding_length=new_token_budget(self.options, [len(s) for s in sources]),
        )
        outputs = []
        for result in results:
            tokens = result.hypotheses[0]
            if prefix is not None and tokens[:1] == [plan.forced_bos_token]:
                tokens = tokens[1:]
            self.generated_tokens += len(tokens)
            ids = tokenizer.convert_tokens_to_ids(tokens)
            outputs.append(tokenizer.decode(ids, skip_special_tokens=True).strip())
        return outputs

    def _translate_causal(
        self, segments: list[str], src_lang: str, tgt_lang: str
    ) -> list[Translation]:
        chat = self.prompt.has_chat_template
        prompts = [
            self._tokens(p, add_special_tokens=not chat)
            for p in self.prompt.prompts(segments, src_lang, tgt_lang)
        ]
        budgets = unit_budgets(self.options, self.prompt.source_lengths(segments))
        prefix = self._shared_prefix(src_lang, tgt_lang) if self.reuse_prefix else []
        sequences = self._generate(prompts, budgets, prefix)
        outputs = []
        for ids in sequences:
            self.generated_tokens += len(ids)
            outputs.append(self.tokenizer.decode(ids, skip_special_tokens=False))
        cut = [reached_budget(ids, b) for ids, b in zip(sequences, budgets, strict=True)]
        texts = self.prompt.clean(outputs, segments)
        return [Translation(t, c) for t, c in zip(texts, cut, strict=True)]

    def _shared_prefix(self, src_lang: str, tgt_lang: str) -> list[str]:
        """The tokens every prompt of this language pair starts with: the prompt rendered
        up to where the source text goes. Depends on the language pair and the prompt
        settings only, never on the batch, so whether a unit's prefix is cached cannot
        make its output depend on what it was batched with."""
        key = (src_lang, tgt_lang)
        if key not in self._prefixes:
            marker = "\ue000"  # a private-use character: where the text goes
            (rendered,) = self.prompt.prompts([marker], src_lang, tgt_lang)
            head = rendered.split(marker, 1)[0] if marker in rendered else ""
            chat = self.prompt.has_chat_template
            prefix = self._tokens(head, add_special_tokens=not chat) if head else []
            self._prefixes[key] = prefix
            self.prompt_tokens += len(prefix)  # computed once, then cached by CTranslate2
        return self._prefixes[key]

    def _generate(
        self, prompts: list[list[str]], budgets: list[int], prefix: list[str]
    ) -> list[list[int]]:
        """Greedy generations, each cut to its unit's budget. Prompts that start with
        `prefix` (all of them, unless the tokenizer merged a token across its end) are
        decoded with it as the cached static prompt; any other in a call of their own,
        so every unit is computed the same way whatever its batch holds."""
        n = len(prefix)
        shared = [i for i, p in enumerate(prompts) if n and len(p) > n and p[:n] == prefix]
        rest = sorted(set(range(len(prompts))) - set(shared))
        sequences: list[list[int]] = [[] for _ in prompts]
        for indices, static in ((shared, prefix), (rest, [])):
            if not indices:
                continue
            starts = [prompts[i][len(static) :] for i in indices]
            self.prompt_tokens += sum(map(len, starts))
            cuts = [budgets[i] for i in indices]
            for i, ids in zip(indices, self._decode(starts, cuts, static), strict=True):
                sequences[i] = ids
        return sequences

    def _decode(
        self, starts: list[list[str]], budgets: list[int], static: list[str]
    ) -> list[list[int]]:
        """One CTranslate2 call per worker (in parallel), each on a consecutive share of
        the units; each call decodes up to its largest budget, then each unit is cut.

        CTranslate2 forwards the prompts at once only up to the shortest one in the call;
        the rest of each longer prompt goes through the decoding loop a token at a time.
        The same computation, not the same rounding: a unit's output can depend on how
        long the shortest prompt of its batch was (measured: the 1.5B model in int8).
        With `stepwise_prompts`, a two-token dummy (stopped at its first generated
        token, its output dropped) makes that shortest length 2 in every call: one token
        forwarded at once, the rest step by step, whatever the batch. (Not 1: with a
        one-token prompt in the call, CTranslate2 returns the prompts in the results.)"""
        generator = self._load()
        size = -(-len(starts) // max(1, min(self.workers, len(starts))))
        shares = [range(i, min(i + size, len(starts))) for i in range(0, len(starts), size)]
        pending = [
            self._submit(
                generator, [starts[i] for i in share], max(budgets[i] for i in share), static
            )
            for share in shares
        ]
        sequences = [
            result.result().sequences_ids[0]
            for results in pending
            for result in results[: len(results) - self.stepwise_prompts]
        ]
        return cut_to_budgets(sequences, budgets)

    def _submit(
        self, generator: Any, starts: list[list[str]], max_length: int, static: list[str]
    ) -> list[Any]:
        """Queues one CTranslate2 call; its results are waited for by the caller."""
        dummy = [starts[0][:2]] if self.stepwise_prompts else []
        stop = _stop_index(len(starts)) if dummy and self.options.beam_size == 1 else None
        return generator.generate_batch(
            starts + dummy,
            asynchronous=True,
            max_length=max_length,
            sampling_topk=1,
            beam_size=self.options.beam_size,
            include_prompt_in_result=False,
            end_token=self.prompt.stop_tokens(),
            static_prompt=static or None,
            callback=stop,
        )


def _stop_index(index: int) -> Any:
    """A generation callback that stops the batch member `index` at its first token."""
    return lambda step: step.batch_id == index
