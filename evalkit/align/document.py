"""Align one document with its reference: paragraphs first, then sentences inside them.

Paragraphs are aligned over the whole document; sentences only inside each aligned group
of paragraphs, which keeps the search small and stops a sentence link from crossing a
paragraph link. Lines with nothing to translate are set aside first on both sides, so
they cannot shift the rest (see `lines.py`). How sure it is of each link it finds, and
which links a person should check, is `judging.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from evalkit.align import confidence as link_model
from evalkit.align.anchors import AnchorScore
from evalkit.align.confidence import LinkEvidence
from evalkit.align.confidence_trees import TreeModel, shipped_model
from evalkit.align.costs import (
    AlignParams,
    CombinedCost,
    EmbeddingCost,
    LengthCost,
    length_ratio,
    linked_ratio,
)
from evalkit.align.dp import DEFAULT_STEPS, Link, LinkCost, align_sequences, link_margins
from evalkit.align.judging import (
    LOW_CONFIDENCE_SHARE,
    MARGIN_SCALE,
    AlignedLink,
    judge_links,
    link_evidence,
    margin_confidence,
)
from evalkit.align.lines import SkippedLine, split_translatable
from evalkit.align.sentence_links import DocumentSentences, sentences_within
from evalkit.embeddings import (
    DEFAULT_ENCODER,
    SentenceEncoder,
    embedding_text,
    encoder_name,
    load_encoder,
)

AlignUnit = Literal["paragraph", "sentence"]
Method = Literal["embedding", "length"]

#: per method; embedding 2: omission-aware pricing (merges no better than their best
#: part, names and numbers), confidence as a fitted probability of the link being right;
#: 3: distances normalised by each span's nearest units, a unit nothing claims cheaper to
#: leave out, and the confidence model's mutual-nearest, neighbour and merge features.
#: 4: merges priced against the document's linked length ratio; 5: the confidence model
#: is boosted trees. The length method is unchanged (scripts compare its signature).
ALIGNER_VERSION = {"length": 1, "embedding": 5}


@dataclass
class DocumentAlignment:
    unit: AlignUnit
    method: str
    signature: str
    links: list[AlignedLink]
    src_units: list[str]
    ref_units: list[str]
    skipped_src: list[SkippedLine] = field(default_factory=list)
    skipped_ref: list[SkippedLine] = field(default_factory=list)

    @property
    def mean_confidence(self) -> float:
        if not self.links:
            return 0.0
        return sum(link.confidence for link in self.links) / len(self.links)

    @property
    def flagged(self) -> int:
        return sum(link.low_confidence for link in self.links)

    @property
    def unreliable(self) -> bool:
        """Too many links flagged to trust the document's reference-based scores."""
        confidences = [link.confidence for link in self.links]
        return link_model.unreliable(self.method, confidences, self.flagged)


