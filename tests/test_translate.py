"""Documents go to engines as units in batches and come back as one line per segment."""

from evalkit.corpus.model import Document, Side, TestSet
from evalkit.engines.base import TranslationEngine
from evalkit.translate import system_hypotheses


class RecordingEngine(TranslationEngine):
    kind = "recording"

    def __init__(self) -> None:
        super().__init__(None)
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
    engine = RecordingEngine()
    hyps = system_hypotheses(engine, TEST_SET, unit="sentence", batch_size=2)
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
    hyps = system_hypotheses(
        engine, TEST_SET, unit="paragraph", on_progress=lambda d, t: seen.append((d, t))
    )
    assert hyps["ar1"] == ["<جملة أولى. جملة ثانية؟>", "<فقرة ثانية.>"]
    assert seen[-1] == (4, 4)
