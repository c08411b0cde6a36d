"""Speed, memory, agreement and efficiency of the engines, and the effect of each speed lever.

Each engine row runs in its own process (so peak memory is its own) on the same seed
sentences, greedy, batched as the harness batches them (longest first, `--batch-size` at
a time) unless the row says otherwise. Prints tokens/s, load time, peak RSS, how close
each output is to the reference (transformers fp32 for the 0.5B model; the plain ct2 int8
row for the 1.5B, which has no reference engine here) and the efficiency:

    work = 2 x (prompt tokens x P_layers + generated tokens x (P_layers + P_output))
    efficiency = work / seconds / limit

P_layers counts the parameters of the transformer layers' matrices (attention and MLP
projections) and P_output those of the output matrix, read from the model's safetensors
headers: a token's forward pass costs 2 x P multiply-adds. The output matrix is counted for
generated tokens only, as only they need logits (CTranslate2 still computes them for the
prompt tokens it forwards step by step: work done, not counted); the embedding lookup and
attention over the context (about 1% at these lengths) are not counted either, so the
efficiency is a slight underestimate. Prompt tokens are those the engine forwarded: with
the shared prefix cached (CTranslate2's `static_prompt`) the prefix counts once.

The limit is this machine's matrix-multiply rate, measured here with the engines' thread
count at the start and at the end of the run (the higher counts, as others may load the
machine): float32 is torch.matmul (MKL) on 2048 and 4096 square matrices; int8 is
torch._int_mm (oneDNN, int8 x int8 -> int32; AMX on CPUs that have it) on the same
sizes. CTranslate2's own int8 GEMM (MKL's s8u8s32) has no Python entry point; float32 rows
are held to the float32 limit and int8 rows to the int8 one. The bench also measures the
memory read rate (sum over 1 GiB) because decoding is bound by it: every decoding step
reads all weights once for the whole batch, so a batch of B sequences can at best use
min(1, 2 x B x bandwidth / (bytes per weight x limit)) of the limit. The `roof` column
applies that model (prompt part forwarded at once at the limit, every further step at the
larger of the weights' read time and the batch's compute time) to each CTranslate2 call the
row made: the efficiency the row's batches allow on this machine, whatever the engine.

Levers, each a row compared (`vs`, speed ratio) with the row it changes one thing of:
- the shared prefix computed once (the ct2 engine's default) against once per unit;
- prompts forwarded token by token past the prefix (`stepwise_prompts`): what it costs to
  make each unit's computation independent of its batch (CTranslate2 otherwise forwards
  a call's prompts at once only up to the shortest; `= vs` shows what that changes);
- larger batches: all sentences in one batch; batches by a token budget (units sorted by
  length, a batch grows while units x (longest prompt + longest generation cap) fits);
- threads: 2 CTranslate2 workers of 1 thread each (inter_threads) against 1 of 2 threads;
- CTranslate2's packed GEMM forced on for float32 and off for int8, against evalkit's
  choice (off for float32, on for int8: evalkit/engines/ct2_packing.py).

Usage: python bench/engines.py [--sentences N] [--batch-size N] [--token-budget N]
[--repeats N] [--no-large] [--no-server] [--json bench/results/engines.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMALL = "packaged:qwen2.5-coder-0.5b-instruct"
LARGE = "packaged:qwen2.5-coder-1.5b-instruct"
REFERENCE = "transformers fp32"
#: the engine every speed is divided by in the last table
BASELINE = "ct2 float32"
SERVER_CONCURRENCY = (1, 4, 8, 16)
FORMULA = (
    "efficiency = 2 x (prompt tok x P_layers + generated tok x (P_layers + P_output)) "
    "/ seconds / limit"
)


@dataclass(frozen=True)
class Row:
    """One engine configuration; `versus` names the row it is one lever away from."""

    name: str
    spec: str
    precision: str = "float32"
    batching: str = "fixed"  # fixed: `batch_size` units at a time; tokens: a token budget
    batch_size: int = 8  # 0: every sentence in one batch
    reuse_prefix: bool = True
    workers: int = 1
    stepwise: bool = False
    #: CTranslate2's packed GEMM (CT2_PACKED_GEMM) forced on or off; None: evalkit's
    #: choice for a run of this one system (evalkit/engines/ct2_packing.py)
    packed_gemm: bool | None = None
    versus: str | None = None
    reference: str = REFERENCE
    large: bool = False


def rows(batch_size: int) -> list[Row]:
    small = Row("ct2 float32", SMALL, batch_size=batch_size)
    int8 = f"{LARGE},compute_type=int8"
    large = Row("1.5B ct2 int8", int8, "int8", batch_size=batch_size, large=True)
    large = replace(large, reference=large.name)
    return [
        Row(REFERENCE, f"{SMALL},engine=transformers", batch_size=batch_size),
        small,
        replace(small, name="  prefix per unit", reuse_prefix=False, versus=small.name),
        replace(small, name="  prompts stepwise", stepwise=True, versus=small.name),
        replace(small, name="  one batch", batch_size=0, versus=small.name),
        replace(small, name="  token budget", batching="tokens", versus=small.name),
        replace(small, name="  GEMM packed", packed_gemm=True, versus=small.name),
        replace(
            small,
            name="  one batch, 2x1 threads",
            spec=f"{SMALL},threads=1",
            batch_size=0,
            workers=2,
            versus="  one batch",
        ),
        Row("ct2 int8", f"{SMALL},compute_type=int8", "int8", batch_size=batch_size),
        large,
        replace(large, name="  1.5B GEMM unpacked", packed_gemm=False, versus=large.name),
        replace(large, name="  1.5B prompts stepwise", stepwise=True, versus=large.name),
        replace(large, name="  1.5B one batch", batch_size=0, versus=large.name),
        replace(
            large,
            name="  1.5B stepwise, one batch",
            stepwise=True,
            batch_size=0,
            versus="  1.5B prompts stepwise",
        ),
    ]


def seed_sentences(count: int) -> list[str]:
    from evalkit.corpus.resolve import load_test_set
    from evalkit.corpus.segment import split_sentences

    sentences = []
    for doc in load_test_set("seeds").documents:
        for paragraph in doc.source.segments:
            sentences += [s.text for s in split_sentences(paragraph, doc.source.lang)]
    return sentences[:count]


# --- the model's size ---------------------------------------------------------------


def safetensors_shapes(folder: Path) -> dict[str, list[int]]:
    """Tensor shapes from the safetensors headers: the weights themselves are not read."""
    shapes = {}
    for path in sorted(folder.glob("*.safetensors")):
        with path.open("rb") as file:
            (size,) = struct.unpack("<Q", file.read(8))
            header = json.loads(file.read(size))
        shapes.update({k: v["shape"] for k, v in header.items() if k != "__metadata__"})
    return shapes


def matmul_parameters(folder: Path) -> dict[str, int]:
    """Parameters of the matrices a token is multiplied by: the layers' projections and
    the output matrix (the input embedding is looked up, not multiplied)."""
    layers = output = 0
    for name, shape in safetensors_shapes(folder).items():
        if len(shape) != 2 or not name.endswith(".weight") or "embed" in name:
            continue
        if name.endswith("lm_head.weight"):
            output += shape[0] * shape[1]
        else:
            layers += shape[0] * shape[1]
    if not output:  # tied: the output matrix is the embedding
        (shape,) = [s for n, s in safetensors_shapes(folder).items() if "embed_tokens" in n]
        output = shape[0] * shape[1]
    return {"layers": layers, "output": output}


def work_flops(params: dict[str, int], prompt_tokens: int, generated_tokens: int) -> float:
    per_prompt = 2 * params["layers"]
    per_generated = 2 * (params["layers"] + params["output"])
    return float(prompt_tokens * per_prompt + generated_tokens * per_generated)


# --- the machine's limits -----------------------------------------------------------


def matmul_rate(precision: str, n: int, seconds: float = 1.5) -> float:
    """Multiply-add operations per second (x2) on n x n matrices, in GFLOP/s or GOP/s."""
    import torch

    if precision == "float32":
        a, b = torch.randn(n, n), torch.randn(n, n)
        op = torch.matmul
    else:
        a = torch.randint(-128, 128, (n, n), dtype=torch.int8)
        b = torch.randint(-128, 128, (n, n), dtype=torch.int8)
        op = torch._int_mm
    op(a, b)  # first call: packing, thread start
    reps, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        op(a, b)
        reps += 1
    return 2 * n**3 * reps / elapsed / 1e9


def read_bandwidth(seconds: float = 1.5) -> float:
    """GB/s read from memory: a sum over 1 GiB, far beyond any cache."""
    import torch

    data = torch.ones(256 * 1024 * 1024)
    data.sum()
    reps, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        data.sum()
        reps += 1
    return data.numel() * 4 * reps / elapsed / 1e9


def machine_limits(threads: int) -> dict[str, float]:
    import torch

    torch.set_num_threads(threads)
    return {
        "float32_gflops": max(matmul_rate("float32", n) for n in (2048, 4096)),
        "int8_gops": max(matmul_rate("int8", n) for n in (2048, 4096)),
        "read_gb_s": read_bandwidth(),
    }


def limit_of(limits: dict[str, float], precision: str) -> float:
    return 1e9 * (limits["float32_gflops"] if precision == "float32" else limits["int8_gops"])


def roof_seconds(
    calls: list[dict], params: dict[str, int], precision: str, limits: dict[str, float]
) -> float:
    """The least time the recorded CTranslate2 calls could take on this machine. Each call
    forwards the first `at_once` prompt tokens of every unit at once (at the limit: all but
    the last of its shortest prompt, one with stepwise prompts); every later step (the
    rest of the prompts, then generation up to the longest output) reads all weights
    once and computes one token per unit: the slower of the two."""
    limit = limit_of(limits, precision)
    weight_bytes = (params["layers"] + params["output"]) * (4 if precision == "float32" else 1)
    step_read = weight_bytes / (limits["read_gb_s"] * 1e9)
    total = 0.0
    for call in calls:
        prompts, outputs = call["prompts"], call["outputs"]
        units = len(prompts)
        total += 2 * params["layers"] * units * call["at_once"] / limit
        steps = max(prompts) - call["at_once"] + max(outputs)
        step_compute = 2 * units * (params["layers"] + params["output"]) / limit
        total += steps * max(step_read, step_compute)
    return total


# --- one row, in its own process ----------------------------------------------------


def batches_of(row: Row, engine, sentences: list[str], token_budget: int) -> list[list[int]]:
    """Indices per batch: longest first, as the harness orders units."""
    order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
    if row.batching == "fixed":
        size = row.batch_size or len(order)
        return [order[i : i + size] for i in range(0, len(order), size)]
    from evalkit.engines.decoding import unit_budgets

    inner = engine.inner
    prompts = inner.prompt.prompts(sentences, "ar", "en")
    lengths = [len(inner.tokenizer(p).input_ids) for p in prompts]
    caps = unit_budgets(inner.options, inner.prompt.source_lengths(sentences))
    batches: list[list[int]] = []
    widest = 0  # the current batch's longest prompt plus generation cap
    for i in order:
        cost = lengths[i] + caps[i]
        if batches and (len(batches[-1]) + 1) * max(cost, widest) <= token_budget:
            batches[-1].append(i)
            widest = max(cost, widest)
        else:
            batches.append([i])
            widest = cost
    return batches


def record_calls(inner) -> list[dict]:
    """Each CTranslate2 call's prompt and output lengths, for the roof model."""
    calls: list[dict] = []
    decode = inner._decode

    def recorded(starts, budgets, static):
        sequences = decode(starts, budgets, static)
        prompts = [len(s) for s in starts]
        at_once = 1 if inner.stepwise_prompts else min(prompts) - 1
        calls.append({"prompts": prompts, "at_once": at_once, "outputs": list(map(len, sequences))})
        return sequences

    inner._decode = recorded
    return calls


