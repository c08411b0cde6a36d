"""Speed, memory and agreement of the engines on the default packaged model.

Each engine runs in its own process (so peak memory is its own) on the same seed
sentences, greedy, in batches. Prints tokens/s, load time, peak RSS, and how close each
output is to the transformers reference (exact matches and chrF with the reference
engine's output as reference). Usage: python bench/engines.py [--sentences N]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINES = {
    "transformers fp32": "packaged:qwen2.5-coder-0.5b-instruct,engine=transformers",
    "ct2 float32": "packaged:qwen2.5-coder-0.5b-instruct",
    "ct2 int8": "packaged:qwen2.5-coder-0.5b-instruct,compute_type=int8",
}
SERVER_CONCURRENCY = (1, 4, 8, 16)
#: the engine every speed is divided by
BASELINE = "ct2 float32"


def seed_sentences(count: int) -> list[str]:
    from evalkit.corpus.resolve import load_test_set
    from evalkit.corpus.segment import split_sentences

    sentences = []
    for doc in load_test_set("seeds").documents:
        for paragraph in doc.source.segments:
            sentences += [s.text for s in split_sentences(paragraph, doc.source.lang)]
    return sentences[:count]


def measure(spec: str, count: int, batch_size: int) -> dict:
    """Runs in the child process."""
    from evalkit.engines import create_system

    sentences = seed_sentences(count)
    engine = create_system(f"{spec},batch_size={batch_size}").system
    started = time.perf_counter()
    engine.fingerprint()  # prepares the model files (cached after the first time)
    engine.translate(sentences[:1], "ar", "en")  # loads the weights
    load_s = time.perf_counter() - started
    tokens_before = engine.generated_tokens
    started = time.perf_counter()
    outputs = []
    for i in range(0, len(sentences), batch_size):
        outputs += engine.translate(sentences[i : i + batch_size], "ar", "en")
    seconds = time.perf_counter() - started
    tokens = engine.generated_tokens - tokens_before
    return {
        "load_s": load_s,
        "seconds": seconds,
        "tokens": tokens,
        "tokens_per_s": tokens / seconds,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "outputs": outputs,
    }


def measure_server(count: int) -> dict[str, dict]:
    """The served rows: one vLLM server, the `openai` engine at each concurrency level."""
    from evalkit.engines import create_system
    from evalkit.serving import packaged_checkpoint, start_vllm

    sentences = seed_sentences(count)
    folder = packaged_checkpoint("qwen2.5-coder-0.5b-instruct")
    log = Path(tempfile.mkdtemp(prefix="evalkit-bench-")) / "vllm.log"
    started = time.perf_counter()
    results = {}
    with start_vllm(folder, "bench", log, extra_args=("--no-enable-prefix-caching",)) as server:
        start_s = time.perf_counter() - started
        for concurrency in SERVER_CONCURRENCY:
            spec = f"openai:bench,base_url={server.base_url},concurrency={concurrency}"
            engine = create_system(spec).system
            engine.fingerprint()  # checks the server; not part of the timing
            began = time.perf_counter()
            outputs = engine.translate(sentences, "ar", "en")
            seconds = time.perf_counter() - began
            tokens = engine.generated_tokens
            results[f"vLLM c={concurrency}"] = {
                "load_s": start_s,
                "seconds": seconds,
                "tokens": tokens,
                "tokens_per_s": tokens / seconds,
                "peak_rss_gb": None,  # the server's memory, not this process's
                "outputs": outputs,
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--no-server", action="store_true", help="local engines only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.sentences, args.batch_size)))
        return
    from sacrebleu.metrics import CHRF

    results = {}
    for name, spec in ENGINES.items():
        print(f"running {name} ...", file=sys.stderr, flush=True)
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                spec,
                "--sentences",
                str(args.sentences),
                "--batch-size",
                str(args.batch_size),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    if not args.no_server:
        print("running vLLM (server start, then each concurrency) ...", file=sys.stderr)
        results.update(measure_server(args.sentences))
    reference = results["transformers fp32"]["outputs"]
    print(f"{args.sentences} seed sentences, batch {args.batch_size}, greedy")
    header = f"{'engine':<18} {'tok/s':>7} {'tokens':>7} {'load s':>7} {'peak GB':>8} "
    print(header + f"{'same as ref':>12} {'chrF vs ref':>12}")
    for name, r in results.items():
        same = sum(a == b for a, b in zip(r["outputs"], reference, strict=True))
        agreement = CHRF().corpus_score(r["outputs"], [reference]).score
        peak = "–" if r["peak_rss_gb"] is None else f"{r['peak_rss_gb']:.2f}"
        print(
            f"{name:<18} {r['tokens_per_s']:>7.1f} {r['tokens']:>7} {r['load_s']:>7.1f} "
            f"{peak:>8} {same:>5}/{len(reference):<6} {agreement:>12.1f}"
        )
    base = results[BASELINE]["tokens_per_s"]
    print(f"\nspeed as a ratio to {BASELINE} ({base:.1f} tok/s), same run")
    for name, r in results.items():
        print(f"{name:<18} {r['tokens_per_s'] / base:>6.2f}x")


if __name__ == "__main__":
    main()
