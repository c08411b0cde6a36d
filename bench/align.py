"""Paragraph alignment on parallel corpora nobody tuned to: exact links, time, calibration.

Builds the corpora of `align_corpora.py` (verse, hadith and legal text, references that
leave out chains of narrators, cut paragraphs, add notes or swap paragraphs; each
re-paragraphed at random with several seeds), aligns every document with each method
(`Aligner("embedding")`, the default, and `Aligner("length")`), and reports per corpus
and method the exact-link precision, recall and F1 (micro-averaged over the corpus's
true links: a link counts only when both of its sides match) and the seconds spent.

Every constant of the embedding method is chosen leave-one-corpus-out (`align_fit.py`):
the cost's constants over a grid, the confidence trees and their flag threshold, each
corpus's figures from constants fitted on the others only. The
held-out table, the flags (the share of wrong links flagged, and of right ones), the
reliability of the confidence and the pairing of documents (`evalkit pair`'s method) all
come from those folds; the constants fitted on every corpus are printed beside the ones
in the code.

Lines set aside: every line of these corpora is real text, so every line the aligner sets
aside as having nothing to translate (`evalkit.align.lines`) is a false fire. They are
counted per corpus on the bench's documents and on the whole corpus laid out one unit a
line (`align_corpora.line_documents`), where short units stand alone (`--set-aside-only`
prints that table alone, in seconds).

Usage: python bench/align.py [--corpus NAME ...] [--method NAME ...] [--seeds 0 1 2 3 4 5]
       [--docs 2] [--paragraphs 12] [--json bench/results/align.json] [--set-aside-only]
       [--cache FILE] [--write-confidence]
About an hour on 2 cores the first time, nearly all of it the encoder; with --cache, a
rerun takes about 14 minutes (24 candidate constants × 11 corpora, the trees of every
fold and inner fold, then the pairing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from align_corpora import (  # noqa: E402
    CORPORA,
    AlignCase,
    CorpusSpec,
    Link,
    MissingCorpus,
    build_corpus,
    median_chain_share,
    unrelated_cases,
)
from align_fit import (  # noqa: E402
    FLAG_SHARE,
    GRID,
    TREE_SETTINGS,
    Counts,
    Fold,
    LinkRecord,
    TreeFits,
    fit,
    flag_shares,
    judged_documents,
    leave_one_out,
)
from align_set_aside import set_aside_counts, set_aside_table  # noqa: E402

from evalkit.align import Aligner  # noqa: E402
from evalkit.align.confidence import (  # noqa: E402
    FEATURES,
    UNRELIABLE_WRONG_SHARE,
    LinkEvidence,
)
from evalkit.align.confidence_trees import (  # noqa: E402
    SCHEMA_VERSION,
    TREES_FILE,
    TreeModel,
    shipped_model,
)
from evalkit.align.costs import AlignParams  # noqa: E402
from evalkit.align.pairing import (  # noqa: E402
    DocumentFile,
    embedding_alignment,
    pair_documents,
)
from evalkit.cache import TranslationCache  # noqa: E402
from evalkit.embeddings import (  # noqa: E402
    DEFAULT_ENCODER,
    CachedEncoder,
    SentenceEncoder,
    StoredEncoder,
)

#: upper edges of the reliability curve's confidence bins
BIN_EDGES = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0)


@dataclass
class LinkOutcome:
    """One link the aligner proposed, and whether the truth has it."""

    confidence: float
    low_confidence: bool
    correct: bool
    #: what the search saw (embedding method): refitted leave-one-corpus-out
    evidence: LinkEvidence | None = None
    #: the document the link belongs to
    document: str = ""


@dataclass
class MethodResult:
    corpus: str
    method: str
    docs: int
    true_links: int
    found_links: int
    correct_links: int
    seconds: float
    outcomes: list[LinkOutcome] = field(default_factory=list, repr=False)

    @property
    def precision(self) -> float:
        return self.correct_links / self.found_links if self.found_links else 0.0

    @property
    def recall(self) -> float:
        return self.correct_links / self.true_links if self.true_links else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, case: AlignCase, outcomes: list[LinkOutcome], seconds: float) -> None:
        self.docs += 1
        self.true_links += len(case.links)
        self.found_links += len(outcomes)
        self.correct_links += sum(o.correct for o in outcomes)
        self.seconds += seconds
        self.outcomes += outcomes

    def summary(self) -> dict[str, object]:
        return {
            "corpus": self.corpus,
            "method": self.method,
            "docs": self.docs,
            "true_links": self.true_links,
            "found_links": self.found_links,
            "correct_links": self.correct_links,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "seconds": round(self.seconds, 2),
        }


def zero_based(alignment_links) -> list[Link]:
    """The aligner's 1-based links as 0-based (source, reference) index tuples."""
    return [
        (tuple(i - 1 for i in link.src), tuple(j - 1 for j in link.ref)) for link in alignment_links
    ]


