"""llm-judge: the reply grammar, the metric end to end with a scripted chat engine, the
reply cache, the chat hook on a tiny real model, and (slow) the packaged 0.5B model and a
real vLLM server. Nothing here asserts how good a judge any model is."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import pytest

from evalkit.cache import TranslationCache
from evalkit.engines.base import System
from evalkit.engines.chat_completion import ChatCache, chat_each
from evalkit.engines.registry import register
from evalkit.metrics import create_metrics
from evalkit.metrics.llm_judge_parse import FoundError, locate, parse_score, parse_spans
from evalkit.record import read_record, read_segments
from evalkit.registry import Languages
from tests.fake_openai import FakeOpenAI

# -- the spans grammar -------------------------------------------------------------------


def test_well_formed_spans_reply():
    reply = 'Major:\naccuracy/mistranslation - "at night"\nMinor:\nfluency/grammar - "go"'
    parsed = parse_spans(reply)
    assert parsed.parsed
    assert parsed.errors == (
        FoundError("major", "accuracy/mistranslation", "at night"),
        FoundError("minor", "fluency/grammar", "go"),
    )


def test_no_error_reply_is_parsed_with_no_errors():
    for reply in (
        "Major:\nno-error\nMinor:\nno-error",
        "no-error",
        "**No errors.**",
        "Major: none",
    ):
        parsed = parse_spans(reply)
        assert parsed.parsed and parsed.errors == (), reply


def test_messy_spans_reply():
    reply = (
        'Here are the errors I found in "the translation":\n\n'
        "**Critical errors:**\n"
        "1. accuracy/omission: “the little brother”\n"
        "### Minor:\n"
        "- style/awkward – 'in the morning' (source: 'صباحاً')\n"
        '* grammar - "don\'t" is informal\n'
        'accuracy (major) - "went"\n'
        "accuracy/no-error\n"
        'minor: spelling - "teh"\n'
    )
    parsed = parse_spans(reply)
    assert parsed.parsed
    assert parsed.errors == (
        FoundError("major", "accuracy/omission", "the little brother"),  # critical -> major
        FoundError("minor", "style/awkward", "in the morning"),  # first quote of the line
        FoundError("minor", "grammar", "don't"),
        FoundError("major", "accuracy", "went"),  # its own severity wins over the heading
        FoundError("minor", "spelling", "teh"),
    )


def test_inline_severity_without_headings():
    parsed = parse_spans('major mistranslation - "bank"\nminor - "the"')
    assert parsed.parsed
    assert [(e.severity, e.text) for e in parsed.errors] == [("major", "bank"), ("minor", "the")]


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "   \n ",
        "The boy went to school in the morning with his little brother.",
        "I'm sorry, I cannot help with that.",
        'The translation "went to school" looks fine to me.',  # a quote, but no severity
    ],
)
def test_unparseable_spans_replies(reply):
    assert not parse_spans(reply).parsed


# -- the score grammar -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("85", 85.0),
        ("Score: 72.5", 72.5),
        ("Score (0-100): 90", 90.0),
        ("On a scale of 0 to 100, I would give it 40.", 40.0),
        ("8/10", 80.0),
        ("4 / 5", 80.0),
        ("95%", 95.0),
        ("There are 2 errors. Score: 60", 60.0),
        ("0", 0.0),
        ("100", 100.0),
    ],
)
def test_scores_read(reply, score):
    assert parse_score(reply) == score


@pytest.mark.parametrize("reply", ["", "good", "Score: 150", "-5", "Score (0-100):", "1e3"])
def test_unparseable_scores(reply):
    assert parse_score(reply) is None


# -- spans in the hypothesis -------------------------------------------------------------


def test_spans_are_placed_by_character_offsets():
    hypothesis = "The Boy go to school, the boy go home."
    errors = [
        FoundError("minor", "grammar", "go"),
        FoundError("minor", "grammar", "go"),  # the same quote again: the next occurrence
        FoundError("major", "x", "THE BOY"),  # case differs: the first one, ignoring case
        FoundError("major", "x", "home."),
        FoundError("major", "x", "not there"),
    ]
    placed, missing = locate(errors, hypothesis)
    assert missing == 1
    assert [(p.start, p.end, p.severity) for p in placed] == [
        (8, 10, "minor"),
        (30, 32, "minor"),
        (0, 7, "major"),
        (33, 38, "major"),
    ]
    assert [hypothesis[p.start : p.end] for p in placed] == [p.text for p in placed]


def test_spans_in_arabic_text():
    hypothesis = "ذهب الولد إلى المدرسة"
    (placed,), missing = locate([FoundError("major", "", "المدرسة")], hypothesis)
    assert missing == 0 and hypothesis[placed.start : placed.end] == "المدرسة"


# -- the metric with a scripted chat engine ----------------------------------------------


@register("scripted-judge")
class ScriptedJudge(System):
    """Answers judge conversations from the translation in them: what a reply is, and
    whether it parses, is decided by the test's words."""

    asked: ClassVar[list[Any]] = []

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "scripted-judge", "model": "script", "version": 1}

    def chat(self, conversations: list[list[dict[str, str]]], max_tokens: int) -> list[str]:
        ScriptedJudge.asked += conversations
        return [self._reply(c[-1]["content"]) for c in conversations]

    @staticmethod
    def _reply(prompt: str) -> str:
        translation = prompt.split("translation:\n```", 1)[1].split("```", 1)[0]
        if "Score (0-100)" in prompt:
            if "mumble" in translation:
                return "It reads well, I think."
            return "Score: 40" if "wrong" in translation else "90"
        if "gibberish" in translation:
            return "I am not sure what you mean."
        if "wrong" in translation:
            return '**Major:**\n- mistranslation - "wrong word"\nMinor:\n- grammar - "x"'
        return "Major:\nno-error\nMinor:\nno-error"


