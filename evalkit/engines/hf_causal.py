"""`hf-causal:MODEL`: an instruct LLM translating through its chat template (transformers).

Greedy by default. Loads safetensors folders, hub ids, and GGUF files
(`hf-causal:FOLDER,gguf_file=model.gguf`; slow: the weights are dequantized on every load,
which is why packaged models convert once and cache a float checkpoint).
"""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

from evalkit.engines.base import DecodingOptions, Translation
from evalkit.engines.chat_prompt import PromptBuilder, prompt_fingerprint_of
from evalkit.engines.decoding import cut_to_budgets, reached_budget, setup_torch, unit_budgets
from evalkit.engines.model_engine import ModelEngine
from evalkit.engines.registry import register


class CausalOptions(DecodingOptions):
    gguf_file: str | None = None
    #: a text file holding the user-turn instruction; {source}, {target} and {text} are
    #: filled in (default: chat_prompt.DEFAULT_INSTRUCTION)
    instruction_file: str | None = None
    #: JSONL of {"src": ..., "tgt": ...} pairs shown to the model before each segment
    examples_file: str | None = None


@register("hf-causal")
class HFCausalEngine(ModelEngine):
    summary = "an instruct LLM translating through its chat template (transformers)"
    Options = CausalOptions
    #: 2: the generation cap is per unit, not per batch
    engine_version = 2
    options: CausalOptions

    @cached_property
    def tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        kwargs = {"gguf_file": self.options.gguf_file} if self.options.gguf_file else {}
        tokenizer = AutoTokenizer.from_pretrained(self.source.path, **kwargs)
        tokenizer.padding_side = "left"  # generation continues on the right
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer

    @cached_property
    def prompt(self) -> PromptBuilder:
        return PromptBuilder(
            self.tokenizer, self.options.instruction_file, self.options.examples_file
        )

    def fingerprint(self) -> dict[str, Any]:
        prompt = (
            self.prompt.fingerprint()
            if self.options.gguf_file  # the tokenizer lives inside the GGUF file
            else prompt_fingerprint_of(
                Path(self.source.path),
                self.options.instruction_file,
                self.options.examples_file,
                lambda: self.prompt,
            )
        )
        return {
            **self.model_fingerprint(),
            "prompt": prompt,
            "transformers": version("transformers"),
        }

    def _load(self) -> Any:
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM

            setup_torch(self.options)
            kwargs = {"gguf_file": self.options.gguf_file} if self.options.gguf_file else {}
            self._model = AutoModelForCausalLM.from_pretrained(
                self.source.path, dtype=torch.float32, **kwargs
            ).eval()
        return self._model

    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        return [t.text for t in self.translate_units(segments, src_lang, tgt_lang)]

    def translate_units(
        self, segments: list[str], src_lang: str, tgt_lang: str
    ) -> list[Translation]:
        import torch

        model = self._load()
        tokenizer = self.tokenizer
        prompts = self.prompt.prompts(segments, src_lang, tgt_lang)
        batch = tokenizer(
            prompts,
            return_tensors="pt",
            padding=True,
            add_special_tokens=not self.prompt.has_chat_template,
        )
        stop_ids = [tokenizer.convert_tokens_to_ids(t) for t in self.prompt.stop_tokens()]
        budgets = unit_budgets(self.options, self.prompt.source_lengths(segments))
        with torch.inference_mode():
            generated = model.generate(
                **batch,
                num_beams=self.options.beam_size,
                do_sample=False,
                max_new_tokens=max(budgets),
                eos_token_id=stop_ids,
                pad_token_id=tokenizer.pad_token_id,
            )
        new_tokens = generated[:, batch["input_ids"].shape[1] :]
        outputs, cut = [], []
        for row, budget in zip(cut_to_budgets(new_tokens.tolist(), budgets), budgets, strict=True):
            kept = []
            for token in row:
                if token in stop_ids:
                    break
                kept.append(token)
            self.generated_tokens += len(kept)  # as CTranslate2 counts: without the stop token
            outputs.append(tokenizer.decode(kept, skip_special_tokens=False))
            cut.append(reached_budget(kept, budget))
        texts = self.prompt.clean(outputs, segments)
        return [Translation(t, c) for t, c in zip(texts, cut, strict=True)]