def align_case(aligner: Aligner, case: AlignCase) -> tuple[list[LinkOutcome], float]:
    """The outcome of every proposed link of one document, and the seconds it took."""
    started = time.perf_counter()
    alignment = aligner.align_paragraphs(case.src, case.ref)
    seconds = time.perf_counter() - started
    truth = set(case.links)
    outcomes = [
        LinkOutcome(
            link.confidence, link.low_confidence, found in truth, link.evidence, case.doc_id
        )
        for link, found in zip(alignment.links, zero_based(alignment.links), strict=True)
    ]
    return outcomes, seconds


def evaluate(
    aligner: Aligner, corpus: str, cases: Sequence[AlignCase]
) -> tuple[MethodResult, dict[int, MethodResult]]:
    """The corpus's result, and the result of each seed's documents alone."""
    total = MethodResult(corpus, aligner.method, 0, 0, 0, 0, 0.0)
    by_seed: dict[int, MethodResult] = {}
    for case in cases:
        outcomes, seconds = align_case(aligner, case)
        seed = by_seed.setdefault(case.seed, MethodResult(corpus, aligner.method, 0, 0, 0, 0, 0.0))
        for result in (total, seed):
            result.add(case, outcomes, seconds)
    return total, by_seed


def merged(parts: Sequence[MethodResult]) -> MethodResult:
    """Several results of one corpus and method as one (e.g. the seeds of a split)."""
    out = MethodResult(parts[0].corpus, parts[0].method, 0, 0, 0, 0, 0.0)
    for part in parts:
        out.docs += part.docs
        out.true_links += part.true_links
        out.found_links += part.found_links
        out.correct_links += part.correct_links
        out.seconds += part.seconds
        out.outcomes += part.outcomes
    return out


# --- calibration ------------------------------------------------------------------------


def error_rates(outcomes: Sequence[LinkOutcome]) -> dict[str, dict[str, float]]:
    """Links flagged low-confidence against the others: how many, and how many wrong."""
    out = {}
    for name, flagged in (("flagged", True), ("unflagged", False)):
        group = [o for o in outcomes if o.low_confidence == flagged]
        wrong = sum(not o.correct for o in group)
        out[name] = {
            "links": len(group),
            "wrong": wrong,
            "error_rate": round(wrong / len(group), 4) if group else 0.0,
        }
    return out


def reliability(outcomes: Sequence[LinkOutcome]) -> list[dict[str, float]]:
    """Links binned by confidence: the fraction correct and the mean confidence per bin."""
    bins = []
    low = 0.0
    for high in BIN_EDGES:
        group = [
            o
            for o in outcomes
            if low <= o.confidence < high or (high == BIN_EDGES[-1] and o.confidence == high)
        ]
        bins.append(
            {
                "from": low,
                "to": high,
                "links": len(group),
                "correct": round(sum(o.correct for o in group) / len(group), 4) if group else None,
                "mean_confidence": (
                    round(sum(o.confidence for o in group) / len(group), 4) if group else None
                ),
            }
        )
        low = high
    return bins


def calibration(results: Sequence[MethodResult], method: str) -> dict[str, object]:
    outcomes = [o for r in results if r.method == method for o in r.outcomes]
    wrong = [o for o in outcomes if not o.correct]
    return {
        "links": len(outcomes),
        "wrong": len(wrong),
        "wrong_links_flagged": sum(o.low_confidence for o in wrong),
        **error_rates(outcomes),
        "bins": reliability(outcomes),
    }


# --- printing ---------------------------------------------------------------------------


def results_table(results: Sequence[MethodResult]) -> list[str]:
    lines = [
        "| corpus | docs | true links | method | precision | recall | F1 | seconds |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.corpus} | {r.docs} | {r.true_links} | {r.method} | {r.precision:.3f} "
            f"| {r.recall:.3f} | {r.f1:.3f} | {r.seconds:.1f} |"
        )
    for method in dict.fromkeys(r.method for r in results):
        f1s = [r.f1 for r in results if r.method == method]
        lines.append(f"| mean | | | {method} | | | {sum(f1s) / len(f1s):.3f} | |")
    return lines