SOURCES = ["جملة أولى.", "جملة ثانية.", "جملة ثالثة.", "جملة رابعة."]
HYPOTHESES = ["A fine sentence.", "It has a wrong word here.", "gibberish", "mumble mumble"]


@pytest.fixture
def scripted_run(cli, tmp_path: Path, results_dir: Path):
    src, ref, hyp = (tmp_path / n for n in ("s.ar", "r.en", "h.en"))
    src.write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    ref.write_text("\n".join(f"Sentence {i}." for i in range(4)) + "\n", encoding="utf-8")
    hyp.write_text("\n".join(HYPOTHESES) + "\n", encoding="utf-8")
    ScriptedJudge.asked = []
    result = cli(
        "run",
        *("--src", src, "--ref", ref, "--system", f"mt=files:{hyp}"),
        *("--metric", "chrf", "--metric", "llm-judge:scripted-judge", "--json"),
    )
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["path"])


def test_judge_scores_spans_and_unparseable_rows(scripted_run: Path):
    record = read_record(scripted_run)
    rows = list(read_segments(scripted_run))
    scores = [row.scores["mt"]["llm-judge"] for row in rows]
    assert scores == [90.0, 40.0, None, None]
    assert record.scores["mt"].corpus["llm-judge"] == pytest.approx(65.0)  # read ones only
    (spans,) = [
        row.spans["mt"]["llm-judge"] for row in rows if "llm-judge" in row.spans.get("mt", {})
    ]
    (span,) = spans  # "x" is quoted but not in the hypothesis: counted, not placed
    hypothesis = HYPOTHESES[1]
    assert (span.start, span.end, span.severity) == (9, 19, "major")
    assert hypothesis[span.start : span.end] == span.text == "wrong word"
    flags = [row.hyp_flags.get("mt", []) for row in rows]
    assert flags == [[], [], ["unscored:llm-judge"], ["unscored:llm-judge"]]
    (note,) = [n for n in record.notes if n.startswith("llm-judge:")]
    assert "no score on 2 of 4 for mt" in note and "could not be parsed" in note
    # the score step is asked only for replies whose spans were read
    assert len(ScriptedJudge.asked) == 4 + 3


