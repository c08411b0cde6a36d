"""Documents go to engines as units in batches and come back as one line per segment."""

import pytest

from evalkit.cache import TranslationCache
from evalkit.corpus.model import Document, Side, TestSet
from evalkit.engines.base import DecodingOptions, TranslationEngine
from evalkit.translate import system_hypotheses


class RecordingEngine(TranslationEngine):
    kind = "recording"
    Options = DecodingOptions

    def __init__(self, batch_size: int = 8) -> None:
        super().__init__(None, DecodingOptions(batch_size=batch_size))
        self.calls: list[tuple[list[str], str]] = []

    def fingerprint(self):
        return {"kind": self.kind}

    def translate(self, segments, src_lang, tgt_lang):
        self.calls.append((list(segments), src_lang))
        return [f"<{s}>" for s in segments]


TEST_SET = TestSet(
    name="t",
    origin="t",
    tgt_lang="en",
    documents=(
        Document("ar1", Side("ar", ("جملة أولى. جملة ثانية؟", "فقرة ثانية."))),
        Document("fr1", Side("fr", ("Une phrase. Une autre.",))),
        Document("ar2", Side("ar", ("نص.", "   "))),
    ),
)


def test_sentences_are_translated_and_joined_back_per_paragraph():
    engine = RecordingEngine(batch_size=2)
    hyps = system_hypotheses(engine, TEST_SET, unit="sentence").hypotheses
    assert hyps == {
        "ar1": ["<جملة أولى.> <جملة ثانية؟>", "<فقرة ثانية.>"],
        "fr1": ["<Une phrase.> <Une autre.>"],
        "ar2": ["<نص.>", ""],  # blank segments are never sent to the engine
    }
    for segments, lang in engine.calls:
        assert len(segments) <= 2
        assert lang in ("ar", "fr")
    assert sum(len(segments) for segments, _ in engine.calls) == 6


def test_paragraph_unit_sends_whole_lines_and_reports_progress():
    engine = RecordingEngine()
    seen = []
    output = system_hypotheses(
        engine, TEST_SET, unit="paragraph", on_progress=lambda p: seen.append((p.done, p.total))
    )
    assert output.hypotheses["ar1"] == ["<جملة أولى. جملة ثانية؟>", "<فقرة ثانية.>"]
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)


def test_batches_are_sorted_by_length_within_a_language():
    engine = RecordingEngine(batch_size=2)
    system_hypotheses(engine, TEST_SET, unit="sentence")
    ar_batches = [segments for segments, lang in engine.calls if lang == "ar"]
    lengths = [len(s) for batch in ar_batches for s in batch]
    assert lengths == sorted(lengths, reverse=True)


def test_cache_serves_a_second_run_and_repeated_lines_once(tmp_path):
    repeated = TestSet(
        name="r",
        origin="r",
        tgt_lang="en",
        documents=(Document("d", Side("ar", ("نفس الجملة.", "نفس الجملة.", "أخرى."))),),
    )
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        first = RecordingEngine()
        out1 = system_hypotheses(first, repeated, cache=cache)
        assert (out1.cache_hits, out1.translated) == (0, 2)
        second = RecordingEngine()
        out2 = system_hypotheses(second, repeated, cache=cache)
    assert second.calls == [] and (out2.cache_hits, out2.translated) == (2, 0)
    assert (
        out1.hypotheses == out2.hypotheses == {"d": ["<نفس الجملة.>", "<نفس الجملة.>", "<أخرى.>"]}
    )


def test_an_engine_is_closed_when_translation_fails():
    from evalkit.corpus.resolve import load_test_set
    from evalkit.engines.base import NoOptions

    class Failing(TranslationEngine):
        Options = NoOptions
        kind = "test-failing"
        closed = False

        def fingerprint(self):
            return {"kind": self.kind}

        def translate(self, segments, src_lang, tgt_lang):
            raise RuntimeError("model crashed")

        def close(self):
            self.closed = True

    engine = Failing(None)
    with pytest.raises(RuntimeError, match="model crashed"):
        system_hypotheses(engine, load_test_set())
    assert engine.closed