def calibration_table(method: str, figures: dict) -> list[str]:
    flagged, unflagged = figures["flagged"], figures["unflagged"]
    lines = [
        f"{method}: {figures['links']} links, {figures['wrong']} wrong "
        f"({figures['wrong_links_flagged']} of them flagged); flagged low-confidence "
        f"{flagged['links']}, wrong {flagged['error_rate']:.1%}; unflagged "
        f"{unflagged['links']}, wrong {unflagged['error_rate']:.1%}",
        "| confidence | links | fraction correct | mean confidence |",
        "| --- | ---: | ---: | ---: |",
    ]
    for b in figures["bins"]:
        correct = "–" if b["correct"] is None else f"{b['correct']:.3f}"
        mean = "–" if b["mean_confidence"] is None else f"{b['mean_confidence']:.3f}"
        lines.append(f"| {b['from']:.1f}–{b['to']:.1f} | {b['links']} | {correct} | {mean} |")
    return lines


def corpus_info(spec: CorpusSpec, cases: Sequence[AlignCase]) -> dict[str, object]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "source": spec.source,
        "licence": spec.licence,
        "docs": len(cases),
        "source_paragraphs": sum(len(c.src) for c in cases),
        "reference_paragraphs": sum(len(c.ref) for c in cases),
        "true_links": sum(len(c.links) for c in cases),
        "abridged_reference_paragraphs": sum(len(c.abridged) for c in cases),
        "language_pairs": sorted({f"{c.src_lang}-{c.ref_lang}" for c in cases}),
        **({"median_chain_share": median_chain_share(spec)} if spec.omission else {}),
    }


# --- pairing ---------------------------------------------------------------------------

#: documents per corpus that `evalkit pair`'s method must pair with their references
PAIRING_DOCS = 5


def pairing_check(
    cases: Sequence[AlignCase], encoder: SentenceEncoder, aligner: Aligner
) -> dict[str, object] | None:
    """The first `PAIRING_DOCS` documents of a corpus and their references, shuffled into
    one folder's worth of files, paired as `evalkit pair` pairs them: how many pairs are
    right, wrong, or missing. Documents of one corpus are of one genre and one source, so
    only a content match tells them apart. None for a corpus whose first documents are of
    several language pairs (`evalkit pair` pairs one pair of languages at a time)."""
    chosen = list(cases[:PAIRING_DOCS])
    if len({(c.src_lang, c.ref_lang) for c in chosen}) > 1:
        return None
    documents = [
        DocumentFile(Path(f"{case.doc_id}.{side}.txt"), lang, tuple(texts))
        for case in chosen
        for side, lang, texts in (
            ("src", case.src_lang, case.src),
            ("ref", case.ref_lang, case.ref),
        )
    ]
    src_lang, ref_lang = chosen[0].src_lang, chosen[0].ref_lang
    pairing = pair_documents(documents, src_lang, ref_lang, embedding_alignment(encoder, aligner))
    right = sum(
        s.path.name.removesuffix(".src.txt") == r.path.name.removesuffix(".ref.txt")
        for s, r, _ in pairing.pairs
    )
    return {
        "docs": len(chosen),
        "right": right,
        "wrong": len(pairing.pairs) - right,
        "missing": len(chosen) - len(pairing.pairs),
    }


# --- leave-one-corpus-out --------------------------------------------------------------


def fold_aligner(fold: Fold) -> Aligner:
    """An embedding aligner with the constants of one held-out fold."""
    return Aligner(
        "embedding",
        params=fold.params,
        confidence=fold.model,
    )


