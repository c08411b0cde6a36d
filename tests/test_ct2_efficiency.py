"""ct2's speed levers keep every output: the shared chat prefix computed once (CTranslate2's
`static_prompt`), parallel workers, and how units are batched.

The prefix (system turn, examples, the instruction up to the source text) is the same for
every unit of a language pair; computing it once instead of per unit must give the same
tokens, greedy, as computing it every time, as transformers, and whatever a unit was
batched with. On the tiny model here and, marked slow, on the real packaged 0.5B model.
"""

import pytest

from evalkit.engines import create_system
from evalkit.engines.packaged_models import missing_parts, packaged_model

SENTENCES = [
    "قال وزير الداخلية إن الحكومة ستحاسب المسؤولين.",
    "زار رئيس الوزراء المدينة.",
    "البصرة",
]


@pytest.fixture(autouse=True)
def _private_cache(request, tmp_path, monkeypatch):
    """The tiny model converts into a fresh cache; the real one is read where it was made."""
    if "tiny_chat_model" in request.fixturenames:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def _ct2(spec: str, reuse_prefix: bool = True, workers: int = 1, stepwise: bool = False):
    engine = create_system(spec).system
    engine.reuse_prefix = reuse_prefix
    engine.workers = workers
    engine.stepwise_prompts = stepwise
    return engine


@pytest.mark.parametrize("cap", [3, 64])  # units cut at their cap, and units that end
def test_the_cached_prefix_gives_the_same_units_as_computing_it_each_time(tiny_chat_model, cap):
    spec = f"ct2:{tiny_chat_model},max_new_tokens={cap}"
    with_prefix = _ct2(spec)
    reference = _ct2(spec, reuse_prefix=False).translate_units(SENTENCES, "ar", "en")
    assert with_prefix.translate_units(SENTENCES, "ar", "en") == reference
    transformers = create_system(f"hf-causal:{tiny_chat_model},max_new_tokens={cap}").system
    assert transformers.translate_units(SENTENCES, "ar", "en") == reference


def test_the_prefix_is_forwarded_once_not_per_unit(tiny_chat_model):
    spec = f"ct2:{tiny_chat_model},max_new_tokens=4"
    cached, plain = _ct2(spec), _ct2(spec, reuse_prefix=False)
    cached.translate(SENTENCES, "ar", "en")
    plain.translate(SENTENCES, "ar", "en")
    prefix = len(cached._shared_prefix("ar", "en"))
    assert prefix > 10  # system turn and instruction
    assert cached.prompt_tokens == plain.prompt_tokens - (len(SENTENCES) - 1) * prefix


def test_units_do_not_depend_on_their_batch_or_the_workers(tiny_chat_model):
    spec = f"ct2:{tiny_chat_model},max_new_tokens=12"
    together = _ct2(spec).translate_units(SENTENCES, "ar", "en")
    alone = [_ct2(spec).translate_units([s], "ar", "en")[0] for s in SENTENCES]
    assert alone == together
    assert _ct2(spec, workers=2).translate_units(SENTENCES, "ar", "en") == together


@pytest.mark.parametrize("cap", [3, 64])
def test_stepwise_prompts_compute_each_unit_alike_alone_batched_and_split(tiny_chat_model, cap):
    """The opt-in that makes a unit's computation independent of its batch: every prompt
    past the prefix token by token (a dummy unit of two tokens sets the shortest length).
    Its outputs are translations, not the prompt handed back: the same units as computing
    the prompts at once, on this model."""
    spec = f"ct2:{tiny_chat_model},max_new_tokens={cap}"
    together = _ct2(spec, stepwise=True).translate_units(SENTENCES, "ar", "en")
    alone = [_ct2(spec, stepwise=True).translate_units([s], "ar", "en")[0] for s in SENTENCES]
    assert alone == together
    split = _ct2(spec, workers=2, stepwise=True).translate_units(SENTENCES, "ar", "en")
    assert split == together and len(together) == len(SENTENCES)
    assert together == _ct2(spec).translate_units(SENTENCES, "ar", "en")


def test_a_prompt_that_does_not_start_with_the_prefix_is_decoded_whole(tiny_chat_model):
    """Should a tokenizer merge a token across the prefix's end, that unit is decoded from
    its whole prompt in a call of its own: same output, nothing cut off its prompt."""
    spec = f"ct2:{tiny_chat_model},max_new_tokens=12"
    reference = _ct2(spec, reuse_prefix=False).translate_units(SENTENCES, "ar", "en")
    engine = _ct2(spec)
    prefix = engine._shared_prefix("ar", "en")
    engine._prefixes[("ar", "en")] = [*prefix[:-1], "<|endoftext|>"]  # matches no prompt
    assert engine.translate_units(SENTENCES, "ar", "en") == reference


MODEL = packaged_model("qwen2.5-coder-0.5b-instruct")
MISSING = missing_parts(MODEL)

# Sentences written for this test, of unequal lengths (so a batch's prompts differ in
# length, and the part past the shortest is decoded step by step).
REAL_SENTENCES = [
    "أعلنت وزارة التربية تأجيل بدء العام الدراسي أسبوعين بسبب موجة الحر.",
    "قال المتحدث باسم البلدية إن أعمال صيانة الجسر الرئيسي ستنتهي قبل نهاية الشهر، "
    "وإن حركة المرور ستعود إلى طبيعتها بعد ذلك مباشرة.",
    "وصل الوفد إلى المطار مساء أمس.",
    "أظهرت بيانات رسمية أن صادرات البلاد من التمور ارتفعت بنسبة عشرين في المئة.",
    "شكرا.",
]


@pytest.mark.slow  # the real 0.5B model: ct2 three times and transformers once
@pytest.mark.skipif(bool(MISSING), reason=f"packaged model not installed: {' '.join(MISSING)}")
def test_real_model_outputs_are_identical_with_and_without_the_cached_prefix():
    spec = f"packaged:{MODEL.name}"
    default = create_system(spec).system
    with_prefix = default.translate(REAL_SENTENCES, "ar", "en")
    assert default.inner.reuse_prefix  # the lever is the engine's behaviour
    plain = create_system(spec).system
    plain.inner.reuse_prefix = False
    assert plain.translate(REAL_SENTENCES, "ar", "en") == with_prefix
    alone = [default.translate([s], "ar", "en")[0] for s in REAL_SENTENCES]
    assert alone == with_prefix
    transformers = create_system(f"{spec},engine=transformers").system
    assert transformers.translate(REAL_SENTENCES, "ar", "en") == with_prefix
