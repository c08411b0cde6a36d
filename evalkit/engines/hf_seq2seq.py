"""`hf-seq2seq:MODEL`: any transformers encoder-decoder translation model (path or hub id)."""

from __future__ import annotations

from typing import Any

from evalkit.engines.base import DecodingOptions
from evalkit.engines.decoding import new_token_budget, setup_torch
from evalkit.engines.model_engine import ModelEngine
from evalkit.engines.registry import register
from evalkit.engines.seq2seq_plumbing import check_token, plan_for, seq2seq_family


@register("hf-seq2seq")
class HFSeq2SeqEngine(ModelEngine):
    summary = "any transformers encoder-decoder translation model (path or hub id)"
    Options = DecodingOptions

    @property
    def model_type(self) -> str:
        return str(self.config.model_type)

    def fingerprint(self) -> dict[str, Any]:
        import transformers

        return {
            **self.model_fingerprint(),
            "family": seq2seq_family(self.model_type, self.tokenizer),
            "transformers": transformers.__version__,
        }

    def _load(self) -> Any:
        if self._model is None:
            from transformers import AutoModelForSeq2SeqLM

            setup_torch(self.options)
            self._model = AutoModelForSeq2SeqLM.from_pretrained(self.source.path).eval()
        return self._model

    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        import torch

        model = self._load()
        tokenizer = self.tokenizer
        plan = plan_for(self.model_type, tokenizer, src_lang, tgt_lang)
        if plan.tokenizer_src_lang is not None:
            check_token(tokenizer, plan.tokenizer_src_lang)
            tokenizer.src_lang = plan.tokenizer_src_lang
        kwargs: dict[str, Any] = {}
        if plan.forced_bos_token is not None:
            kwargs["forced_bos_token_id"] = check_token(tokenizer, plan.forced_bos_token)
        batch = tokenizer(
            [plan.source_prefix + text for text in segments],
            return_tensors="pt",
            padding=True,
            truncation=True,
        )
        lengths = batch["attention_mask"].sum(dim=1).tolist()
        with torch.inference_mode():
            generated = model.generate(
                **batch,
                num_beams=self.options.beam_size,
                do_sample=False,
                max_new_tokens=new_token_budget(self.options, lengths),
                **kwargs,
            )
        pad = tokenizer.pad_token_id
        self.generated_tokens += (
            int((generated != pad).sum()) if pad is not None else generated.numel()
        )
        return [
            text.strip() for text in tokenizer.batch_decode(generated, skip_special_tokens=True)
        ]
