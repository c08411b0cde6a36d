"""The default packaged model, for real, on four short sentences written for this test.

Slow on first use (the GGUF is joined, dequantized and converted once: about two minutes
on 2 cores); skipped with the reason when the part packages are not installed.
"""

import pytest
from sacrebleu.metrics import CHRF

from evalkit.engines import create_system
from evalkit.engines.packaged_models import missing_parts, packaged_model

MODEL = packaged_model("qwen2.5-coder-0.5b-instruct")
MISSING = missing_parts(MODEL)

pytestmark = [
    pytest.mark.slow,  # a real 0.5B model, twice (CTranslate2 and transformers)
    pytest.mark.skipif(bool(MISSING), reason=f"packaged model not installed: {' '.join(MISSING)}"),
]

# Plain news sentences on four unrelated topics, and their English: no test set's facts,
# and no score measured on them. What is checked holds for any good translation of them.
SOURCES = [
    "ارتفعت أسعار النفط اليوم بعد قرار خفض الإنتاج.",
    "افتتح وزير الصحة مستشفى جديدا للأطفال في المدينة.",
    "فاز المنتخب الوطني لكرة القدم على منافسه بثلاثة أهداف مقابل هدف واحد.",
    "هطلت أمطار غزيرة على العاصمة وأغلقت عدة طرق.",
]
REFERENCES = [
    "Oil prices rose today after the decision to cut production.",
    "The health minister opened a new children's hospital in the city.",
    "The national football team beat its rival three goals to one.",
    "Heavy rain fell on the capital and closed several roads.",
]


@pytest.fixture(scope="module")
def ct2_outputs():
    return create_system(f"packaged:{MODEL.name}").system.translate(SOURCES, "ar", "en")


def test_outputs_are_english_translations_of_their_own_sources(ct2_outputs):
    for output in ct2_outputs:
        assert output.strip()
        letters = [c for c in output if c.isalpha()]
        latin = sum(c.isascii() for c in letters)
        assert latin / len(letters) > 0.9, output
    # each output is closer to its own sentence's reference than to any other's: the model
    # translates what it is given, not some English
    chrf = CHRF()
    for i, output in enumerate(ct2_outputs):
        scores = [chrf.sentence_score(output, [reference]).score for reference in REFERENCES]
        assert max(range(len(scores)), key=scores.__getitem__) == i, (output, scores)
    # and the corpus is far closer than the untranslated source
    translated = chrf.corpus_score(ct2_outputs, [REFERENCES]).score
    assert translated > 2 * chrf.corpus_score(SOURCES, [REFERENCES]).score


def test_ct2_float32_equals_the_transformers_reference(ct2_outputs):
    reference_engine = create_system(f"packaged:{MODEL.name},engine=transformers").system
    assert reference_engine.translate(SOURCES, "ar", "en") == ct2_outputs
