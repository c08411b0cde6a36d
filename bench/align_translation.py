"""Translation-based alignment on the bench's omission corpora, beside the other methods.

For a few documents of the corpora where the reference leaves out, cuts or adds text (the
hadith collections, verse-cuts, verse-notes, legal-cuts), the source paragraphs are
translated sentence by sentence with a real local model (default: evalkit's packaged
0.5B model, as `evalkit run` would translate them, into evalkit's translation cache so a
rerun translates nothing), and aligned through that pivot with `TranslationAligner`. F1 is
the exact-link F1 of `bench/align.py` (micro over a corpus's true links), printed beside
the length and embedding methods on the same documents and beside the embedding
method's held-out F1 over the full corpus from bench/results/align.json.

The documents are `bench/align.py`'s own, in its order (seed 0's two, then seed 1's),
taken round-robin over the corpora until the translation budget is spent, so every corpus
gets its first documents before any gets more. The method's one constant, the weight of
lengths, is chosen leave-one-corpus-out from a small grid (0 is the parameter-free
choice): the held-out figure of a corpus comes from the weight best on the others.

Usage: python bench/align_translation.py [--corpus NAME ...] [--docs 4] [--budget-minutes 25]
       [--system SPEC] [--cache FILE] [--json bench/results/align_translation.json]
The first run translates for up to the budget (on 2 shared cores a 0.5B model makes a few
tokens a second); a rerun reads the cache and takes a minute or two (the embedding method).
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

# OpenMP threads that spin while waiting starve each other on a shared machine (tenfold
# slower here); passive waiting costs nothing when the cores are free
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from align import MethodResult, zero_based  # noqa: E402
from align_corpora import CORPORA, AlignCase, MissingCorpus, build_corpus  # noqa: E402

from evalkit.align import Aligner  # noqa: E402
from evalkit.align.translation import TranslationAligner, TranslationParams  # noqa: E402
from evalkit.cache import Translation, TranslationCache, cache_key  # noqa: E402
from evalkit.corpus.segment import sentences  # noqa: E402
from evalkit.embeddings import embedding_text  # noqa: E402
from evalkit.engines.base import TranslationEngine  # noqa: E402
from evalkit.engines.registry import create_system  # noqa: E402

#: in the order documents are translated, round-robin: the corpora most unlike each
#: other first, so a budget spent early still covers omissions, cuts and notes
DEFAULT_CORPORA = (
    "hadith",
    "legal-cuts",
    "verse-cuts",
    "hadith-nasai",
    "verse-notes",
    "hadith-bukhari",
    "hadith-dawud",
)
DEFAULT_SYSTEM = "packaged:qwen2.5-coder-0.5b-instruct"
#: the length weights tried leave-one-corpus-out (0: lengths unused, the default)
LENGTH_WEIGHTS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)
#: the seeds and documents per seed `bench/align.py` uses, in its order
SEEDS = (0, 1, 2, 3, 4, 5)
DOCS_PER_SEED = 2


@dataclass
class Pivot:
    """One document's pivot: a translation per source paragraph, and what it cost."""

    lines: list[str]
    units: int
    translated: int
    seconds: float


@dataclass
class Translator:
    """Translates sentences through evalkit's cache: what is stored is never redone."""

    engine: TranslationEngine
    cache: TranslationCache
    key: str = ""
    seconds: float = 0.0
    done: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.key = self.engine.fingerprint_hash()

    def sentences(self, texts: Sequence[str], lang: str) -> tuple[list[str], int, float]:
        """Translations of `texts` into English, how many were not cached, the seconds."""
        distinct = list(dict.fromkeys(texts))
        keys = {t: cache_key(self.key, lang, "en", t) for t in distinct}
        found = self.cache.get_many(list(keys.values()))
        out = {t: found[keys[t]].text for t in distinct if keys[t] in found}
        todo = sorted((t for t in distinct if t not in out), key=len, reverse=True)
        started = time.perf_counter()
        size = self.engine.batch_size
        for start in range(0, len(todo), size):
            batch = todo[start : start + size]
            made: list[Translation] = self.engine.translate_units(batch, lang, "en")
            self.cache.put_many(self.key, lang, "en", zip(batch, made, strict=True))
            out.update((t, m.text) for t, m in zip(batch, made, strict=True))
        seconds = time.perf_counter() - started
        return [out[t] for t in texts], len(todo), seconds

    def document(self, case: AlignCase) -> Pivot:
        """The pivot of every source paragraph: its sentences' translations joined, as a
        run's hypothesis line is."""
        # without its vowel marks: the 0.5B model loops on fully vocalised classical Arabic
        # (a hadith sentence came back as 256 tokens of "God created the sun, the
        # moon..." and took minutes); without them it translates in seconds, names kept
        split = [sentences(embedding_text(p), case.src_lang) for p in case.src]
        flat = [s for parts in split for s in parts]
        made, translated, seconds = self.sentences(flat, case.src_lang)
        lines, k = [], 0
        for parts in split:
            lines.append(" ".join(made[k : k + len(parts)]))
            k += len(parts)
        return Pivot(lines, len(flat), translated, seconds)