def prompt_tokens_of(inner, sentences: list[str]) -> int:
    """Prompt tokens a transformers batch forwards (padding not counted)."""
    chat = inner.prompt.has_chat_template
    prompts = inner.prompt.prompts(sentences, "ar", "en")
    return sum(len(inner.tokenizer(p, add_special_tokens=not chat).input_ids) for p in prompts)


def translate_pass(engine, sentences: list[str], batches: list[list[int]]) -> dict:
    """One timed pass over the sentences, batch by batch, and what it forwarded."""
    inner = engine.inner
    is_ct2 = hasattr(inner, "reuse_prefix")
    calls = record_calls(inner) if is_ct2 else []
    before = (engine.generated_tokens, getattr(inner, "prompt_tokens", 0))
    outputs = [""] * len(sentences)
    started = time.perf_counter()
    for batch in batches:
        texts = engine.translate([sentences[i] for i in batch], "ar", "en")
        for i, text in zip(batch, texts, strict=True):
            outputs[i] = text
    seconds = time.perf_counter() - started
    if is_ct2:
        del inner._decode  # stops recording: the class's method again
    prompt = inner.prompt_tokens - before[1] if is_ct2 else prompt_tokens_of(inner, sentences)
    tokens = engine.generated_tokens - before[0]
    return {
        "seconds": seconds,
        "tokens": tokens,
        "prompt_tokens": prompt,
        "calls": calls,
        "outputs": outputs,
    }


