"""Scores (and error spans) from a loaded `CometNet`, computed as unbabel-comet computes them.

Every step follows unbabel-comet 2.2's inference, so equal weights give equal numbers
(tests/test_comet_native.py checks this against scores unbabel-comet wrote):
tokenization with truncation at the encoder's limit, average pooling without padding, the
regression features, the unified models' joint input `mt </s></s> src </s></s> ref` and its
score weights, and the decoding of error spans from subword probabilities.

One deliberate difference, the default (`long="pieces"`): unbabel-comet cuts every input
at 512 tokens, so the end of a long unit (a whole paragraph or document, when references
are not aligned by sentence) is never read. Here such a unit is read in pieces cut at
sentence ends (`evalkit.embeddings.text_pieces`), and combined by a length-weighted mean:

- regression models embed each text on its own (`comet_embed.py`), so a long text's
  embedding is the mean of its pieces' embeddings weighted by their token counts (with
  average pooling, exactly the pooling over all its tokens, each piece read in its own
  window; with max pooling, the maximum over pieces);
- unified models read mt, src and ref together, so the hypothesis is cut into pieces that
  fit its share of the window, the source and reference are cut at the sentence ends (or
  word boundaries) nearest the same relative positions, each piece triple is scored, and
  the unit's score is the mean of the pieces' scores weighted by their hypothesis tokens;
  spans keep their offsets in the whole hypothesis.

`long="truncate"` reproduces unbabel-comet's truncation exactly (also tested).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from evalkit.allocator import release_free_memory
from evalkit.embeddings import SENTENCE_END
from evalkit.metrics.comet_checkpoint import REFERENCELESS, REGRESSION, XCOMET
from evalkit.metrics.comet_embed import LongRule, content_limit, embed, pieces_of, token_counts
from evalkit.metrics.comet_model import CometNet
from evalkit.metrics.comet_tokenizer import Encoded

#: xCOMET: weights of the [mt:src], [mt:ref], [mt:src:ref] scores and of the MQM score
#: from the spans; of the three inputs' span probabilities (unbabel-comet's constants)
XCOMET_SCORE_WEIGHTS = (0.12, 0.33, 0.33, 0.22)
SPAN_INPUT_WEIGHTS = (0.1667, 0.3333, 0.5)
MQM_PENALTY = {"minor": 1, "major": 5, "critical": 10}


@dataclass(frozen=True)
class ErrorSpan:
    """A predicted error in the hypothesis: character offsets, severity, mean probability."""

    start: int
    end: int
    severity: str
    confidence: float
    text: str


@dataclass(frozen=True)
class Scored:
    score: float
    spans: tuple[ErrorSpan, ...] = ()


# --- regression models: one embedding per text ------------------------------------------


@torch.inference_mode()
def regression_scores(
    net: CometNet,
    sources: Sequence[str],
    hypotheses: Sequence[str],
    references: Sequence[str] | None,
    cache_key: str,
    batch_size: int = 8,
    long: LongRule = "pieces",
) -> list[float]:
    """Scores of a regression (with reference) or referenceless regression model."""
    if net.model_class == REGRESSION and references is None:
        raise ValueError("this COMET model needs references")
    texts = [*sources, *hypotheses, *(references or [])]
    vectors = embed(net, texts, cache_key, batch_size, long)
    src = torch.stack([vectors[t] for t in sources])
    mt = torch.stack([vectors[t] for t in hypotheses])
    if net.model_class == REFERENCELESS:
        features = torch.cat((mt, src, mt * src, torch.abs(mt - src)), dim=1)
    else:
        assert references is not None
        ref = torch.stack([vectors[t] for t in references])
        features = torch.cat(
            (mt, ref, mt * ref, torch.abs(mt - ref), mt * src, torch.abs(mt - src)), dim=1
        )
    scores: list[float] = []
    features = features.to(device=net.device, dtype=net.dtype)
    for start in range(0, len(features), 256):
        scores += net.estimator(features[start : start + 256]).view(-1).float().tolist()
    return scores


# --- unified models: one joint input per triple -------------------------------------------


def _tokenize(net: CometNet, texts: list[str]) -> Encoded:
    return net.encoder.tokenizer.encode(texts, net.encoder.max_positions - 2)


def _joint(net: CometNet, parts: list[list[int]]) -> list[int]:
    """One input from tokenized texts, as COMET's `concat_sequences`: <s> a </s></s> b </s>
    (one </s> between texts for BERT-like encoders), cut at the encoder's limit when the
    texts' tokens exceed it."""
    tokenizer = net.encoder.tokenizer
    separator = [tokenizer.sep_id] * net.encoder.kind.separator
    sequence = parts[0]
    for part in parts[1:]:
        sequence = [tokenizer.cls_id, *sequence[1:-1], *separator, *part[1:-1], tokenizer.sep_id]
    special = 1 + len(parts) * net.encoder.kind.separator
    if sum(len(p) - 2 for p in parts) > net.encoder.max_positions - special:
        sequence = sequence[: net.encoder.max_positions]
    return sequence


