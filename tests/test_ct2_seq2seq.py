"""ct2 on encoder-decoder models: the same language plumbing and the same greedy output as
transformers, on tiny models built locally.

Random tiny models never stop on their own, so both engines hit the length limit; there
transformers forces the end token (the models' `forced_eos_token_id`) in place of the last
token and CTranslate2 does not. So the transformers output must be a prefix of the ct2
output, at most one token shorter.

With transformers 5, CTranslate2 4.8 cannot convert mBART (it reads a config attribute
that no longer exists); the engine says so (tested below). The tiny M2M100 builder's
vocabulary is smaller than its embedding matrix, which the converter refuses, so M2M100
is covered by the NLLB case, which uses the same model class."""

from pathlib import Path

import pytest

from evalkit.engines import create_system
from evalkit.errors import UserInputError
from tests.tiny_models import build_marian, build_mbart50, build_nllb

BUILDERS = {
    "marian": lambda folder: build_marian(folder),
    "marian-multi": lambda folder: build_marian(folder, multilingual=True),
    "nllb": build_nllb,
}
SENTENCES = ["قال الوزير إن الحكومة ستحاسب المسؤولين.", "زار رئيس الوزراء البصرة."]


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.mark.parametrize("family", list(BUILDERS))
def test_ct2_matches_transformers_greedy(tmp_path: Path, family: str):
    folder = BUILDERS[family](tmp_path / family)
    spec = f"{folder},max_new_tokens=8"
    reference = create_system(f"hf-seq2seq:{spec}").system.translate(SENTENCES, "ar", "en")
    fast_engine = create_system(f"ct2:{spec}").system
    assert fast_engine.fingerprint()["family"] == family
    fast = fast_engine.translate(SENTENCES, "ar", "en")
    tokenizer = fast_engine.tokenizer
    for slow_text, fast_text in zip(reference, fast, strict=True):
        slow_ids = tokenizer(slow_text, add_special_tokens=False).input_ids
        fast_ids = tokenizer(fast_text, add_special_tokens=False).input_ids
        assert fast_text.startswith(slow_text), (slow_text, fast_text)
        assert len(fast_ids) - len(slow_ids) <= 1, (slow_text, fast_text)
    assert fast_engine.generated_tokens > 0


def test_unconvertible_model_is_a_clear_error(tmp_path: Path):
    folder = build_mbart50(tmp_path / "mbart")
    engine = create_system(f"ct2:{folder}").system
    with pytest.raises(UserInputError, match="could not convert"):
        engine.translate(SENTENCES, "ar", "en")


class _Spy:
    """Records the arguments of translate_batch and passes the call through."""

    def __init__(self, translator):
        self.translator = translator
        self.calls = []

    def translate_batch(self, sources, **kwargs):
        self.calls.append((sources, kwargs))
        return self.translator.translate_batch(sources, **kwargs)


def test_ct2_nllb_gets_source_code_and_forced_target_code(tmp_path: Path):
    folder = build_nllb(tmp_path / "nllb")
    engine = create_system(f"ct2:{folder},max_new_tokens=4").system
    spy = _Spy(engine._load())
    engine._model = spy
    engine.translate(SENTENCES, "ar", "en")
    sources, kwargs = spy.calls[0]
    assert all(tokens[0] == "arb_Arab" and tokens[-1] == "</s>" for tokens in sources)
    assert kwargs["target_prefix"] == [["eng_Latn"]] * len(SENTENCES)