class Aligner:
    """Aligns document pairs with one method; holds the encoder so it loads once."""

    def __init__(
        self,
        method: Method = "embedding",
        encoder: str = DEFAULT_ENCODER,
        params: AlignParams | None = None,
        confidence: TreeModel | None = None,
    ) -> None:
        self.method = method
        #: the embedding cost's and the confidence model's constants (the bench fits others)
        self.params = params or AlignParams()
        self.confidence = confidence or shipped_model()
        #: which encoder (`e5-small`, `st:MODEL`, `openai:MODEL,...`); loaded when first needed
        self.encoder_spec = encoder
        self._encoder: SentenceEncoder | None = None

    def use_encoder(self, encoder: SentenceEncoder) -> None:
        """Use this encoder instead of loading one by name (e.g. a cached one)."""
        self._encoder = encoder

    @property
    def encoder(self) -> SentenceEncoder | None:
        if self.method == "length":
            return None
        if self._encoder is None:
            self._encoder = load_encoder(self.encoder_spec)
        return self._encoder

    def signature(self) -> str:
        steps = ",".join(f"{a}:{b}" for a, b in DEFAULT_STEPS)
        parts = [
            f"align:v{ALIGNER_VERSION[self.method]}",
            f"method:{self.method}",
            f"steps:{steps}",
        ]
        if self.method == "embedding":
            # the name without loading the model: a fully stored run never loads it
            name = self._encoder.name if self._encoder else encoder_name(self.encoder_spec)
            parts += [
                f"flag-below:{self.confidence.flag_below:g}",
                f"confidence:trees({self.confidence.trees.fingerprint()})",
                f"encoder:{name}",
                self.params.signature(),
                "span-weight:units-product",
                "length-ratio:linked-units",
            ]
        else:
            parts += [
                f"flag-below:{LOW_CONFIDENCE_SHARE}xmedian",
                f"confidence:margin/{MARGIN_SCALE[self.method]}",
                "cost:gale-church",
            ]
        return "|".join(parts)

    def align_units(
        self,
        src: Sequence[str],
        ref: Sequence[str],
        context: tuple[np.ndarray, np.ndarray] | None = None,
        ratio: float | None = None,
        params: AlignParams | None = None,
    ) -> list[AlignedLink]:
        """Align two lists of units (0-based input, 0-based links); no units skipped.
        `params`: other cost constants than the aligner's (sentences inside a paragraph
        link, which merge far more often than a reference cuts one).

        `context`: source and reference unit embeddings of the whole document, to judge a
        link against; `ratio`: the document's length ratio. Both matter when aligning a
        few sentences inside one paragraph link, where local figures mean little.

        A link's confidence comes from its margin: how much more the cheapest alignment
        without it costs (`dp.link_margins`). A link is doubtful when another split or
        merge was nearly as cheap, whatever the absolute similarity of its two sides,
        which differs by encoder, language pair and genre.
        """
        if not src and not ref:
            return []
        # surrounding spaces are layout, not content: they must not move a link
        src = [text.strip() for text in src]
        ref = [text.strip() for text in ref]
        length = LengthCost([len(t) for t in src], [len(t) for t in ref], ratio)
        embedding = None
        params = params or self.params
        if self.encoder is not None and src and ref:
            src_context, ref_context = context if context is not None else (None, None)
            embedding = EmbeddingCost(
                src,
                ref,
                self.encoder,
                src_context=src_context,
                ref_context=ref_context,
                neighbours=params.neighbours,
            )
        anchors = AnchorScore(src, ref) if embedding is not None else None
        cost = _memoised(CombinedCost(length, embedding, params, anchors))
        found = align_sequences(len(src), len(ref), cost)
        if embedding is not None and ratio is None:
            refit = linked_ratio(found, length.src_lengths, length.ref_lengths)
            if refit != length.ratio:
                length = LengthCost(length.src_lengths, length.ref_lengths, refit)
                cost = _memoised(CombinedCost(length, embedding, params, anchors))
                found = align_sequences(len(src), len(ref), cost)
        margins = link_margins(len(src), len(ref), cost, found)
        scale = MARGIN_SCALE[self.method]
        sizes = (len(src), len(ref))

        def seen(link: Link, margin: float) -> tuple[float, LinkEvidence | None]:
            """The margin confidence (lengths), or the evidence the confidence model
            judges once the whole document is aligned (embeddings)."""
            if embedding is not None:
                return 0.0, link_evidence(link, margin, embedding, length, anchors, params, *sizes)
            if self.encoder is not None:
                # one side empty (a paragraph link's sentences with none on the other
                # side): every unit is left out, with nothing it could have been linked to
                return 0.0, LinkEvidence(math.inf, 2.0, 0.0, unlinked=True)
            linked = bool(link.src and link.ref)
            return (round(margin_confidence(margin, scale), 4) if linked else 0.0), None

        links = []
        for link, margin in zip(found, margins, strict=True):
            confidence, evidence = seen(link, margin)
            links.append(
                AlignedLink(link.src, link.ref, round(link.cost, 4), confidence, evidence=evidence)
            )
        return links

    def align_paragraphs(self, src: Sequence[str], ref: Sequence[str]) -> DocumentAlignment:
        """Align non-empty lines; links are 1-based over each side's non-empty lines."""
        src_kept, src_skipped = split_translatable(src, ref)
        ref_kept, ref_skipped = split_translatable(ref, src)
        links = [
            AlignedLink(
                tuple(src_kept[i] + 1 for i in link.src),
                tuple(ref_kept[j] + 1 for j in link.ref),
                link.cost,
                link.confidence,
                evidence=link.evidence,
            )
            for link in self.align_units([src[i] for i in src_kept], [ref[j] for j in ref_kept])
        ]
        links = judge_links(links, self.confidence)
        return DocumentAlignment(
            "paragraph",
            self.method,
            self.signature(),
            links,
            list(src),
            list(ref),
            src_skipped,
            ref_skipped,
        )

    def align_sentences(
        self, src: Sequence[str], ref: Sequence[str], src_lang: str, ref_lang: str
    ) -> DocumentAlignment:
        """Sentences aligned inside each paragraph link; 1-based over each side's sentences."""
        paragraphs = self.align_paragraphs(src, ref)
        split = DocumentSentences.split(src, ref, src_lang, ref_lang)
        context = None
        if self.encoder is not None:
            context = (
                self.encoder.encode([embedding_text(t) for t in split.src]),
                self.encoder.encode([embedding_text(t) for t in split.ref]),
            )
        ratio = length_ratio(
            [len(src[p - 1]) for g in paragraphs.links for p in g.src],
            [len(ref[p - 1]) for g in paragraphs.links for p in g.ref],
        )
        # inside a paragraph link every sentence has its counterpart somewhere in the
        # link: a merge is never a cut there, and is not priced as one
        inside = replace(self.params, merge_gain_weight=0.0)
        found = sentences_within(
            paragraphs.links,
            paragraphs.skipped_src,
            paragraphs.skipped_ref,
            split,
            lambda s, r: self.align_units(s, r, context, ratio, inside),
        )
        return DocumentAlignment(
            "sentence",
            self.method,
            self.signature(),
            judge_links(found.links, self.confidence),
            split.src,
            split.ref,
            found.skipped_src,
            found.skipped_ref,
        )

    def align(
        self,
        src: Sequence[str],
        ref: Sequence[str],
        unit: AlignUnit = "paragraph",
        src_lang: str = "ar",
        ref_lang: str = "en",
    ) -> DocumentAlignment:
        if unit == "sentence":
            return self.align_sentences(src, ref, src_lang, ref_lang)
        return self.align_paragraphs(src, ref)


def _memoised(cost: LinkCost) -> LinkCost:
    """The same cost, computed once per link: the search and the margins ask again."""
    seen: dict[tuple[int, int, int, int], float] = {}

    def cached(i0: int, i1: int, j0: int, j1: int) -> float:
        key = (i0, i1, j0, j1)
        if key not in seen:
            seen[key] = cost(i0, i1, j0, j1)
        return seen[key]

    return cached
