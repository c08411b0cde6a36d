"""`comet`, `cometkiwi`, `xcomet`: COMET checkpoints loaded natively, no unbabel-comet.

unbabel-comet pins numpy<2 and transformers<5, so it cannot share evalkit's environment;
its checkpoints are plain weights, though, and the network around them is small. So a
published model folder (`hparams.yaml` + `checkpoints/model.ckpt`) is loaded here with
torch and transformers alone (evalkit.metrics.comet_checkpoint, comet_model, comet_embed,
comet_score), giving unbabel-comet's numbers (tests/test_comet_native.py: equal to 1e-5 on
checkpoints of every class, built and scored by unbabel-comet itself).

- `comet[:PATH_OR_ID]`: any COMET model; references are read when the model reads them
  (regression models like wmt22-comet-da, xCOMET), not by reference-free ones.
- `cometkiwi[:PATH_OR_ID]`: reference-free (CometKiwi, or any model that can run without a
  reference, e.g. xCOMET in its QE mode): for documents without a reference.
- `xcomet[:PATH_OR_ID]`: a model with error spans (xCOMET, xCOMET-lite): the score and
  the spans (start, end, severity, confidence) kept in the segment's statistics.

Without a path, each takes `$EVALKIT_COMET_MODEL` (`..._COMETKIWI_...`, `..._XCOMET_...`)
or its published default, from the local Hugging Face cache or, with a network, the hub.
Options: `encoder=FOLDER` (a local copy of the encoder's config and tokenizer: published
hparams name it by hub id, `xlm-roberta-large`), `batch_size=N`, `long=pieces|truncate`
(units over the encoder's 512 tokens are read in sentence pieces by default; `truncate`
cuts them as unbabel-comet does), `device=cpu|cuda|cuda:N` and `dtype=float32|bfloat16`
(evalkit.metrics.torch_device: a missing GPU is a one-line error; bfloat16 is named in the
signature). The signature names the checkpoint with its SHA-256, the encoder and the rule
for long units. Texts are embedded sorted by token count, so a batch pads only to its own
longest text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from evalkit.metrics.base import MeanMetric, MetricUnavailable, Stats, positive_int_from_env
from evalkit.metrics.comet_checkpoint import (
    CHECKPOINT_IN_REPO,
    MODEL_CLASSES,
    REFERENCELESS,
    REGRESSION,
    UNIFIED,
    XCOMET,
    Checkpoint,
    CometCheckpointError,
    checkpoint_sha256,
    folder_sha256,
    load_state_dict,
    read_checkpoint,
    resolve_encoder,
)
from evalkit.metrics.comet_checkpoint import resolve_checkpoint as _resolve
from evalkit.metrics.torch_device import Placement, TorchOptions, placement
from evalkit.registry import Build

if TYPE_CHECKING:  # torch is imported only when a model is loaded
    from evalkit.metrics.comet_model import CometNet
    from evalkit.metrics.comet_score import ErrorSpan, Scored

LongRule = Literal["pieces", "truncate"]

DEFAULT_CHECKPOINT = "Unbabel/wmt22-comet-da"
MODEL_ENV = "EVALKIT_COMET_MODEL"
BATCH_ENV = "EVALKIT_COMET_BATCH_SIZE"
#: severities as numbers in the statistics (0: a label the model made up)
SEVERITIES = ("minor", "major", "critical")

__all__ = [
    "CHECKPOINT_IN_REPO",
    "DEFAULT_CHECKPOINT",
    "Comet",
    "CometKiwi",
    "XComet",
    "load_comet",
    "resolve_checkpoint",
    "spans_of",
]


def resolve_checkpoint(spec: str, cache_dir: str | Path | None = None) -> Path:
    """The local `.ckpt` of a checkpoint spec (file, model folder or hub id)."""
    return _resolve(spec, "comet", cache_dir)


class CometOptions(TorchOptions):
    """`--metric comet:PATH,encoder=FOLDER,batch_size=16,long=truncate,device=cuda`."""

    model_config = ConfigDict(extra="forbid")

    encoder: str | None = None
    batch_size: int | None = Field(default=None, ge=1)
    long: Literal["pieces", "truncate"] = "pieces"


@lru_cache(maxsize=2)
def _load(checkpoint: Path, encoder: Path, place: Placement = Placement()) -> CometNet:
    """The model of a checkpoint on its device and dtype, once per process (two: e.g.
    comet and cometkiwi)."""
    from transformers.utils import logging as hf_logging

    from evalkit.metrics.comet_model import CometNet

    found = read_checkpoint(checkpoint)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # no notes about weights that the checkpoint brings
    try:
        net = CometNet(found.hparams, encoder)
    finally:
        hf_logging.set_verbosity(verbosity)
    net.load_weights(load_state_dict(checkpoint), str(checkpoint))
    return net.to(device=place.device, dtype=place.torch_dtype())


def load_comet(spec: str, encoder: str | None = None) -> CometNet:
    """A COMET model from a folder, `.ckpt` or hub id, for use outside a run."""
    checkpoint = read_checkpoint(resolve_checkpoint(spec))
    folder = resolve_encoder(str(checkpoint.hparams.get("pretrained_model")), encoder)
    return _load(checkpoint.path, folder)


class Comet(MeanMetric):
    """Segment score: the model's score; corpus: their mean (COMET's system score).
    Models with error spans add them to the statistics (see `spans_of`)."""

    name = "comet"
    needs_source = True
    higher_is_better = True
    Options: ClassVar[type[BaseModel]] = CometOptions
    default_checkpoint: ClassVar[str] = DEFAULT_CHECKPOINT
    model_env: ClassVar[str] = MODEL_ENV
    #: None: the model decides; False: never read references (cometkiwi)
    reads_reference: ClassVar[bool | None] = None
    wants_spans: ClassVar[bool] = False
    #: several references: the mean of the scores against each, as COMET's maintainers
    #: advise (xCOMET's error spans are those found against the first reference)
    multi_reference = "mean"

    def __init__(
        self,
        checkpoint: str | None = None,
        batch_size: int | None = None,
        encoder: str | None = None,
        long: LongRule = "pieces",
        device: str = "cpu",
        dtype: str = "float32",
    ) -> None:
        self.place = placement(self.name, device, dtype)
        self.checkpoint = checkpoint or os.environ.get(self.model_env) or self.default_checkpoint
        self.batch_size = batch_size or positive_int_from_env(BATCH_ENV) or 8
        self.encoder = encoder
        self.long: LongRule = long
        self._found: tuple[Checkpoint, Path] | None = None
        self.needs_reference = self._guess_reads_reference()

    @classmethod
    def build(cls, build: Build) -> Comet:
        """`NAME` (the default checkpoint or $EVALKIT_..._MODEL) or `NAME:PATH_OR_ID`."""
        options = build.options
        assert isinstance(options, CometOptions)
        return cls(
            build.argument,
            options.batch_size,
            options.encoder,
            options.long,
            options.device,
            options.dtype,
        )

    def _guess_reads_reference(self) -> bool:
        """Whether references are passed: from the hparams when they are on disk (no
        download, no model), else from the name, as CometKiwi ids say "kiwi" or "qe"."""
        if self.reads_reference is not None:
            return self.reads_reference
        try:
            hparams = read_checkpoint(resolve_checkpoint(self.checkpoint)).hparams
        except (MetricUnavailable, CometCheckpointError, OSError):
            lowered = self.checkpoint.lower()
            return not ("kiwi" in lowered or "-qe" in lowered)
        return _reads_reference(hparams)

    def _resolved(self) -> tuple[Checkpoint, Path]:
        """(checkpoint, encoder folder); MetricUnavailable when either is not here."""
        if self._found is None:
            checkpoint = read_checkpoint(_resolve(self.checkpoint, self.name))
            self._check_class(checkpoint.hparams)
            hub_id = str(checkpoint.hparams.get("pretrained_model", ""))
            self._found = (checkpoint, resolve_encoder(hub_id, self.encoder, self.name))
        return self._found

    def _check_class(self, hparams: dict[str, Any]) -> None:
        model_class = hparams.get("class_identifier")
        if model_class not in MODEL_CLASSES:
            raise CometCheckpointError(
                f"{self.checkpoint}: unsupported COMET model class {model_class!r} "
                f"(supported: {', '.join(MODEL_CLASSES)})"
            )
        if self.needs_reference and not _reads_reference(hparams):
            self.needs_reference = False  # a reference-free model named without "kiwi"
        if not self.needs_reference and _needs_reference(hparams):
            raise CometCheckpointError(
                f"{self.checkpoint} ({model_class}) cannot score without references; "
                "use --metric comet:PATH"
            )
        if self.wants_spans and not _has_spans(hparams):
            raise CometCheckpointError(
                f"{self.checkpoint} ({model_class}) predicts no error spans; "
                "use --metric comet:PATH"
            )

    def check_available(self) -> None:
        self._resolved()

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        from evalkit.metrics.comet_score import regression_scores, unified_scores

        checkpoint, encoder = self._resolved()
        net = _load(checkpoint.path, encoder, self.place)
        refs = references if self.needs_reference else None
        if net.model_class in (REGRESSION, REFERENCELESS):
            key = f"{checkpoint_sha256(checkpoint.path)}|{encoder}|{self.place.key()}"
            scores = regression_scores(
                net, sources, hypotheses, refs, key, self.batch_size, self.long
            )
            return [[score] for score in scores]
        scored = unified_scores(net, sources, hypotheses, refs, self.batch_size, self.long)
        return [_statistics(one, net.word_level) for one in scored]

    def signature(self) -> str:
        checkpoint, encoder = self._resolved()
        hparams = checkpoint.hparams
        model_class = hparams.get("class_identifier")
        encoder_name = str(hparams.get("pretrained_model"))
        if self.encoder is not None:
            encoder_name += f" (local copy, sha256:{folder_sha256(encoder)[:12]})"
        return (
            f"{self.name}|checkpoint:{_label(self.checkpoint)}"
            f"|sha256:{checkpoint_sha256(checkpoint.path)[:16]}|class:{model_class}"
            f"|encoder:{encoder_name}|{'with' if self.needs_reference else 'no'} reference"
            f"|long units:{_long_rule(self.long, str(model_class), encoder)}"
            f"|native loader|torch-{version('torch')}|transformers-{version('transformers')}"
            f"|corpus:mean{self.place.signature()}{self.references_signature()}"
        )

    def segment_spans(self, stats: Stats, hypothesis: str) -> list[dict[str, object]] | None:
        """The spans a unified model (xCOMET, xCOMET-lite) predicted; None for models
        that predict none (their statistics are the score alone)."""
        if len(stats) < 2:
            return None
        return [
            {
                "start": span.start,
                "end": span.end,
                "severity": span.severity,
                "confidence": round(float(span.confidence), 4),
                "text": span.text,
            }
            for span in spans_of(stats, hypothesis)
        ]


class CometKiwi(Comet):
    """Reference-free COMET (CometKiwi): for documents without a reference."""

    name = "cometkiwi"
    needs_reference = False
    default_checkpoint = "Unbabel/wmt22-cometkiwi-da"
    model_env = "EVALKIT_COMETKIWI_MODEL"
    reads_reference = False


class XComet(Comet):
    """xCOMET: the score, and the error spans it predicts (in the statistics)."""

    name = "xcomet"
    default_checkpoint = "Unbabel/XCOMET-XL"
    model_env = "EVALKIT_XCOMET_MODEL"
    wants_spans = True


def _reads_reference(hparams: dict[str, Any]) -> bool:
    model_class = hparams.get("class_identifier")
    if model_class == REFERENCELESS:
        return False
    if model_class == UNIFIED:
        return "ref" in (hparams.get("input_segments") or ["mt", "src", "ref"])
    return True


def _needs_reference(hparams: dict[str, Any]) -> bool:
    model_class = hparams.get("class_identifier")
    if model_class == REGRESSION:
        return True
    return model_class == UNIFIED and "src" not in (hparams.get("input_segments") or ["src"])


def _has_spans(hparams: dict[str, Any]) -> bool:
    model_class = hparams.get("class_identifier")
    return model_class == XCOMET or (
        model_class == UNIFIED and bool(hparams.get("word_level_training"))
    )


def _label(spec: str) -> str:
    """A checkpoint's name in signatures: the hub id, or the model folder's name (paths
    differ between machines; the hash beside it tells checkpoints apart)."""
    path = Path(spec).expanduser()
    if path.is_file():
        return path.parents[1].name if path.parent.name == "checkpoints" else path.name
    return path.name if path.is_dir() else spec


def _long_rule(long: LongRule, model_class: str, encoder: Path) -> str:
    import json

    config = json.loads((encoder / "config.json").read_text(encoding="utf-8"))
    window = int(config.get("max_position_embeddings", 514)) - 2
    if long == "truncate":
        return f"truncated at {window} tokens as unbabel-comet"
    if model_class in (REGRESSION, REFERENCELESS):
        return (
            f"pieces at sentence ends of <={window - 4} tokens, "
            "embedding = token-weighted mean of the pieces'"
        )
    return (
        f"pieces at sentence ends within {window} tokens, src/ref cut at the same places, "
        "score = mean weighted by hypothesis tokens"
    )


def _statistics(scored: Scored, with_spans: bool) -> Stats:
    """[score] or [score, n, then start, end, severity, confidence per span]: spans are
    kept with the score, so they are cached and stored with it."""
    if not with_spans:
        return [scored.score]
    stats = [scored.score, float(len(scored.spans))]
    for span in scored.spans:
        severity = SEVERITIES.index(span.severity) + 1 if span.severity in SEVERITIES else 0
        stats += [float(span.start), float(span.end), float(severity), span.confidence]
    return stats


def spans_of(stats: Stats, hypothesis: str) -> list[ErrorSpan]:
    """The error spans kept in a segment's statistics (for reports)."""
    from evalkit.metrics.comet_score import ErrorSpan

    if len(stats) < 2:
        return []
    spans = []
    for k in range(int(stats[1])):
        start, end, severity, confidence = stats[2 + 4 * k : 6 + 4 * k]
        name = SEVERITIES[int(severity) - 1] if 1 <= severity <= len(SEVERITIES) else "unknown"
        spans.append(
            ErrorSpan(int(start), int(end), name, confidence, hypothesis[int(start) : int(end)])
        )
    return spans