def test_signature_names_prompt_parser_and_model():
    (metric,) = create_metrics(["llm-judge:scripted-judge"], Languages("en", ("ar",)))
    signature = metric.signature()
    assert signature.startswith("llm-judge|prompt:gemba-esa/1+")
    assert "|parser:1|" in signature and "|judge:scripted-judge:script@" in signature
    assert "|langs:ar-en|" in signature and signature.endswith("reference:no")
    (longer,) = create_metrics(["llm-judge:scripted-judge,reply_tokens=512"], Languages())
    assert "reply_tokens:512" in longer.signature()


def test_the_judge_sees_source_and_translation_not_the_reference(scripted_run: Path):
    first = ScriptedJudge.asked[0][-1]["content"]
    assert SOURCES[0] in first and HYPOTHESES[0] in first and "Sentence 0." not in first


def test_rescore_adds_the_judge_and_compare_reads_it(cli, tmp_path: Path, scripted_run: Path):
    plain = cli("rescore", scripted_run.name, "--metric", "llm-judge:scripted-judge")
    assert "nothing to compute" in plain.stdout  # same signature: kept
    result = cli(
        "rescore", scripted_run.name, "-m", "llm-judge:scripted-judge,reply_tokens=64", "--json"
    )
    assert result.exit_code == 0, result.output
    new = Path(json.loads(result.stdout)["path"])
    record = read_record(new)
    assert record.rescored_from == scripted_run.name
    assert [row.hyp_flags.get("mt", []) for row in read_segments(new)][2:] == [
        ["unscored:llm-judge"]
    ] * 2
    assert len([n for n in record.notes if n.startswith("llm-judge: no score")]) == 1
    compared = cli("compare", new.name, "--metric", "llm-judge", "--json", "--resamples", "20")
    assert compared.exit_code == 0, compared.output


def test_engines_that_cannot_chat_and_bad_options_fail_with_exit_2(cli, tmp_path: Path):
    src = tmp_path / "s.ar"
    src.write_text("جملة.\n", encoding="utf-8")
    for spec, words in [
        ("llm-judge:copy", "cannot hold a chat"),
        ("llm-judge:hf-causal:x,bogus=1", "bogus"),
        ("llm-judge:scripted-judge,engine=copy", "name the engine once"),
    ]:
        result = cli("run", "--src", src, "--system", "copy", "--metric", spec)
        assert result.exit_code == 2, (spec, result.output)
        assert words in result.stderr, (spec, result.stderr)


# -- replies are cached ------------------------------------------------------------------


def test_replies_are_cached_and_asked_once(tmp_path: Path):
    conversations = [[{"role": "user", "content": f"translation:\n```t{i}```"}] for i in range(3)]
    engine = ScriptedJudge(None)
    ScriptedJudge.asked = []
    with TranslationCache(tmp_path / "cache.sqlite") as cache:
        chat = ChatCache(engine, 64, engine.fingerprint())
        chat.cache = cache
        first = chat.replies(conversations + conversations[:1])
        assert len(ScriptedJudge.asked) == 3  # the repeated one is asked once
    with TranslationCache(tmp_path / "cache.sqlite") as cache:
        again = ChatCache(engine, 64, engine.fingerprint())
        again.cache = cache
        assert again.replies(conversations) == first[:3]
        assert len(ScriptedJudge.asked) == 3 and again.hits == 3
        other_cap = ChatCache(engine, 128, engine.fingerprint())
        other_cap.cache = cache
        other_cap.replies(conversations[:1])
        assert len(ScriptedJudge.asked) == 4  # the cap is part of the key


# -- the chat hook on real (tiny) models and a fake server -------------------------------


