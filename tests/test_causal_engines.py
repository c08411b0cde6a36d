"""hf-causal and ct2 on a tiny chat model built locally: prompts, stopping, equal outputs."""

import pytest

from evalkit.engines import create_system
from tests.tiny_causal import build_tiny_chat_model

SENTENCES = [
    "قال وزير الداخلية إن الحكومة ستحاسب المسؤولين.",
    "زار رئيس الوزراء المدينة.",
    "البصرة",
]


pytestmark = pytest.mark.usefixtures("private_cache")


def test_prompt_is_rendered_through_the_chat_template(tiny_chat_model):
    engine = create_system(f"hf-causal:{tiny_chat_model},max_new_tokens=4").system
    model = engine._load()
    seen = {}
    original = model.generate

    def spy(**kwargs):
        seen.update(kwargs)
        return original(**kwargs)

    model.generate = spy
    outputs = engine.translate(SENTENCES[:2], "ar", "en")
    assert len(outputs) == 2 and all(isinstance(o, str) for o in outputs)
    prompt = engine.tokenizer.decode(seen["input_ids"][0], skip_special_tokens=False)
    assert "<|im_start|>system\nYou are a professional translator.<|im_end|>" in prompt
    assert "<|im_start|>user\nTranslate the following Arabic text into English." in prompt
    assert prompt.rstrip("\n").endswith("<|im_start|>assistant")
    assert SENTENCES[0] in prompt or SENTENCES[1] in prompt
    assert engine.tokenizer.convert_tokens_to_ids("<|im_end|>") in seen["eos_token_id"]
    assert seen["do_sample"] is False and seen["max_new_tokens"] == 4


def test_ct2_float32_gives_the_same_greedy_output_as_transformers(tiny_chat_model):
    spec = f"{tiny_chat_model},max_new_tokens=12"
    reference = create_system(f"hf-causal:{spec}").system.translate(SENTENCES, "ar", "en")
    fast_engine = create_system(f"ct2:{spec}").system
    fast = fast_engine.translate(SENTENCES, "ar", "en")
    assert fast == reference
    assert any(reference), "the tiny model should produce some text"
    assert fast_engine.generated_tokens > 0


def test_compute_type_is_part_of_the_identity(tiny_chat_model):
    float32 = create_system(f"ct2:{tiny_chat_model}").system.fingerprint_hash()
    int8 = create_system(f"ct2:{tiny_chat_model},compute_type=int8").system.fingerprint_hash()
    hf = create_system(f"hf-causal:{tiny_chat_model}").system.fingerprint_hash()
    assert len({float32, int8, hf}) == 3


def test_model_without_chat_template_gets_the_plain_prompt(tmp_path):
    folder = build_tiny_chat_model(tmp_path / "base", with_template=False)
    engine = create_system(f"hf-causal:{folder}").system
    (prompt,) = engine.prompt.prompts(["نص"], "ar", "en")
    assert prompt == "Arabic text:\nنص\n\nEnglish translation:\n"


def test_units_cut_at_their_cap_are_flagged_alike_by_both_engines(tiny_chat_model):
    spec = f"{tiny_chat_model},max_new_tokens=3"
    reference = create_system(f"hf-causal:{spec}").system.translate_units(SENTENCES, "ar", "en")
    fast = create_system(f"ct2:{spec}").system.translate_units(SENTENCES, "ar", "en")
    assert fast == reference and any(t.truncated for t in reference)
    roomy = create_system(f"hf-causal:{tiny_chat_model},max_new_tokens=64").system
    uncapped = roomy.translate_units(SENTENCES, "ar", "en")
    for capped, free in zip(reference, uncapped, strict=True):
        # cut off exactly when the uncapped output needed more than the cap allowed
        assert capped.truncated == (free.text != capped.text or free.truncated)


@pytest.mark.parametrize("with_template", [True, False])
@pytest.mark.parametrize("kind", ["ct2", "hf-causal"])
def test_fingerprint_read_from_files_equals_the_loaded_tokenizers(tmp_path, kind, with_template):
    """A fully cached run takes the prompt's fingerprint from the model's files, without
    transformers: it must be the one the loaded tokenizer gives, or every key would move."""
    folder = build_tiny_chat_model(tmp_path / "m", with_template=with_template)
    engine = create_system(f"{kind}:{folder}").system
    from_files = engine.fingerprint()
    assert "tokenizer" not in engine.__dict__  # nothing was loaded for it
    assert from_files["prompt"] == engine.prompt.fingerprint()
    assert not getattr(engine, "is_seq2seq", False)
    (folder / "tokenizer_config.json").unlink()  # files that do not settle it: the tokenizer
    assert create_system(f"{kind}:{folder}").system.fingerprint()["prompt"] == from_files["prompt"]