def score(aligner, case: AlignCase, pivot: Pivot | None = None) -> tuple[int, int, int, list]:
    """(true links, found links, correct links, [(low_confidence, correct)]) of one doc."""
    if pivot is None:
        alignment = aligner.align_paragraphs(case.src, case.ref)
    else:
        alignment = aligner.align_paragraphs(
            case.src, case.ref, case.src_lang, case.ref_lang, pivot.lines
        )
    truth = set(case.links)
    found = zero_based(alignment.links)
    flags = [
        (link.low_confidence, z in truth) for link, z in zip(alignment.links, found, strict=True)
    ]
    return len(case.links), len(found), sum(z in truth for z in found), flags


def corpus_result(corpus: str, method: str, scores: Sequence[tuple]) -> MethodResult:
    result = MethodResult(corpus, method, len(scores), 0, 0, 0, 0.0)
    for true, found, correct, _ in scores:
        result.true_links += true
        result.found_links += found
        result.correct_links += correct
    return result


def micro_f1(results: Sequence[MethodResult]) -> float:
    return corpus_result("", "", []).f1 if not results else _merge(results).f1


def _merge(results: Sequence[MethodResult]) -> MethodResult:
    out = MethodResult("", "", 0, 0, 0, 0, 0.0)
    for r in results:
        out.true_links += r.true_links
        out.found_links += r.found_links
        out.correct_links += r.correct_links
    return out


