"""Scoring time as test sets grow: seconds per 1,000 segments at 1k, 3k and 10k segments.

Segments are real verse pairs (`TheQuranModule`, in evalkit[dev]); past the 6,000-odd
verses, pairs of consecutive verses are joined into new segments, so no segment repeats.
Hypotheses are the references weakened (words dropped, replaced, phrases moved). Each size
is one `evalkit run` of a `files:` system with --no-cache (nothing read from or written to
a store), and the figure is the run record's `score` timing. Linear growth means the
per-1,000 figures stay flat.
Usage: python bench/growth.py [--neural] [--sizes 1000 3000 10000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from warm import _weaken  # noqa: E402

LEXICAL = ["bleu", "chrf", "ter", "off_target", "untranslated", "numbers", "repetition"]
NEURAL = ["bertscore", "xqe"]


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


def score_seconds(work: Path, count: int, metrics: list[str]) -> float:
    pairs = segments(count)
    rng = random.Random(count)
    folder = work / str(count)
    folder.mkdir()
    (folder / "src.ar").write_text("".join(a + "\n" for a, _ in pairs), encoding="utf-8")
    (folder / "ref.en").write_text("".join(e + "\n" for _, e in pairs), encoding="utf-8")
    (folder / "hyp.en").write_text(
        "".join(_weaken(rng, e, 0.3) + "\n" for _, e in pairs), encoding="utf-8"
    )
    command = [str(BIN / "evalkit"), "run", "--src", str(folder / "src.ar"), "--ref"]
    command += [str(folder / "ref.en"), "--no-cache", "--align", "none", "--json"]
    command += ["-s", f"hyp=files:{folder / 'hyp.en'}"]
    for metric in metrics:
        command += ["-m", metric]
    env = dict(os.environ, EVALKIT_RESULTS=str(work / "results"))
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    run = json.loads(done.stdout)
    record = json.loads((Path(run["path"]) / "run.json").read_text(encoding="utf-8"))
    return float(record["timings"]["score"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--neural", action="store_true", help="add bertscore and xqe")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "growth.json")
    args = parser.parse_args()
    metrics = LEXICAL + (NEURAL if args.neural else [])
    rows = []
    print(f"cores: {os.cpu_count()}; metrics: {', '.join(metrics)}")
    print(f"{'segments':>9} {'score s':>9} {'s per 1,000':>12}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            seconds = score_seconds(Path(folder), size, metrics)
            row = {
                "segments": size,
                "score_s": round(seconds, 2),
                "per_1000_s": round(seconds / size * 1000, 3),
            }
            rows.append(row)
            print(f"{size:>9} {row['score_s']:>9.2f} {row['per_1000_s']:>12.3f}", flush=True)
    growth = rows[-1]["per_1000_s"] / rows[0]["per_1000_s"]
    print(
        f"per-1,000 time at {rows[-1]['segments']} vs {rows[0]['segments']}: {growth:.2f}x "
        "(1.0 = linear)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"cores": os.cpu_count(), "metrics": metrics, "rows": rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