def run_grid(
    corpora: Sequence[tuple[CorpusSpec, list[AlignCase]]], encoder: SentenceEncoder
) -> tuple[
    dict[AlignParams, dict[str, Counts]],
    TreeFits,
    dict[str, MethodResult],
]:
    """Every corpus aligned with every candidate of `align_fit.GRID`, the shipped
    constants first (so their pass pays for the embeddings and its seconds are the ones
    reported), and its documents' sources with other documents' references
    (`unrelated_cases`), which the confidence model learns from. Also the shipped
    constants' results, as the other methods report them."""
    counts: dict[AlignParams, dict[str, Counts]] = {}
    links: dict[AlignParams, dict[str, list[LinkRecord]]] = {}
    unrelated: dict[AlignParams, dict[str, list[LinkRecord]]] = {}
    shipped: dict[str, MethodResult] = {}
    for params in dict.fromkeys((AlignParams(), *GRID)):
        aligner = Aligner("embedding", params=params)
        aligner.use_encoder(encoder)
        counts[params], links[params], unrelated[params] = {}, {}, {}
        for spec, cases in corpora:
            mismatched, _ = evaluate(aligner, spec.name, unrelated_cases(cases))
            unrelated[params][spec.name] = [
                LinkRecord(o.evidence, o.correct, o.document)
                for o in mismatched.outcomes
                if o.evidence
            ]
            total, _ = evaluate(aligner, spec.name, cases)
            counts[params][spec.name] = Counts(
                total.true_links, total.found_links, total.correct_links, total.seconds
            )
            links[params][spec.name] = [
                LinkRecord(o.evidence, o.correct, o.document) for o in total.outcomes if o.evidence
            ]
            if params == AlignParams():
                shipped[spec.name] = total
                print(f"  {spec.name} / embedding: F1 {total.f1:.3f}", file=sys.stderr)
    return counts, TreeFits(links, unrelated), shipped


