"""The `openai` engine against a real vLLM server serving the packaged 0.5B model.

The server starts once per session (the `vllm_server` fixture); faults a real server
does not make on demand come from a proxy in front of it (tests/fault_proxy.py).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evalkit.engines import create_system
from tests.fault_proxy import FAULTS, FaultProxy
from tests.served import FIGURES, seed_sentences

EVALKIT = str(Path(sys.executable).with_name("evalkit"))

pytestmark = pytest.mark.slow  # a real vLLM server and model: minutes to start on 2 cores


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return seed_sentences(16)


@pytest.fixture(scope="module")
def served_outputs(vllm_server, sentences) -> list[str]:
    """The 16 sentences translated through the server at concurrency 8, no faults."""
    os.environ["OPENAI_API_KEY"] = vllm_server.api_key
    engine = create_system(vllm_server.spec("concurrency=8")).system
    outputs = engine.translate(sentences, "ar", "en")
    stats = engine.request_stats()
    assert stats.requests == len(sentences) and stats.retries == 0
    assert stats.prompt_tokens > 0 and stats.completion_tokens == engine.generated_tokens > 0
    return outputs


@pytest.fixture(autouse=True)
def _api_key(vllm_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", vllm_server.api_key)


def test_concurrency_does_not_change_outputs_and_local_agreement_is_reported(
    vllm_server, sentences, served_outputs
):
    assert all(output.strip() for output in served_outputs)
    engine = create_system(vllm_server.spec("concurrency=1")).system
    assert engine.translate(sentences[:4], "ar", "en") == served_outputs[:4]

    local = create_system("packaged:qwen2.5-coder-0.5b-instruct").system
    local_outputs = local.translate(sentences, "ar", "en")
    same = sum(a == b for a, b in zip(served_outputs, local_outputs, strict=True))
    FIGURES.append(
        f"vLLM (chat, float32) vs local ct2 float32, {len(sentences)} seed sentences: "
        f"{same}/{len(sentences)} identical outputs"
    )


def test_faults_are_retried_and_change_nothing(vllm_server, sentences, served_outputs):
    picked = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))[:8]
    # the timeout leaves a real answer room on a busy 2-core machine; the stall outlasts it
    with FaultProxy(vllm_server.root, faults=FAULTS, every=2, stall_s=120) as proxy:
        spec = vllm_server.spec("concurrency=4,timeout=75,max_retries=4", proxy.base_url)
        engine = create_system(spec).system
        outputs = engine.translate([sentences[i] for i in picked], "ar", "en")
    assert outputs == [served_outputs[i] for i in picked]
    assert set(proxy.injected) == set(FAULTS), proxy.injected
    stats = engine.request_stats()
    assert stats.retries == sum(proxy.injected.values())
    assert stats.requests == proxy.generation_requests == len(picked) + stats.retries


def _cached_rows(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=30) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def _line_files(tmp_path: Path, sentences: list[str]) -> tuple[Path, Path]:
    src, ref = tmp_path / "src.ar", tmp_path / "ref.en"
    src.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    ref.write_text("\n".join(f"reference {i}." for i in range(len(sentences))) + "\n")
    return src, ref


def test_kill_9_mid_run_then_rerun_sends_only_what_is_missing(vllm_server, sentences, tmp_path):
    src, ref = _line_files(tmp_path, sentences[:10])
    cache = tmp_path / "cache.sqlite"
    with FaultProxy(vllm_server.root) as proxy:
        command = [
            EVALKIT, "run", "--src", str(src), "--ref", str(ref), "--metric", "chrf",
            "--unit", "paragraph", "--cache", str(cache), "--results-dir", str(tmp_path / "r"),
            "--system", vllm_server.spec("concurrency=2", proxy.base_url),
        ]  # fmt: skip
        first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while _cached_rows(cache) < 3 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        proxy.wait_idle()  # what the victim sent before dying is not the rerun's
        stored = _cached_rows(cache)
        assert 3 <= stored < 10, f"kill came too late or too early: {stored} stored"
        assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
        proxy.reset_counts()
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert proxy.generation_requests == 10 - stored
    (run,) = [p for p in (tmp_path / "r").iterdir() if not p.name.startswith(".")]
    record = json.loads((run / "run.json").read_text())
    (system,) = record["systems"]
    assert system["cache_hits"] == stored and system["translated"] == 10 - stored
    assert system["requests"] == 10 - stored and system["retries"] == 0
    assert system["prompt_tokens"] > 0 and system["completion_tokens"] > 0


def test_api_key_is_never_written_or_printed(vllm_server, sentences, tmp_path):
    src, ref = _line_files(tmp_path, sentences[:3])
    results, cache = tmp_path / "results", tmp_path / "cache.sqlite"
    env = {**os.environ, "EVALKIT_RESULTS": str(results), "EVALKIT_CACHE": str(cache)}
    spec = vllm_server.spec("concurrency=2,api_key_env=SERVED_KEY")
    env["SERVED_KEY"] = vllm_server.api_key
    printed = ""
    for command in (
        ["run", "--src", str(src), "--ref", str(ref), "-m", "chrf", "-s", spec, "--dry-run"],
        ["run", "--src", str(src), "--ref", str(ref), "-m", "chrf", "-s", spec],
        ["show", "latest"],
        ["report", "latest"],
    ):
        done = subprocess.run([EVALKIT, *command], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        printed += done.stdout + done.stderr
    written = [p for p in [*results.rglob("*"), *tmp_path.glob("cache.sqlite*")] if p.is_file()]
    assert any(p.name == "report.html" for p in written)
    key = vllm_server.api_key.encode()
    assert not [p for p in written if key in p.read_bytes()]
    assert vllm_server.api_key not in printed

    env["SERVED_KEY"] = "sk-wrong-" + "0" * 24
    done = subprocess.run(
        [EVALKIT, "run", "--src", str(src), "--ref", str(ref), "-m", "chrf", "-s", spec,
         "--no-cache", "--results-dir", str(tmp_path / "refused")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 3
    assert "401" in done.stderr and "SERVED_KEY" in done.stderr
    assert "sk-wrong" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "refused").exists()


def test_truncated_replies_are_kept_flagged_and_counted(vllm_server, sentences, cli, tmp_path):
    src, ref = _line_files(tmp_path, sentences[:3])
    spec = vllm_server.spec("max_tokens=3")
    result = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", spec, "--json")
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.stdout)["path"])
    record = json.loads((folder / "run.json").read_text())
    rows = [json.loads(line) for line in (folder / "segments.jsonl").read_text().splitlines()]
    assert record["systems"][0]["truncated"] == 3
    assert all(row["hyp_flags"] == {record["systems"][0]["label"]: ["truncated"]} for row in rows)
    assert all(row["hyp"][record["systems"][0]["label"]] for row in rows)
    again = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", spec, "--json")
    folder = Path(json.loads(again.stdout)["path"])
    record = json.loads((folder / "run.json").read_text())
    assert record["systems"][0]["cache_hits"] == 3 and record["systems"][0]["truncated"] == 3


def test_dry_run_counts_requests_and_prompt_tokens_then_sends_nothing(
    vllm_server, sentences, cli, tmp_path
):
    src, ref = _line_files(tmp_path, sentences[:4])
    spec = vllm_server.spec()
    planned = cli("run", "--src", src, "--ref", ref, "-s", spec, "--dry-run", "--json")
    assert planned.exit_code == 0, planned.output
    plan = next(iter(json.loads(planned.stdout)["systems"].values()))
    assert plan["requests"] == plan["to_translate"] == 4 and plan["cached"] == 0
    assert plan["prompt_tokens_exact"] is True and plan["prompt_tokens"] > 4 * 20
    assert not any((tmp_path / "results").glob("*")) if (tmp_path / "results").exists() else True
    ran = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", spec, "--json")
    assert ran.exit_code == 0, ran.output
    record = json.loads((Path(json.loads(ran.stdout)["path"]) / "run.json").read_text())
    assert record["systems"][0]["prompt_tokens"] == plan["prompt_tokens"]
    replanned = cli("run", "--src", src, "--ref", ref, "-s", spec, "--dry-run", "--json")
    plan = next(iter(json.loads(replanned.stdout)["systems"].values()))
    assert plan["requests"] == 0 and plan["cached"] == 4


def test_unknown_model_is_refused_with_the_names_the_server_offers(vllm_server, cli, tmp_path):
    src, ref = _line_files(tmp_path, ["مرحبا"])
    spec = vllm_server.spec().replace(vllm_server.model, "no-such-model")
    result = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", spec)
    assert result.exit_code == 3
    assert "no-such-model" in result.stderr and vllm_server.model in result.stderr


def test_a_prompt_too_long_for_the_context_names_its_segment(vllm_server, cli, tmp_path):
    long_line = " ".join(["قال الوزير إن الحكومة ستحاسب المسؤولين عن الهجوم."] * 300)
    src, ref = _line_files(tmp_path, ["جملة قصيرة.", long_line])
    result = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", vllm_server.spec(),
                 "--unit", "paragraph")  # fmt: skip
    assert result.exit_code == 3
    assert "line 2" in result.stderr and "context" in result.stderr
    assert "Traceback" not in result.stderr


def test_completions_mode_with_the_model_chat_template_gives_the_chat_text(
    vllm_server, sentences, served_outputs
):
    from evalkit.serving import packaged_checkpoint

    folder = packaged_checkpoint("qwen2.5-coder-0.5b-instruct")
    spec = vllm_server.spec(f"mode=completions,tokenizer={folder},concurrency=4")
    rendered = create_system(spec).system.translate(sentences[:4], "ar", "en")
    assert rendered == served_outputs[:4]
    plain = create_system(vllm_server.spec("mode=completions,concurrency=4")).system
    outputs = plain.translate(sentences[:4], "ar", "en")
    assert all("\n" not in output for output in outputs)
    assert plain.request_stats().requests == 4