@torch.inference_mode()
def _forward_joint(
    net: CometNet, sequences: list[list[int]], mt_lengths: list[int]
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(scores, word logits or None) of a batch of joint inputs."""
    pad = net.encoder.tokenizer.pad_id
    longest = max(len(s) for s in sequences)
    ids = torch.tensor([s + [pad] * (longest - len(s)) for s in sequences])
    lengths = torch.tensor([len(s) for s in sequences])
    mask = torch.arange(longest)[None, :] < lengths[:, None]
    token_types = None
    if net.encoder.kind.token_types:  # 0 on the hypothesis, 1 after it (COMET's rule)
        token_types = torch.ones_like(ids, dtype=torch.int)
        for i, n in enumerate(mt_lengths):
            token_types[i, :n] = 0
        token_types = token_types.to(net.device)
    mixed, layers = net.mixed(ids.to(net.device), mask.to(net.device), token_types)
    scores = net.estimator(mixed[:, 0, :]).view(-1).float().cpu()
    if not net.word_level:
        return scores, None
    word_layer = net.hparams.get("word_layer", 24)
    if not isinstance(word_layer, int) or not 0 <= word_layer < len(layers):
        raise ValueError(f"invalid word_layer {word_layer!r} in the hparams")
    return scores, net.hidden2tag(layers[word_layer]).float().cpu()


def _decode(
    net: CometNet, probs: torch.Tensor, ids: list[int], offsets: list[tuple[int, int]]
) -> list[ErrorSpan]:
    """Error spans of one hypothesis from its subword probabilities (COMET's `decode`: a run
    of tokens whose most likely label is an error; a run still open at the end is dropped,
    as there)."""
    spans: list[ErrorSpan] = []
    run: dict | None = None
    for token, row, offset in zip(ids, probs[: len(offsets)], offsets, strict=True):
        probability, label_id = torch.topk(row, 1)
        label = net.labels[int(label_id[0])]
        if label.startswith("I"):
            if run is None:
                run = {"tokens": [], "severity": label.split("-")[1], "start": offset[0]}
                run["confidence"] = []
            run["tokens"].append(token)
            run["confidence"].append(probability)
            run["end"] = offset[1]
        elif run is not None:
            spans.append(
                ErrorSpan(
                    start=run["start"],
                    end=run["end"],
                    severity=run["severity"],
                    confidence=torch.cat(run["confidence"]).mean().item(),
                    text=net.encoder.tokenizer.decode(run["tokens"]),
                )
            )
            run = None
    return spans


def _mqm(spans: Sequence[ErrorSpan]) -> float:
    penalty = min(25, sum(MQM_PENALTY.get(span.severity, 0) for span in spans))
    return (25 - penalty) / 25


def _unified_batch(
    net: CometNet, hypotheses: list[str], sources: list[str] | None, refs: list[str] | None
) -> list[Scored]:
    """One batch through a unified model: COMET's `prepare_sample` and `predict_step`."""
    mt = _tokenize(net, hypotheses)
    inputs = [mt.ids]
    if sources is not None:
        inputs.append(_tokenize(net, sources).ids)
    if refs is not None:
        inputs.append(_tokenize(net, refs).ids)
    n = len(hypotheses)
    # three inputs are read as [mt:src], [mt:ref] and [mt:src:ref]
    combos = [(0, 1), (0, 2), (0, 1, 2)] if len(inputs) == 3 else [tuple(range(len(inputs)))]
    mt_lengths = [len(ids) for ids in mt.ids]
    outputs = [
        _forward_joint(
            net, [_joint(net, [inputs[j][i] for j in combo]) for i in range(n)], mt_lengths
        )
        for combo in combos
    ]
    scores = [out[0] for out in outputs]
    spans: list[list[ErrorSpan]] = [[] for _ in range(n)]
    if net.word_level:
        seq_len = max(mt_lengths)
        probs = [
            torch.softmax(out[1], dim=2)[:, :seq_len, :] for out in outputs if out[1] is not None
        ]
        if len(probs) == 3:  # weighted by input, as COMET weighs them
            probs = [p * w for p, w in zip(probs, torch.tensor(SPAN_INPUT_WEIGHTS), strict=True)]
        summed = torch.sum(torch.stack(probs), dim=0)
        spans = [_decode(net, summed[i], mt.ids[i], mt.offsets[i]) for i in range(n)]
    if net.model_class == XCOMET:
        clamped = [torch.where(s > 1.0, 1.0, s) for s in scores]
        mqm = torch.tensor([_mqm(s) for s in spans])
        if len(clamped) == 3:
            regression = sum(c * w for c, w in zip(clamped, XCOMET_SCORE_WEIGHTS[:3], strict=True))
        else:
            regression = clamped[0] * sum(XCOMET_SCORE_WEIGHTS[:3])
        final = regression + mqm * XCOMET_SCORE_WEIGHTS[3]
    else:
        final = torch.stack(scores).mean(dim=0)
    return [Scored(float(final[i]), tuple(spans[i])) for i in range(n)]


@torch.inference_mode()
def unified_scores(
    net: CometNet,
    sources: Sequence[str] | None,
    hypotheses: Sequence[str],
    references: Sequence[str] | None,
    batch_size: int = 8,
    long: LongRule = "pieces",
) -> list[Scored]:
    """Scores and spans of a unified (CometKiwi, xCOMET-lite) or xCOMET model. The model's
    `input_segments` decide which of source and reference it reads."""
    segments = net.input_segments
    use_src = sources if "src" in segments else None
    use_ref = references if "ref" in segments else None
    if use_src is None and use_ref is None:
        raise ValueError("this COMET model reads references: give them")
    triples = []  # (unit index, weight, mt, src, ref, mt offset map)
    for i, mt in enumerate(hypotheses):
        src = use_src[i] if use_src is not None else None
        ref = use_ref[i] if use_ref is not None else None
        for weight, piece in _unit_pieces(net, mt, src, ref, long):
            triples.append((i, weight, *piece))
    order = sorted(range(len(triples)), key=lambda k: len(triples[k][3] or triples[k][2]))
    results: dict[int, Scored] = {}
    for start in range(0, len(order), batch_size):
        chosen = [triples[k] for k in order[start : start + batch_size]]
        batch = _unified_batch(
            net,
            [t[2] for t in chosen],
            [t[3] for t in chosen] if use_src is not None else None,
            [t[4] for t in chosen] if use_ref is not None else None,
        )
        results.update(zip(order[start : start + batch_size], batch, strict=True))
        release_free_memory()  # activations freed: their pages leave the process
    return _combine(len(hypotheses), triples, results)


def _combine(n: int, triples: list, results: dict[int, Scored]) -> list[Scored]:
    """Per unit: the length-weighted mean of its pieces' scores, their spans in order."""
    totals = [0.0] * n
    weights = [0.0] * n
    spans: list[list[ErrorSpan]] = [[] for _ in range(n)]
    for k, (unit, weight, _, _, _, offsets) in enumerate(triples):
        totals[unit] += results[k].score * weight
        weights[unit] += weight
        spans[unit] += [_shifted(span, offsets) for span in results[k].spans]
    return [Scored(totals[i] / weights[i], tuple(spans[i])) for i in range(n)]


def _shifted(span: ErrorSpan, offsets: list[int] | None) -> ErrorSpan:
    if offsets is None:
        return span
    start = offsets[min(span.start, len(offsets) - 1)] if offsets else 0
    end = offsets[span.end - 1] + 1 if offsets and span.end > 0 else start
    return ErrorSpan(start, end, span.severity, span.confidence, span.text)


def _unit_pieces(
    net: CometNet, mt: str, src: str | None, ref: str | None, long: LongRule
) -> list[tuple[float, tuple[str, str | None, str | None, list[int] | None]]]:
    """The piece triples a unit is scored in, with their weights: the unit itself (weight
    1) when it fits the window or long="truncate"."""
    whole = [(1.0, (mt, src, ref, None))]
    if long == "truncate":
        return whole
    texts = [t for t in (mt, src, ref) if t is not None]
    counts = token_counts(net, texts)
    budget = net.encoder.max_positions - (1 + len(texts) * net.encoder.kind.separator)
    limit = content_limit(net)
    if sum(counts) <= budget and max(counts) <= limit:
        return whole
    share = max(1, min(limit, budget * counts[0] // sum(counts)))
    mt_pieces = pieces_of(net, mt, share)
    if len(mt_pieces) < 2:  # a short hypothesis of a long unit: read as COMET would
        return whole
    starts = _piece_starts(mt, mt_pieces)
    fractions = [s / max(1, len(mt)) for s in starts[1:]]
    src_parts = _cut_at(src, fractions) if src is not None else [None] * len(mt_pieces)
    ref_parts = _cut_at(ref, fractions) if ref is not None else [None] * len(mt_pieces)
    piece_counts = token_counts(net, mt_pieces)
    return [
        (
            float(max(1, piece_counts[j])),
            (piece, src_parts[j], ref_parts[j], _char_map(mt, piece, starts[j])),
        )
        for j, piece in enumerate(mt_pieces)
    ]


def _piece_starts(text: str, pieces: list[str]) -> list[int]:
    """Where each piece starts in the text (pieces differ from it only in whitespace)."""
    starts, cursor = [], 0
    for piece in pieces:
        while cursor < len(text) and text[cursor].isspace():
            cursor += 1
        starts.append(cursor)
        mapping = _char_map(text, piece, cursor)
        cursor = mapping[-1] + 1 if mapping else cursor
    return starts


def _char_map(text: str, piece: str, start: int) -> list[int]:
    """For each character of `piece`, its index in `text`, the piece starting at `start`
    (a space in the piece stands for a run of whitespace in the text)."""
    mapping, cursor = [], start
    for char in piece:
        if char.isspace():
            mapping.append(cursor)
            while cursor < len(text) and text[cursor].isspace():
                cursor += 1
        else:
            while cursor < len(text) and text[cursor] != char:
                cursor += 1
            mapping.append(cursor)
            cursor += 1
    return mapping


_WHITESPACE = re.compile(r"\s+")


def _cut_at(text: str, fractions: list[float]) -> list[str]:
    """The text cut into len(fractions) + 1 parts near the given fractions of its length:
    at the nearest sentence end when one is within half a part's length, else at the
    nearest word boundary."""
    ends = [m.end() for m in SENTENCE_END.finditer(text)]
    words = [m.end() for m in _WHITESPACE.finditer(text)]
    half = len(text) / (2 * (len(fractions) + 1))
    cuts, previous = [], 0
    for fraction in fractions:
        target = fraction * len(text)
        candidates = [e for e in ends if e > previous and abs(e - target) <= half] or [
            w for w in words if w > previous
        ]
        cut = min(candidates, key=lambda c: abs(c - target)) if candidates else previous
        cuts.append(max(cut, previous))
        previous = cuts[-1]
    bounds = [0, *cuts, len(text)]
    return [text[a:b].strip() for a, b in itertools.pairwise(bounds)]
