"""TER statistics: sacrebleu against evalkit's compiled copy, on sentences, paragraphs and
whole documents of the built-in seed test set.

Units are the seed references with a reference: sentences (split as evalkit splits
them), paragraphs, and each document joined into one unit. The hypothesis of a sentence
is its reference changed the way a weak translation differs (words dropped, replaced by
other words of the document, short phrases moved); paragraph and document hypotheses
join the sentence hypotheses, as a system's output would. With --run, the units of a
stored run are timed too ("run outputs": real system outputs, every system but copy).

Both sides compute per-segment statistics (`_extract_corpus_statistics`, tokenising
included) from a fresh metric, best of three runs, and must agree exactly. The kernel's
compile cost is measured in child processes: once with an empty numba cache (the first
call on a new machine), once with the cache this run filled (every later process).
Usage: python bench/ter.py [--run results/<run-id>] [--json bench/results/ter.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FIRST_CALL = """
import time
started = time.perf_counter()
from evalkit.metrics.fast_ter import translation_edit_rate
translation_edit_rate("a b c d".split(), "b c a d".split())
print(time.perf_counter() - started)
"""


def _weaken(rng: random.Random, sentence: str, vocabulary: list[str]) -> str:
    """A weak translation of `sentence`: 15% of words dropped, 15% replaced by other words
    of the document, two short phrases moved a few words on."""
    out = []
    for word in sentence.split():
        roll = rng.random()
        if roll < 0.15:
            continue
        out.append(rng.choice(vocabulary) if roll < 0.3 else word)
    for _ in range(2):
        if len(out) > 4:
            start = rng.randrange(len(out) - 2)
            phrase = out[start : start + rng.randint(2, 3)]
            del out[start : start + len(phrase)]
            at = min(len(out), start + rng.randint(2, 6))
            out[at:at] = phrase
    return " ".join(out)


def seed_units() -> dict[str, list[tuple[str, str]]]:
    """(hypothesis, reference) per unit kind, from the seed documents with a reference."""
    from evalkit.corpus.resolve import load_test_set
    from evalkit.corpus.segment import split_sentences

    rng = random.Random(12)
    units: dict[str, list[tuple[str, str]]] = {"sentences": [], "paragraphs": [], "documents": []}
    for doc in load_test_set("seeds").documents:
        if doc.reference is None:
            continue
        vocabulary = " ".join(doc.reference.segments).split()
        doc_hyps, doc_refs = [], []
        for paragraph in doc.reference.segments:
            sentences = [s.text for s in split_sentences(paragraph, doc.reference.lang)]
            hyps = [_weaken(rng, s, vocabulary) for s in sentences]
            units["sentences"] += list(zip(hyps, sentences, strict=True))
            units["paragraphs"].append((" ".join(hyps), paragraph))
            doc_hyps.append(" ".join(hyps))
            doc_refs.append(paragraph)
        units["documents"].append((" ".join(doc_hyps), " ".join(doc_refs)))
    return units


def run_units(folder: Path) -> list[tuple[str, str]]:
    """Every (system output, reference) of a stored run, for English systems with text."""
    pairs = []
    with open(folder / "segments.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if not row.get("ref"):
                continue
            for label, hyp in row.get("hyp", {}).items():
                if hyp and label != "copy":
                    pairs.append((hyp, row["ref"]))
    return pairs


def time_stats(metric_class, pairs: list[tuple[str, str]]) -> tuple[float, list]:
    """The best of three timings (one when it takes over 5 s), each with a fresh metric."""
    best, stats = float("inf"), []
    for _ in range(3):
        metric = metric_class()  # nothing cached from the last round, tokenisation included
        started = time.perf_counter()
        stats = metric._extract_corpus_statistics([h for h, _ in pairs], [[r for _, r in pairs]])
        best = min(best, time.perf_counter() - started)
        if best > 5:
            break
    return best, stats


def first_call_seconds(cache_dir: str | None) -> float:
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CALL],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE.parent,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", type=Path, help="also time the units of this stored run")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "ter.json")
    args = parser.parse_args()

    import numba
    import sacrebleu
    from sacrebleu.metrics import TER

    from evalkit.metrics.fast_ter import FastTER

    with tempfile.TemporaryDirectory(prefix="evalkit-numba-") as empty:
        compile_s = first_call_seconds(empty)
        # the cache this process and later ones use (filled here if it was not)
        first_call_seconds(None)
        cached_s = first_call_seconds(None)

    kinds = seed_units()
    if args.run is not None:
        kinds["run outputs"] = run_units(args.run)
    FastTER()._extract_corpus_statistics(["warm up"], [["warm up"]])  # loads the kernel

    rows = []
    for kind, pairs in kinds.items():
        if not pairs:
            continue
        print(f"timing {kind} ({len(pairs)} units) ...", file=sys.stderr, flush=True)
        sacrebleu_s, theirs = time_stats(TER, pairs)
        evalkit_s, ours = time_stats(FastTER, pairs)
        if ours != theirs:
            raise SystemExit(f"{kind}: statistics differ from sacrebleu's")
        rows.append(
            {
                "units": kind,
                "count": len(pairs),
                "mean_ref_words": sum(len(r.split()) for _, r in pairs) / len(pairs),
                "sacrebleu_s": sacrebleu_s,
                "evalkit_s": evalkit_s,
                "speedup": sacrebleu_s / evalkit_s,
                "identical": True,
            }
        )

    versions = f"sacrebleu {sacrebleu.__version__}, evalkit with numba {numba.__version__}"
    print(f"TER statistics ({versions}); {os.cpu_count()} cores, one process")
    print(
        f"{'units':<22} {'count':>5} {'words':>6} {'sacrebleu s':>12} {'evalkit s':>10} "
        f"{'speedup':>8}"
    )
    for r in rows:
        print(
            f"{r['units']:<22} {r['count']:>5} {r['mean_ref_words']:>6.0f} "
            f"{r['sacrebleu_s']:>12.3f} {r['evalkit_s']:>10.4f} {r['speedup']:>7.0f}x"
        )
    print("statistics identical to sacrebleu's on every unit")
    print(f"first call on a new machine (import + compile): {compile_s:.1f} s")
    print(f"first call in a later process (import + cached code): {cached_s:.2f} s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "machine": {
                    "cores": os.cpu_count(),
                    "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(),
                    "sacrebleu": sacrebleu.__version__,
                    "numba": numba.__version__,
                },
                "first_call_compile_s": compile_s,
                "first_call_cached_s": cached_s,
                "run": None if args.run is None else args.run.name,
                "rows": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
