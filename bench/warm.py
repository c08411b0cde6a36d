"""Reruns: how much of a run is recomputed when its work is already stored.

1. The main job (make eval's systems on the built-in seeds): `evalkit run` with only the
   translations cached, then the same run again with everything stored (statistics and
   embeddings too), then `evalkit report` of it. Works on a copy of the default cache
   file, so the user's cache is left as it was; systems missing from it are translated
   once first (that time is printed, not counted).
2. `evalkit compare` of 5 systems x 3,000 segments (BLEU and chrF, 1,000 resamples)
   against `sacrebleu --paired-bs` on the same files. The segments are real verse pairs
   (`TheQuranModule`, in evalkit[dev]); the five hypotheses are the references weakened
   at five strengths (words dropped, replaced, phrases moved).

Prints a table and writes the figures with the machine's core count to a JSON file.
Usage: python bench/warm.py [--json bench/results/warm.json] [--skip-main]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
MODEL = "packaged:qwen2.5-coder-0.5b-instruct"
LARGE = "packaged:qwen2.5-coder-1.5b-instruct"
MAIN_SYSTEMS = ["copy", f"qwen0.5b-f32={MODEL}", f"qwen1.5b-int8={LARGE},compute_type=int8"]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def main_job(work: Path) -> dict[str, float]:
    from evalkit.cache import default_cache_path

    cache = work / "cache.sqlite"
    if default_cache_path().is_file():
        with sqlite3.connect(default_cache_path()) as source, sqlite3.connect(cache) as copy:
            source.backup(copy)  # a consistent copy even while another run writes
    env = dict(os.environ, EVALKIT_CACHE=str(cache), EVALKIT_RESULTS=str(work / "results"))
    run = [str(BIN / "evalkit"), "run", "--data", "seeds", "--name", "seeds"]
    for system in MAIN_SYSTEMS:
        run += ["--system", system]
    filled = timed(run, env)  # translates whatever the cache lacked
    clear = [str(BIN / "evalkit"), "cache", "clear"]
    subprocess.run([*clear, "--store", "statistics", "--store", "embeddings"], env=env, check=True)
    translations_only = timed(run, env)
    warm = min(timed(run, env) for _ in range(3))
    report = min(timed([str(BIN / "evalkit"), "report", "latest"], env) for _ in range(3))
    return {
        "first_run_s": round(filled, 2),
        "translations_cached_s": round(translations_only, 2),
        "all_cached_s": round(warm, 2),
        "warm_ratio": round(warm / translations_only, 3),
        "report_s": round(report, 2),
        "warm_run_and_report_s": round(warm + report, 2),
    }


def _weaken(rng: random.Random, sentence: str, strength: float) -> str:
    words = sentence.split()
    out = []
    for word in words:
        roll = rng.random()
        if roll < strength / 2:
            continue
        out.append(rng.choice(words) if roll < strength else word)
    if len(out) > 4 and rng.random() < strength:
        start = rng.randrange(len(out) - 2)
        phrase = out[start : start + 2]
        del out[start : start + 2]
        out[min(len(out), start + 3) : min(len(out), start + 3)] = phrase
    return " ".join(out) or words[0]


def compare_job(work: Path, segments: int = 3000, systems: int = 5) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from tests.synthetic_parallel import verse_pairs

    pairs = [(ar, en) for ar, en in verse_pairs() if ar.strip() and en.strip()][:segments]
    (work / "src.ar").write_text("".join(ar + "\n" for ar, _ in pairs), encoding="utf-8")
    (work / "ref.en").write_text("".join(en + "\n" for _, en in pairs), encoding="utf-8")
    hyps = []
    for k in range(systems):
        rng = random.Random(k)
        path = work / f"sys{k}.en"
        strength = 0.1 + 0.1 * k
        path.write_text("".join(_weaken(rng, en, strength) + "\n" for _, en in pairs), "utf-8")
        hyps.append(path)
    env = dict(
        os.environ,
        EVALKIT_CACHE=str(work / "compare-cache.sqlite"),
        EVALKIT_RESULTS=str(work / "compare-results"),
    )
    run = [str(BIN / "evalkit"), "run", "--src", str(work / "src.ar"), "--ref"]
    run += [str(work / "ref.en"), "-m", "bleu", "-m", "chrf", "--align", "none"]
    for k, path in enumerate(hyps):
        run += ["--system", f"sys{k}=files:{path}"]
    timed(run, env)
    compare = [str(BIN / "evalkit"), "compare", "latest", "-m", "bleu", "-m", "chrf"]
    compare += ["--resamples", "1000", "--format", "json"]
    ours = min(timed(compare, env) for _ in range(2))
    sacre = [str(BIN / "sacrebleu"), str(work / "ref.en"), "-i", *map(str, hyps)]
    # text output: its JSON writer fails on numpy 2 floats
    sacre += ["-m", "bleu", "chrf", "--paired-bs", "--paired-bs-n", "1000", "-f", "text"]
    theirs = min(timed(sacre, env) for _ in range(2))
    return {
        "segments": len(pairs),
        "systems": systems,
        "evalkit_compare_s": round(ours, 2),
        "sacrebleu_paired_bs_s": round(theirs, 2),
        "ratio": round(ours / theirs, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=HERE / "results" / "warm.json")
    parser.add_argument("--skip-main", action="store_true", help="only the compare bench")
    args = parser.parse_args()
    figures: dict[str, object] = {
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if not args.skip_main:
            figures["main_job"] = main_job(work)
        figures["compare"] = compare_job(work)
        shutil.rmtree(work / "results", ignore_errors=True)
    print(f"cores: {figures['cores']}")
    if "main_job" in figures:
        main = figures["main_job"]
        assert isinstance(main, dict)
        print("main job (make eval's systems on the seeds)")
        print(f"  run, translations cached only   {main['translations_cached_s']:8.2f} s")
        print(
            f"  run, everything stored         {main['all_cached_s']:8.2f} s"
            f"   ({main['warm_ratio']:.3f}x; goal at most 0.15x)"
        )
        print(f"  report                         {main['report_s']:8.2f} s")
        print(
            f"  warm run + report              {main['warm_run_and_report_s']:8.2f} s"
            "   (goal: make eval at most 15 s)"
        )
    cmp = figures["compare"]
    assert isinstance(cmp, dict)
    print(
        f"compare, {cmp['systems']} systems x {cmp['segments']} segments, BLEU+chrF, 1000 resamples"
    )
    print(f"  evalkit compare (stored stats) {cmp['evalkit_compare_s']:8.2f} s")
    print(
        f"  sacrebleu --paired-bs          {cmp['sacrebleu_paired_bs_s']:8.2f} s"
        f"   (evalkit {cmp['ratio']:.3f}x; goal at most 0.5x)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