def measure(row: Row, count: int, token_budget: int, repeats: int) -> dict:
    """Runs in the child process: loads, then the fastest of `repeats` passes (others
    may load the machine; every pass must give the same outputs)."""
    from evalkit.engines import create_system

    sentences = seed_sentences(count)
    size = row.batch_size if row.batching == "fixed" and row.batch_size else len(sentences)
    engine = create_system(f"{row.spec},batch_size={size}").system
    started = time.perf_counter()
    engine.fingerprint()  # prepares the model files (cached after the first time)
    inner = engine.inner
    if hasattr(inner, "reuse_prefix"):
        inner.reuse_prefix, inner.workers = row.reuse_prefix, row.workers
        inner.stepwise_prompts = row.stepwise
    engine.translate(sentences[:1], "ar", "en")  # loads the weights (and caches the prefix)
    load_s = time.perf_counter() - started
    batches = batches_of(row, engine, sentences, token_budget)
    passes = [translate_pass(engine, sentences, batches) for _ in range(repeats)]
    if any(p["outputs"] != passes[0]["outputs"] for p in passes):
        raise RuntimeError(f"{row.name}: passes gave different outputs")
    best = min(passes, key=lambda p: p["seconds"])
    return {
        **best,
        "load_s": load_s,
        "tokens_per_s": best["tokens"] / best["seconds"],
        "pass_seconds": [round(p["seconds"], 2) for p in passes],
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "batches": [len(b) for b in batches],
        "params": matmul_parameters(Path(inner.source.path)),
    }