@pytest.mark.usefixtures("private_cache")
@pytest.mark.parametrize("kind", ["hf-causal", "ct2"])
def test_tiny_model_judge_is_parsed_or_counted(kind: str, tiny_chat_model: Path):
    (metric,) = create_metrics([f"llm-judge:{kind}:{tiny_chat_model},reply_tokens=16"])
    stats = metric.segment_statistics(["The boy went home."], None, ["ذهب الولد إلى البيت."])
    (row,) = stats
    score = metric.segment_score(row)
    assert score is None or 0 <= score <= 100
    assert metric.corpus_score(stats) == score
    assert row[0] in (0.0, 1.0)  # the spans reply was read, or counted as unparseable


@pytest.mark.usefixtures("private_cache")
def test_hf_and_ct2_chat_replies_agree(tiny_chat_model: Path):
    """The chat hook decodes greedily on both engines: same conversation, same reply."""
    from evalkit.engines import create_system

    conversation = [{"role": "user", "content": "Translate: زار رئيس الوزراء المدينة"}]
    replies = {}
    for kind in ("hf-causal", "ct2"):
        engine = create_system(f"{kind}:{tiny_chat_model}").system
        got: dict[int, str] = {}
        chat_each(engine, [conversation], 12, got.__setitem__)
        replies[kind] = got[0]
    assert replies["hf-causal"] == replies["ct2"]


def test_openai_engine_chat_requests(monkeypatch):
    """Through a fake server (it answers with the last line of the prompt, upper-cased,
    which is no judge's reply): the requests are chat requests with the judge's messages
    and greedy settings, and every reply is counted as unparseable."""
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    with FakeOpenAI() as server:
        (metric,) = create_metrics(
            [f"llm-judge,engine=openai:fake-model,base_url={server.base_url},reply_tokens=48"],
            Languages("en", ("ar",)),
        )
        stats = metric.segment_statistics(["One.", "Two."], None, ["واحد.", "اثنان."])
        bodies = [r.body for r in server.generations]
    assert [metric.segment_score(s) for s in stats] == [None, None]
    assert len(bodies) == 2  # no score step for unreadable spans replies
    for body in bodies:
        assert body["model"] == "fake-model" and body["max_tokens"] == 48
        assert body["temperature"] == 0.0 and body["seed"] == 0
        assert body["messages"][0]["role"] == "system"
        assert "Arabic source:" in body["messages"][-1]["content"]


# -- real models (slow) ------------------------------------------------------------------

SENTENCES = [
    ("ارتفعت أسعار النفط اليوم بعد قرار خفض الإنتاج.", "Oil prices rose today."),
    ("هطلت أمطار غزيرة على العاصمة وأغلقت عدة طرق.", "Heavy rain rain fell on capital."),
]


def _check_judged(metric: Any) -> None:
    hyps, srcs = [h for _, h in SENTENCES], [s for s, _ in SENTENCES]
    stats = metric.segment_statistics(hyps, None, srcs)
    for row, hyp in zip(stats, hyps, strict=True):
        score = metric.segment_score(row)
        assert row[0] in (0.0, 1.0) and row[1] in (0.0, 1.0)  # read, or counted as not
        assert score is None or 0 <= score <= 100
        for span in metric.segment_spans(row, hyp) or []:
            assert hyp[span["start"] : span["end"]] == span["text"]


@pytest.mark.slow
def test_packaged_model_as_judge():
    from evalkit.engines.packaged_models import missing_parts, packaged_model

    missing = missing_parts(packaged_model("qwen2.5-coder-0.5b-instruct"))
    if missing:
        pytest.skip(f"packaged model not installed: {' '.join(missing)}")
    (metric,) = create_metrics(["llm-judge,reply_tokens=96"], Languages("en", ("ar",)))
    _check_judged(metric)


@pytest.mark.slow
def test_served_model_as_judge(vllm_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", vllm_server.api_key)
    spec = f"llm-judge,engine=openai:{vllm_server.model},base_url={vllm_server.base_url}"
    (metric,) = create_metrics([f"{spec},reply_tokens=96"], Languages("en", ("ar",)))
    _check_judged(metric)
    assert os.environ["OPENAI_API_KEY"] not in metric.signature()
