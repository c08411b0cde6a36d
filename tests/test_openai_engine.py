"""The `openai` engine against a fake server (tests/fake_openai.py): fast, no model.

tests/test_served_model.py holds the engine against a real vLLM server, but a real
server cannot be made to answer with a body that is not JSON, with no choices, with a
404 or 400 on demand, or with a 429 carrying Retry-After; nor does it show what the
engine sent. The fake one does, in milliseconds, so every rule here runs on every test run.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.cli.progress import is_progress_line
from evalkit.engines import create_system
from evalkit.engines.base import Translation
from evalkit.engines.chat_prompt import chat_messages
from evalkit.engines.decoding import unit_budget
from evalkit.engines.openai_api import OpenAIEngine
from evalkit.errors import ServiceError, UnitFailed, UserInputError
from tests.fake_openai import MODEL, FakeOpenAI, words


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("EVALKIT_OPENAI_BASE_URL", raising=False)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake2() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def spec_for(url: str, options: str = "", model: str = MODEL) -> str:
    return f"openai:{model},base_url={url}" + (f",{options}" if options else "")


def engine_for(url: str, options: str = "") -> OpenAIEngine:
    engine = create_system(spec_for(url, options)).system
    assert isinstance(engine, OpenAIEngine)
    return engine


def line_files(tmp_path: Path, lines: list[str]) -> tuple[Path, Path]:
    src, ref = tmp_path / "news.ar", tmp_path / "news.en"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ref.write_text("\n".join(f"reference {i}" for i in range(len(lines))) + "\n")
    return src, ref


def assert_nothing_written(results_dir: Path) -> None:
    assert not results_dir.exists() or not any(results_dir.iterdir())


def write_json(path: Path, data: object) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


# -- failures end the run with one line --------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "cause"), [("not-json", "not JSON"), ("no-choices", "no choices")]
)
def test_a_broken_answer_ends_the_run_naming_document_and_line(
    fake: FakeOpenAI, cli, results_dir: Path, tmp_path: Path, behaviour: str, cause: str
) -> None:
    fake.behaviour, fake.fault_when = behaviour, "BROKEN"
    src, ref = line_files(tmp_path, ["alpha beta", "gamma BROKEN delta", "epsilon"])
    result = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", spec_for(fake.base_url))
    assert result.exit_code == 3, result.output
    lines = [line for line in result.stderr.strip().splitlines() if not is_progress_line(line)]
    assert len(lines) == 1, result.stderr
    assert "news line 2" in lines[0] and cause in lines[0]
    assert "Traceback" not in result.output
    assert_nothing_written(results_dir)


def test_an_unreachable_server_ends_the_run(cli, results_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    src, ref = line_files(tmp_path, ["alpha"])
    spec = spec_for(f"http://127.0.0.1:{port}/v1", "max_retries=0")
    result = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", spec)
    assert result.exit_code == 3, result.output
    assert "cannot reach the server" in result.stderr and f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output
    assert_nothing_written(results_dir)


# -- retries -----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "says"), [("404", "HTTP 404"), ("400", "context")])
def test_final_answers_are_not_retried(fake: FakeOpenAI, status: str, says: str) -> None:
    fake.behaviour = status
    engine = engine_for(fake.base_url, "max_retries=5")
    with pytest.raises(UnitFailed) as failure:
        engine.translate(["one two"], "ar", "en")
    assert failure.value.index == 0 and says in failure.value.reason
    assert len(fake.generations) == 1
    assert engine.request_stats().retries == 0


@pytest.mark.parametrize("script", [["429"], ["500"], ["429", "500", "429"]])
def test_rate_limits_and_server_errors_are_retried_and_counted(
    fake: FakeOpenAI, script: list[str]
) -> None:
    fake.script = list(script)
    engine = engine_for(fake.base_url, "max_retries=5")
    assert engine.translate(["one two"], "ar", "en") == ["ONE TWO"]
    stats = engine.request_stats()
    assert stats.retries == len(script)
    assert stats.requests == len(fake.generations) == len(script) + 1
    assert stats.completion_tokens == 2


def test_retry_after_replaces_the_backoff_and_retries_stop_at_max_retries(
    fake: FakeOpenAI,
) -> None:
    fake.script = ["429"] * 3  # Retry-After: 0; the backoff alone would wait 3.5 s or more
    engine = engine_for(fake.base_url, "max_retries=3")
    started = time.perf_counter()
    assert engine.translate(["one"], "ar", "en") == ["ONE"]
    assert time.perf_counter() - started < 1.5
    fake.script = ["429"] * 4
    with pytest.raises(UnitFailed) as failure:
        engine.translate(["two"], "ar", "en")
    assert "failed after 4 attempts" in failure.value.reason and "429" in failure.value.reason
    assert len(fake.generations) == 4 + 4


# -- what is sent ------------------------------------------------------------------------


def test_chat_request_body(fake: FakeOpenAI, tmp_path: Path) -> None:
    extra = write_json(tmp_path / "extra.json", {"top_k": 5, "repetition_penalty": 1.1})
    engine = engine_for(fake.base_url, f"seed=7,extra_body_file={extra}")
    assert engine.translate(["one two three"], "ar", "en") == ["ONE TWO THREE"]
    (sent,) = fake.generations
    assert sent.path == "/v1/chat/completions"
    assert sent.body == {
        "model": MODEL,
        "messages": chat_messages("one two three", "ar", "en"),
        "max_tokens": unit_budget(256, 3.0, 3),
        "temperature": 0,
        "seed": 7,
        "top_k": 5,
        "repetition_penalty": 1.1,
    }
    counted = [r.body for r in fake.received if r.path == "/tokenize"]
    assert {"model": MODEL, "prompt": "one two three"} in counted


def test_completions_request_body(fake: FakeOpenAI) -> None:
    engine = engine_for(fake.base_url, "mode=completions,max_tokens=10")
    assert engine.translate(["one two three four five"], "ar", "en") == ["ONE TWO THREE FOUR FIVE"]
    (sent,) = fake.generations
    assert sent.path == "/v1/completions"
    assert sent.body["prompt"] == "Arabic: one two three four five\nEnglish:"
    assert sent.body["stop"] == ["\n"] and "messages" not in sent.body
    assert sent.body["max_tokens"] == 10  # the cap, below 5 * 3 + 16


def test_options_file_is_read_and_the_spec_overrides_it(fake: FakeOpenAI, tmp_path: Path) -> None:
    options = {"stop": ["a,b", "\n"], "concurrency": 2, "max_tokens": 9}
    path = write_json(tmp_path / "options.json", options)
    engine = engine_for(fake.base_url, f"options_file={path},concurrency=3")
    assert engine.options.concurrency == engine.client.concurrency == 3
    assert engine.options.stop == ["a,b", "\n"]
    engine.translate(["one"], "ar", "en")
    assert fake.generations[0].body["stop"] == ["a,b", "\n"]
    assert fake.generations[0].body["max_tokens"] == 9


def test_requests_spread_over_replicas(fake: FakeOpenAI, fake2: FakeOpenAI) -> None:
    engine = engine_for(f"{fake.base_url}|{fake2.base_url}")
    segments = [f"segment {i}" for i in range(6)]
    assert engine.translate(segments, "ar", "en") == [s.upper() for s in segments]
    assert fake.generations and fake2.generations
    assert len(fake.generations) + len(fake2.generations) == 6
    assert fake.counts["/v1/models"] == fake2.counts["/v1/models"] == 1


@pytest.mark.parametrize(
    ("value", "items"), [("\\n|###", ["\n", "###"]), ("a\\|b|\\t|", ["a|b", "\t"])]
)
def test_list_options_split_at_pipes(value: str, items: list[str]) -> None:
    engine = engine_for("http://127.0.0.1:9/v1", f"stop={value}")
    assert engine.options.stop == items


# -- the cache key -----------------------------------------------------------------------

SAME_KEY = [
    "openai:fake-model,base_url={url2}",
    "{base},concurrency=1",
    "{base},timeout=5",
    "{base},max_retries=0",
    "{base},requests_per_minute=600",
]
NEW_KEY = [
    "{base},temperature=0.5",
    "{base},max_tokens=100",
    "{base},instruction_file={instruction}",
    "openai:other-model,base_url={url}",
    "{base},mode=completions",
    "{base},seed=1",
]


@pytest.mark.parametrize("template", SAME_KEY + NEW_KEY)
def test_fingerprint_holds_what_changes_outputs_only(
    fake: FakeOpenAI, fake2: FakeOpenAI, tmp_path: Path, template: str
) -> None:
    for server in (fake, fake2):
        server.models.append("other-model")
    instruction = tmp_path / "instruction.txt"
    instruction.write_text("Into {target}, please:\n\n{text}\n", encoding="utf-8")
    base = spec_for(fake.base_url)
    spec = template.format(
        base=base, url=fake.base_url, url2=fake2.base_url, instruction=instruction
    )
    before = create_system(base).system.fingerprint_hash()
    after = create_system(spec).system.fingerprint_hash()
    assert (after == before) == (template in SAME_KEY)


# -- truncation --------------------------------------------------------------------------


def test_a_reply_cut_at_the_cap_is_flagged_truncated(fake: FakeOpenAI) -> None:
    fake.behaviour, fake.fault_when = "length", "LONG"
    done: dict[int, Translation] = {}
    engine_for(fake.base_url).translate_each(
        ["one two three", "LONG four five"], "ar", "en", done.__setitem__
    )
    assert done == {0: Translation("ONE TWO THREE", False), 1: Translation("LONG", True)}


# -- credentials -------------------------------------------------------------------------

URL = "http://127.0.0.1:9/v1"


@pytest.mark.parametrize(
    ("spec", "secret"),
    [
        (f"openai:m,base_url={URL},api_key=hunter2hunter2", "hunter2hunter2"),
        (f"openai:m,base_url={URL},seed=sk-abcdefghijklmnop1234", "sk-abcdefghijklmnop1234"),
        (f"openai:m,base_url={URL},token=tok3n-value", "tok3n-value"),
        ("openai:m,base_url=http://alice:pa55word@127.0.0.1:9/v1", "pa55word"),
    ],
    ids=["api_key", "sk-shaped", "token", "url-password"],
)
def test_credentials_in_a_spec_are_refused_without_repeating_them(spec: str, secret: str) -> None:
    with pytest.raises(UserInputError) as refused:
        create_system(spec)
    assert "api_key_env" in str(refused.value) and secret not in str(refused.value)


def test_the_api_key_comes_from_the_named_variable(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.api_key = "key-in-myvar-0123"
    monkeypatch.setenv("MYVAR", fake.api_key)
    engine = engine_for(fake.base_url, "api_key_env=MYVAR")
    assert engine.translate(["one"], "ar", "en") == ["ONE"]
    assert {r.headers.get("Authorization") for r in fake.received} == {f"Bearer {fake.api_key}"}

    monkeypatch.setenv("MYVAR", "wrong-key-4567")
    with pytest.raises(ServiceError) as refused:
        engine_for(fake.base_url, "api_key_env=MYVAR").translate(["one"], "ar", "en")
    assert "401" in str(refused.value) and "MYVAR" in str(refused.value)
    assert "wrong-key-4567" not in str(refused.value)


# -- dry run -----------------------------------------------------------------------------


def test_dry_run_counts_requests_and_prompt_tokens_and_sends_nothing(
    fake: FakeOpenAI, cli, results_dir: Path, tmp_path: Path
) -> None:
    lines = ["alpha beta", "gamma delta epsilon", "zeta"]
    src, ref = line_files(tmp_path, lines)
    result = cli("run", "--src", src, "--ref", ref, "-s", spec_for(fake.base_url), "--dry-run",
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    (plan,) = json.loads(result.stdout)["systems"].values()
    assert plan["requests"] == plan["to_translate"] == 3
    prompts = [words({"messages": chat_messages(line, "ar", "en")}) for line in lines]
    assert plan["prompt_tokens"] == sum(prompts) and plan["prompt_tokens_exact"] is True
    budgets = [unit_budget(256, 3.0, len(line.split())) for line in lines]
    assert plan["max_completion_tokens"] == sum(budgets)
    assert fake.generations == []
    assert_nothing_written(results_dir)


def test_requests_per_minute_spaces_requests(fake: FakeOpenAI) -> None:
    # 600 a minute: one every 0.1 s, so five requests take at least 0.4 s (a lower bound,
    # which a slow machine cannot break)
    engine = engine_for(fake.base_url, "requests_per_minute=600,concurrency=5")
    started = time.perf_counter()
    engine.translate(["a", "b", "c", "d", "e"], "ar", "en")
    assert time.perf_counter() - started >= 0.4
    assert engine.request_stats().requests == 5