def fold_table(folds: Sequence[Fold], length: dict[str, MethodResult], first_seconds) -> list[str]:
    lines = [
        "held out: each corpus scored with constants chosen on the other corpora",
        "| corpus | F1 held out | F1 length | seconds | wrong links flagged | right links "
        "flagged | constants chosen without it |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for fold in folds:
        caught, false = flag_shares(fold.flagged, np.array(fold.correct, dtype=bool))
        wrong = sum(not c for c in fold.correct)
        other = length.get(fold.corpus)
        length_f1 = f"{other.f1:.3f}" if other else "–"
        lines.append(
            f"| {fold.corpus} | {fold.counts.f1:.3f} | {length_f1} | "
            f"{first_seconds[fold.corpus]:.1f} | {caught:.2f} of {wrong} | {false:.2f} | "
            f"{fold.params.signature()} |"
        )
    return lines


def held_out_flags(folds: Sequence[Fold], stretch: Sequence[str]) -> dict[str, object]:
    """Flags and calibration pooled over the held-out folds (stretch corpora apart)."""
    kept = [f for f in folds if f.corpus not in stretch]
    chances = np.array([c for f in kept for c in f.chances])
    correct = np.array([c for f in kept for c in f.correct], dtype=bool)
    flagged = np.concatenate([f.flagged for f in kept])
    caught, false = flag_shares(flagged, correct)
    outcomes = [
        LinkOutcome(float(p), bool(g), bool(c))
        for p, g, c in zip(chances, flagged, correct, strict=True)
    ]
    return {
        "links": len(outcomes),
        "wrong": int((~correct).sum()),
        "wrong_links_flagged_share": round(caught, 4),
        "right_links_flagged_share": round(false, 4),
        "wrong_links_flagged": int((flagged & ~correct).sum()),
        **error_rates(outcomes),
        "bins": reliability(outcomes),
    }


def held_out_documents(folds: Sequence[Fold], stretch: Sequence[str]) -> dict[str, int]:
    """Each held-out document judged as evalkit judges it (`confidence.unreliable`, from
    its fold's probabilities) against the share of its links truly wrong: documents with
    more than `UNRELIABLE_WRONG_SHARE` of them wrong should be warned of, the rest not."""
    figures = {"bad": 0, "bad_warned": 0, "sound": 0, "sound_warned": 0}
    for fold in folds:
        if fold.corpus in stretch:
            continue
        judged = judged_documents(fold.chances, fold.correct, fold.documents, fold.model.flag_below)
        for warned, wrong_share in judged:
            kind = "bad" if wrong_share > UNRELIABLE_WRONG_SHARE else "sound"
            figures[kind] += 1
            figures[f"{kind}_warned"] += warned
    return figures


def shipped_constants(
    counts: dict[AlignParams, dict[str, Counts]],
    fits: TreeFits,
    fit_on: Sequence[str],
    write: bool,
) -> tuple[dict[str, object], list[str]]:
    """The constants fitted on every (non-stretch) corpus, against those in the code;
    with `write`, the fitted trees replace the shipped ones."""
    params, model = fit(counts, fits, fit_on)
    weight = fits.weights[(params, frozenset(fit_on))]
    fitted = {
        "params": params.signature(),
        "trees": model.trees.fingerprint(),
        "flag_below": model.flag_below,
    }
    shipped = shipped_model()
    in_code = {
        "params": AlignParams().signature(),
        "trees": shipped.trees.fingerprint(),
        "flag_below": shipped.flag_below,
    }
    lines = [
        f"constants fitted on {', '.join(fit_on)}:",
        *(f"  {k}: {v}" for k, v in fitted.items()),
        "in evalkit/align (costs.py, data/confidence_trees.json):",
        *(f"  {k}: {v}" for k, v in in_code.items()),
    ]
    lines.append(f"  (the trees weighed each link of an unrelated document {weight:g})")
    if write:
        write_trees(model, fit_on, weight)
        lines.append(f"  written to {TREES_FILE}")
    elif fitted != in_code:
        lines.append("  (they differ: update the code or rerun with --write-confidence)")
    return {"fitted": fitted, "in_code": in_code}, lines


def write_trees(model: TreeModel, fit_on: Sequence[str], unrelated_weight: float) -> None:
    """The shipped confidence model, atomically (a crash leaves the old file whole)."""
    data = {
        "schema_version": SCHEMA_VERSION,
        "features": [name for name, _ in FEATURES],
        "monotonic": [direction for _, direction in FEATURES],
        "fitted_on": list(fit_on),
        "settings": {**TREE_SETTINGS, "unrelated_weight": unrelated_weight},
        "right_flag_share": FLAG_SHARE,
        "flag_below": model.flag_below,
        "fingerprint": model.trees.fingerprint(),
        **model.trees.as_json(),
    }
    temp = TREES_FILE.with_suffix(".tmp")
    temp.write_text(json.dumps(data) + "\n", encoding="utf-8")
    temp.replace(TREES_FILE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [spec.name for spec in CORPORA]
    parser.add_argument("--corpus", nargs="*", choices=names, default=names)
    parser.add_argument("--method", nargs="*", default=["embedding", "length"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--docs", type=int, default=2, help="documents per seed and corpus")
    parser.add_argument("--paragraphs", type=int, default=12, help="source paragraphs a doc")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "align.json")
    parser.add_argument(
        "--set-aside-only",
        action="store_true",
        help="print the count of lines set aside and stop (no alignment scores, no JSON)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the embeddings in this cache file (evalkit's format): a rerun embeds "
        "nothing again; seconds then count the alignment only",
    )
    parser.add_argument(
        "--write-confidence",
        action="store_true",
        help="write the confidence trees fitted on every corpus to evalkit/align/data "
        "(what evalkit ships)",
    )
    parser.add_argument(
        "--encoder",
        default=DEFAULT_ENCODER,
        help="the sentence encoder (evalkit's --encoder); the figures the docs show come "
        "from the default",
    )
    args = parser.parse_args()

    corpora, missing = [], []
    for spec in CORPORA:
        if spec.name not in args.corpus:
            continue
        try:
            corpora.append((spec, build_corpus(spec, args.seeds, args.docs, args.paragraphs)))
        except MissingCorpus as exc:
            missing.append(f"{spec.name}: {exc}")
            print(f"corpus {spec.name} left out: {exc}", file=sys.stderr)
    stretch = [spec.name for spec, _ in corpora if spec.swaps]

    counts_set_aside = set_aside_counts(corpora)
    if args.set_aside_only:
        print("\n".join(set_aside_table(counts_set_aside)))
        return

    results: list[MethodResult] = []
    load_seconds: dict[str, float] = {}
    payload: dict[str, object] = {}
    for method in args.method:
        aligner = Aligner(method, encoder=args.encoder)  # type: ignore[arg-type]
        started = time.perf_counter()
        if aligner.encoder is not None:
            encoder: SentenceEncoder = aligner.encoder
            if args.cache is not None:
                encoder = StoredEncoder(
                    aligner.encoder_spec, TranslationCache(args.cache).embeddings
                )
            encoder = CachedEncoder(encoder, capacity=200_000)
            encoder.encode(["warm-up"])
        load_seconds[method] = round(time.perf_counter() - started, 2)
        if method == "embedding":
            counts, fits, shipped = run_grid(corpora, encoder)
            results += shipped.values()
            continue
        for spec, cases in corpora:
            total, _ = evaluate(aligner, spec.name, cases)
            results.append(total)
            print(f"  {spec.name} / {method}: F1 {total.f1:.3f}", file=sys.stderr)

    results.sort(key=lambda r: (names.index(r.corpus), args.method.index(r.method)))
    print("\n".join(results_table(results)))
    figures = {method: calibration(results, method) for method in args.method}
    for method, figure in figures.items():
        print()
        print(f"with the constants in the code ({method}):")
        print("\n".join(calibration_table(method, figure)))

    if "embedding" in args.method:
        corpus_names = [spec.name for spec, _ in corpora]
        fit_on = [c for c in corpus_names if c not in stretch]
        folds = leave_one_out(counts, fits, corpus_names, stretch)
        length = {r.corpus: r for r in results if r.method == "length"}
        seconds = {name: counts[AlignParams()][name].seconds for name in corpus_names}
        print()
        print("\n".join(fold_table(folds, length, seconds)))
        held = held_out_flags(folds, stretch)
        held["documents"] = held_out_documents(folds, stretch)
        held["documents"]["unrelated"] = sum(f.unrelated for f in folds)
        held["documents"]["unrelated_warned"] = sum(f.unrelated_warned for f in folds)
        print()
        print("\n".join(calibration_table("embedding, held out", held)))
        print(
            f"wrong links flagged: {held['wrong_links_flagged_share']:.2f}, right links "
            f"flagged: {held['right_links_flagged_share']:.2f} (stretch corpora apart)"
        )
        documents = held["documents"]
        print(
            f"documents with more than {UNRELIABLE_WRONG_SHARE:.0%} of their links wrong: "
            f"{documents['bad']}, warned of {documents['bad_warned']}; the others: "
            f"{documents['sound']}, warned of {documents['sound_warned']}; aligned with "
            f"another document's reference: {documents['unrelated']}, warned of "
            f"{documents['unrelated_warned']}"
        )
        # each corpus paired with the constants of its held-out fold
        fold_of = {f.corpus: f for f in folds}
        paired = {
            spec.name: pairing_check(cases, encoder, fold_aligner(fold_of[spec.name]))
            for spec, cases in corpora
        }
        pairing = {name: figure for name, figure in paired.items() if figure is not None}
        print()
        print(f"pairing ({PAIRING_DOCS} documents and their references per corpus):")
        for name, figure in pairing.items():
            print(
                f"  {name}: {figure['right']} right, {figure['wrong']} wrong, "
                f"{figure['missing']} unpaired of {figure['docs']}"
            )
        payload["pairing"] = pairing
        constants, lines = shipped_constants(counts, fits, fit_on, args.write_confidence)
        print()
        print("\n".join(lines))
        payload["held_out"] = {
            "stretch": stretch,
            "folds": [
                {
                    "corpus": f.corpus,
                    "f1": round(f.counts.f1, 4),
                    "true_links": f.counts.true_links,
                    "found_links": f.counts.found_links,
                    "correct_links": f.counts.correct_links,
                    "params": f.params.signature(),
                    "trees": f.model.trees.fingerprint(),
                    "unrelated_weight": f.unrelated_weight,
                    "flag_below": f.model.flag_below,
                    "wrong_links": sum(not c for c in f.correct),
                    "wrong_links_flagged": int((f.flagged & ~np.array(f.correct, bool)).sum()),
                    "right_links_flagged": int((f.flagged & np.array(f.correct, bool)).sum()),
                }
                for f in folds
            ],
            "flags": held,
            "constants": constants,
            "grid": [p.signature() for p in GRID],
        }
    print()
    print("\n".join(set_aside_table(counts_set_aside)))

    payload = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "settings": {
            "seeds": args.seeds,
            "docs_per_seed": args.docs,
            "paragraphs": args.paragraphs,
            "embeddings_cached": args.cache is not None,
        },
        "signatures": {
            m: Aligner(m, encoder=args.encoder).signature()  # type: ignore[arg-type]
            for m in args.method
        },
        "encoder_load_seconds": load_seconds,
        "corpora": [corpus_info(spec, cases) for spec, cases in corpora],
        "missing": missing,
        "results": [r.summary() for r in results],
        "calibration": figures,
        **payload,
        "set_aside": [c.summary() for c in counts_set_aside],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