def previous_seconds(path: Path) -> dict[str, float]:
    """Per document, the translation seconds an earlier run measured (a rerun reads the
    cache and would measure nothing)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {d["doc"]: d["translation_seconds"] for d in data.get("documents", [])}


def documents_json(pivots: dict[str, Pivot]) -> list[dict[str, object]]:
    return [
        {
            "doc": doc_id,
            "sentences": p.units,
            "translation_seconds": round(p.seconds, 1),
            "pivot": p.lines,
        }
        for doc_id, p in pivots.items()
    ]


def write_documents(path: Path, pivots: dict[str, Pivot]) -> None:
    """The pivots and their seconds so far: a run stopped while aligning keeps what its
    translation measured (a rerun reads the cache and measures nothing)."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    known = {d["doc"]: d for d in data.get("documents", [])}
    known.update((d["doc"], d) for d in documents_json(pivots))  # type: ignore[misc]
    data["documents"] = list(known.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", nargs="*", default=list(DEFAULT_CORPORA))
    parser.add_argument("--docs", type=int, default=4, help="most documents per corpus")
    parser.add_argument(
        "--paragraphs",
        type=int,
        default=6,
        help="source paragraphs a document (bench/align.py: 12; fewer, for the budget)",
    )
    parser.add_argument("--budget-minutes", type=float, default=25.0)
    parser.add_argument("--system", default=DEFAULT_SYSTEM)
    parser.add_argument("--cache", type=Path, help="translation cache (default: evalkit's)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "align_translation.json")
    args = parser.parse_args()

    corpora: dict[str, list[AlignCase]] = {}
    specs = {spec.name: spec for spec in CORPORA}
    for spec in (specs[name] for name in args.corpus):
        try:
            cases = build_corpus(spec, SEEDS, DOCS_PER_SEED, args.paragraphs)
        except MissingCorpus as exc:
            print(f"corpus {spec.name} left out: {exc}", file=sys.stderr)
            continue
        corpora[spec.name] = cases[: args.docs]

    named = create_system(args.system)
    assert isinstance(named.system, TranslationEngine)
    translator = Translator(named.system, TranslationCache(args.cache))
    earlier = previous_seconds(args.json)
    budget = args.budget_minutes * 60
    spent = 0.0
    pivots: dict[str, Pivot] = {}
    for k in range(args.docs):
        for cases in corpora.values():
            if k >= len(cases) or spent >= budget:
                continue
            case = cases[k]
            pivot = translator.document(case)
            if not pivot.translated and case.doc_id in earlier:
                pivot.seconds = earlier[case.doc_id]
            spent += pivot.seconds  # a cached document counts what it cost when made
            pivots[case.doc_id] = pivot
            write_documents(args.json, pivots)
            print(
                f"  {case.doc_id}: {pivot.units} sentences, {pivot.translated} translated, "
                f"{pivot.seconds:.0f} s (budget spent {spent / 60:.1f} min)",
                file=sys.stderr,
                flush=True,
            )
    named.system.close()

    length, embedding = Aligner("length"), Aligner("embedding")
    rows: dict[str, dict[str, object]] = {}
    by_weight: dict[float, dict[str, MethodResult]] = {}
    flags: dict[str, list] = {}
    for name, cases in corpora.items():
        done = [c for c in cases if c.doc_id in pivots]
        if not done:
            continue
        for weight in LENGTH_WEIGHTS:
            aligner = TranslationAligner({}, args.system, TranslationParams(weight))
            scores = [score(aligner, c, pivots[c.doc_id]) for c in done]
            by_weight.setdefault(weight, {})[name] = corpus_result(name, "translation", scores)
            if weight == 0.0:
                flags[name] = [f for s in scores for f in s[3]]
        rows[name] = {
            "docs": len(done),
            "length": corpus_result(name, "length", [score(length, c) for c in done]),
            "embedding": corpus_result(name, "embedding", [score(embedding, c) for c in done]),
            "translation_seconds": sum(pivots[c.doc_id].seconds for c in done),
            "sentences": sum(pivots[c.doc_id].units for c in done),
        }

    # leave one corpus out: each corpus's weight is the best on the others
    held_out: dict[str, tuple[float, MethodResult]] = {}
    for name in rows:
        others = [n for n in rows if n != name]
        best = max(
            LENGTH_WEIGHTS,
            key=lambda w: (micro_f1([by_weight[w][n] for n in others]), -w),
        )
        held_out[name] = (best, by_weight[best][name])

    stored = json.loads((HERE / "results" / "align.json").read_text(encoding="utf-8"))
    full = {f["corpus"]: f["f1"] for f in stored.get("held_out", {}).get("folds", [])}
    lines = [
        "| corpus | docs | true links | translation F1 (w=0) | held-out F1 (w) | length F1 "
        "| embedding F1 | embedding F1, align.json (all docs, held out) | translation s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    summary = []
    for name, row in rows.items():
        plain = by_weight[0.0][name]
        weight, held = held_out[name]
        wrong = [low for low, ok in flags[name] if not ok]
        right = [low for low, ok in flags[name] if ok]
        entry = {
            "corpus": name,
            "docs": row["docs"],
            "true_links": plain.true_links,
            "translation_f1": round(plain.f1, 4),
            "translation_held_out_f1": round(held.f1, 4),
            "held_out_length_weight": weight,
            "length_f1": round(row["length"].f1, 4),  # type: ignore[attr-defined]
            "embedding_f1": round(row["embedding"].f1, 4),  # type: ignore[attr-defined]
            "embedding_held_out_f1_all_docs": full.get(name),
            "translation_seconds": round(row["translation_seconds"], 1),  # type: ignore[arg-type]
            "sentences_translated": row["sentences"],
            "wrong_links_flagged": f"{sum(wrong)}/{len(wrong)}",
            "right_links_flagged": f"{sum(right)}/{len(right)}",
        }
        summary.append(entry)
        lines.append(
            f"| {name} | {entry['docs']} | {plain.true_links} | {plain.f1:.3f} "
            f"| {held.f1:.3f} ({weight:g}) | {entry['length_f1']:.3f} "
            f"| {entry['embedding_f1']:.3f} | {full.get(name, float('nan')):.3f} "
            f"| {entry['translation_seconds']:.0f} |"
        )
    print("\n".join(lines))
    payload = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": args.system,
        "signature": TranslationAligner({}, args.system).signature(),
        "settings": {
            "docs_per_corpus": args.docs,
            "paragraphs": args.paragraphs,
            "budget_minutes": args.budget_minutes,
            "source": "sentences, Arabic vocalisation marks removed",
        },
        "length_weights": list(LENGTH_WEIGHTS),
        "results": summary,
        "documents": documents_json(pivots),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