def run_row(row: Row, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", json.dumps(asdict(row))]
    command += ["--sentences", str(args.sentences), "--token-budget", str(args.token_budget)]
    command += ["--repeats", str(args.repeats)]
    env = dict(os.environ)
    if row.packed_gemm is not None:
        env["CT2_PACKED_GEMM"] = "1" if row.packed_gemm else "0"
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the served rows ----------------------------------------------------------------


def measure_server(count: int) -> dict[str, dict]:
    """The served rows: one vLLM server, the `openai` engine at each concurrency level."""
    from evalkit.engines import create_system
    from evalkit.serving import packaged_checkpoint, start_vllm

    sentences = seed_sentences(count)
    folder = packaged_checkpoint("qwen2.5-coder-0.5b-instruct")
    params = matmul_parameters(folder)
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
            stats = engine.request_stats()
            results[f"vLLM c={concurrency}"] = {
                "load_s": start_s,
                "seconds": seconds,
                "tokens": engine.generated_tokens,
                "prompt_tokens": stats.prompt_tokens,
                "tokens_per_s": engine.generated_tokens / seconds,
                "peak_rss_gb": None,  # the server's memory, not this process's
                "batches": [concurrency],
                "calls": [],
                "params": params,
                "outputs": outputs,
            }
    return results


# --- the table ----------------------------------------------------------------------


@dataclass
class Figures:
    """What a row's results come to, against its reference and its `versus` row."""

    efficiency: float
    roof: float | None
    same: int
    chrf: float
    effect: float | None = None
    same_as_versus: int | None = None


def figures_of(
    name: str, results: dict[str, dict], row: Row | None, limits: dict[str, float]
) -> Figures:
    from sacrebleu.metrics import CHRF

    r = results[name]
    precision = row.precision if row else "float32"
    work = work_flops(r["params"], r["prompt_tokens"], r["tokens"])
    efficiency = work / r["seconds"] / limit_of(limits, precision)
    roof = None
    if r["calls"]:
        roof = work / roof_seconds(r["calls"], r["params"], precision, limits)
        roof /= limit_of(limits, precision)
    reference = results.get(row.reference if row else REFERENCE, r)["outputs"]
    same = sum(a == b for a, b in zip(r["outputs"], reference, strict=True))
    chrf = CHRF().corpus_score(r["outputs"], [reference]).score
    figures = Figures(efficiency, roof, same, chrf)
    if row and row.versus in results:
        base = results[row.versus]
        figures.effect = r["tokens_per_s"] / base["tokens_per_s"]
        pairs = zip(r["outputs"], base["outputs"], strict=True)
        figures.same_as_versus = sum(a == b for a, b in pairs)
    return figures


def print_table(
    results: dict[str, dict], table: dict[str, Figures], limits: dict[str, float], count: int
) -> None:
    print(f"{count} seed sentences, greedy, batches longest first")
    print(
        f"{'engine':<26} {'tok/s':>6} {'gen':>5} {'prompt':>6} {'load s':>6} {'peak GB':>7} "
        f"{'eff':>5} {'roof':>5} {'same':>6} {'chrF':>6} {'lever':>6} {'= vs':>6}"
    )
    for name, r in results.items():
        f = table[name]
        peak = "–" if r["peak_rss_gb"] is None else f"{r['peak_rss_gb']:.2f}"
        roof = "–" if f.roof is None else f"{f.roof:.2f}"
        effect = "" if f.effect is None else f"{f.effect:.2f}x"
        versus = "" if f.same_as_versus is None else f"{f.same_as_versus}/{len(r['outputs'])}"
        print(
            f"{name:<26} {r['tokens_per_s']:>6.1f} {r['tokens']:>5} {r['prompt_tokens']:>6} "
            f"{r['load_s']:>6.1f} {peak:>7} {f.efficiency:>5.2f} {roof:>5} "
            f"{f.same:>3}/{len(r['outputs']):<2} {f.chrf:>6.1f} {effect:>6} {versus:>6}"
        )
    print(
        "same, chrF: against transformers fp32 (the 1.5B rows: against 1.5B ct2 int8); "
        "lever: speed against the row above it that it changes one thing of; = vs: outputs "
        "identical to that row"
    )
    print(FORMULA)
    print(
        f"limits (best of start and end of run): float32 {limits['float32_gflops']:.0f} "
        f"GFLOP/s (torch.matmul), int8 {limits['int8_gops']:.0f} GOP/s (torch._int_mm), "
        f"memory read {limits['read_gb_s']:.1f} GB/s"
    )
    for precision, width in (("float32", 4), ("int8", 1)):
        limit = limit_of(limits, precision)
        bounds = ", ".join(
            f"B={b}: {min(1.0, 2 * b * limits['read_gb_s'] * 1e9 / (width * limit)):.2f}"
            for b in (8, 24, 64)
        )
        print(f"decoding ceiling, {precision} (weights read once per step, B sequences): {bounds}")
    print("roof: the efficiency the row's own CTranslate2 calls allow under that model")
    if BASELINE in results:
        base = results[BASELINE]["tokens_per_s"]
        print(f"\nspeed as a ratio to {BASELINE} ({base:.1f} tok/s), same run")
        for name, r in results.items():
            print(f"{name:<26} {r['tokens_per_s'] / base:>6.2f}x")


def write_json(
    path: Path,
    args: argparse.Namespace,
    limits: list[dict[str, float]],
    results: dict[str, dict],
    table: dict[str, Figures],
) -> None:
    figures = {
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "sentences": args.sentences,
        "batch_size": args.batch_size,
        "token_budget": args.token_budget,
        "repeats": args.repeats,
        "formula": FORMULA,
        "limits_start": limits[0],
        "limits_end": limits[1],
        "rows": {
            name: {
                **{k: v for k, v in r.items() if k not in ("outputs", "calls")},
                **asdict(table[name]),
            }
            for name, r in results.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--token-budget", type=int, default=4096)
    parser.add_argument(
        "--repeats", type=int, default=1, help="timed passes per row; the fastest counts"
    )
    parser.add_argument("--no-large", action="store_true", help="skip the 1.5B model's rows")
    parser.add_argument("--no-server", action="store_true", help="local engines only")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "engines.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        row = Row(**json.loads(args.child))
        print(json.dumps(measure(row, args.sentences, args.token_budget, args.repeats)))
        return
    threads = os.cpu_count() or 1
    print("measuring the machine's limits ...", file=sys.stderr, flush=True)
    limits = [machine_limits(threads)]
    plan = [row for row in rows(args.batch_size) if not (row.large and args.no_large)]
    results = {}
    for row in plan:
        print(f"running {row.name.strip()} ...", file=sys.stderr, flush=True)
        results[row.name] = run_row(row, args)
    if not args.no_server:
        print("running vLLM (server start, then each concurrency) ...", file=sys.stderr)
        results.update(measure_server(args.sentences))
    limits.append(machine_limits(threads))
    best = {key: max(m[key] for m in limits) for key in limits[0]}
    by_name = {row.name: row for row in plan}
    table = {name: figures_of(name, results, by_name.get(name), best) for name in results}
    print_table(results, table, best, args.sentences)
    write_json(args.json, args, limits, results, table)


if __name__ == "__main__":
    main()
