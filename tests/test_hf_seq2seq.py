"""hf-seq2seq on tiny models of every supported family, built locally and loaded by path.

The models are random, so their output is gibberish; what is checked is what reaches
`generate`: the source-language marker in the input ids, the forced first target token,
the decoding options, and that wrong languages are refused before anything is generated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evalkit.engines import create_system
from evalkit.engines.hf_seq2seq import HFSeq2SeqEngine
from evalkit.errors import UserInputError
from tests.tiny_models import build_m2m100, build_marian, build_mbart50, build_nllb, build_t5

pytestmark = [
    pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses"),
    pytest.mark.usefixtures("private_cache"),  # the folder-digest memo
]

BUILDERS: dict[str, Callable[[Path], Path]] = {
    "marian": build_marian,
    "marian-multi": lambda folder: build_marian(folder, multilingual=True),
    "nllb": build_nllb,
    "m2m100": build_m2m100,
    "mbart50": build_mbart50,
    "t5": build_t5,
}
FAMILIES = list(BUILDERS)

SOURCES = {
    "ar": ["مرحبا بكم في المدينة.", "الطقس جميل اليوم.", "كم عمرك؟ هل يمكنك مساعدتي من فضلك؟"],
    "en": ["Welcome to the city.", "The weather is nice today.", "How old are you?"],
}
#: the pairs each plumbing test runs: the second would catch a hard-coded or swapped language
PAIRS = [("ar", "en"), ("en", "fr")]

#: the token that marks each language, for the families that mark both sides
LANGUAGE_TOKENS = {
    "nllb": {"ar": "arb_Arab", "en": "eng_Latn", "fr": "fra_Latn", "de": "deu_Latn"},
    "m2m100": {"ar": "__ar__", "en": "__en__", "fr": "__fr__"},
    "mbart50": {"ar": "ar_AR", "en": "en_XX", "fr": "fr_XX"},
}
FAST = "max_new_tokens=4"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Callable[[str], Path]:
    """The folder of a tiny model of a family, built on first use and kept for the session."""
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = BUILDERS[family](tmp_path_factory.mktemp(family))
        return built[family]

    return get


class GenerateSpy:
    """Wraps the loaded model's `generate`: records every call's kwargs and its output."""

    def __init__(self, engine: HFSeq2SeqEngine) -> None:
        model = engine._load()
        self.calls: list[tuple[dict[str, Any], Any]] = []
        original = model.generate

        def spy(*args: Any, **kwargs: Any) -> Any:
            assert not args, "the engine passes everything by keyword"
            output = original(**kwargs)
            self.calls.append((kwargs, output))
            return output

        model.generate = spy

    @property
    def only_call(self) -> tuple[dict[str, Any], Any]:
        assert len(self.calls) == 1
        return self.calls[0]


def engine_for(path: Path, options: str = FAST) -> tuple[HFSeq2SeqEngine, GenerateSpy]:
    spec = f"hf-seq2seq:{path}" + (f",{options}" if options else "")
    engine = create_system(spec).system
    assert isinstance(engine, HFSeq2SeqEngine)
    return engine, GenerateSpy(engine)


def translate(engine: HFSeq2SeqEngine, src: str, tgt: str) -> list[str]:
    outputs = engine.translate(SOURCES[src], src, tgt)
    assert len(outputs) == len(SOURCES[src])
    assert all(isinstance(text, str) for text in outputs)
    return outputs


def token_id(engine: HFSeq2SeqEngine, token: str) -> int:
    tokenizer = engine.tokenizer
    found = tokenizer.convert_tokens_to_ids(token)
    assert found is not None and found != tokenizer.unk_token_id, f"{token} not in the vocab"
    return int(found)


def rows(kwargs: dict[str, Any]) -> list[list[int]]:
    """The input ids of each segment without padding."""
    return [
        [i for i, keep in zip(ids, mask, strict=True) if keep]
        for ids, mask in zip(
            kwargs["input_ids"].tolist(), kwargs["attention_mask"].tolist(), strict=True
        )
    ]


# --- identity ---------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_fingerprint_names_the_family_and_the_weights(tiny_model, family):
    path = tiny_model(family)
    engine = create_system(f"hf-seq2seq:{path}").system
    fingerprint = engine.fingerprint()
    assert fingerprint["kind"] == "hf-seq2seq"
    assert fingerprint["family"] == family
    assert fingerprint["model"] == str(path)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", fingerprint["revision"])

    same = create_system(f"hf-seq2seq:{path}").system.fingerprint_hash()
    beams = create_system(f"hf-seq2seq:{path},beam_size=2").system
    assert same == engine.fingerprint_hash()
    assert beams.fingerprint()["options"]["beam_size"] == 2
    assert beams.fingerprint_hash() != engine.fingerprint_hash()


def test_every_model_has_its_own_revision(tiny_model):
    revisions = {
        create_system(f"hf-seq2seq:{tiny_model(f)}").system.fingerprint()["revision"]
        for f in FAMILIES
    }
    assert len(revisions) == len(FAMILIES)


# --- language plumbing -------------------------------------------------------------------


@pytest.mark.parametrize("family", ["nllb", "m2m100", "mbart50"])
@pytest.mark.parametrize(("src", "tgt"), PAIRS)
def test_source_code_goes_first_and_target_code_is_forced(tiny_model, family, src, tgt):
    engine, spy = engine_for(tiny_model(family))
    translate(engine, src, tgt)
    kwargs, generated = spy.only_call
    src_id = token_id(engine, LANGUAGE_TOKENS[family][src])
    tgt_id = token_id(engine, LANGUAGE_TOKENS[family][tgt])

    assert kwargs["forced_bos_token_id"] == tgt_id
    for ids in rows(kwargs):  # these tokenizers put the source code before the text
        assert ids[0] == src_id
        assert ids.count(src_id) == 1 and tgt_id not in ids
        assert ids[-1] == engine.tokenizer.eos_token_id
    # generate honoured it: the first token after the decoder start is the target code
    assert generated[:, 1].tolist() == [tgt_id] * len(SOURCES[src])
    assert kwargs["num_beams"] == 1 and kwargs["do_sample"] is False


@pytest.mark.parametrize(("src", "tgt"), PAIRS)
def test_marian_multilingual_target_token_goes_before_the_text(tiny_model, src, tgt):
    engine, spy = engine_for(tiny_model("marian-multi"))
    translate(engine, src, tgt)
    kwargs, _ = spy.only_call
    expected = token_id(engine, {"en": ">>eng<<", "fr": ">>fra<<"}[tgt])
    others = {token_id(engine, t) for t in (">>eng<<", ">>ara<<", ">>fra<<")} - {expected}
    assert kwargs.get("forced_bos_token_id") is None
    for ids in rows(kwargs):
        assert ids[0] == expected
        assert not others & set(ids)


@pytest.mark.parametrize(("src", "tgt"), PAIRS)
def test_t5_input_starts_with_the_target_prefix(tiny_model, src, tgt):
    engine, spy = engine_for(tiny_model("t5"))
    translate(engine, src, tgt)
    kwargs, _ = spy.only_call
    target_token = f"<2{tgt}>"
    prefix = engine.tokenizer(target_token, add_special_tokens=False)["input_ids"]
    assert token_id(engine, target_token) in prefix  # one token, not "<", "2", "en", ">"
    assert kwargs.get("forced_bos_token_id") is None
    for ids in rows(kwargs):
        assert ids[: len(prefix)] == prefix
        assert ids.count(token_id(engine, target_token)) == 1


def test_marian_single_pair_gets_the_plain_text(tiny_model):
    engine, spy = engine_for(tiny_model("marian"))
    outputs = translate(engine, "ar", "en")
    kwargs, generated = spy.only_call
    plain = engine.tokenizer(SOURCES["ar"], padding=True, return_tensors="pt")["input_ids"]
    assert kwargs["input_ids"].tolist() == plain.tolist()
    assert kwargs.get("forced_bos_token_id") is None
    assert generated.shape[0] == len(outputs)


def test_decoding_options_reach_generate(tiny_model):
    engine, spy = engine_for(tiny_model("marian"), "beam_size=2,max_new_tokens=3")
    translate(engine, "ar", "en")
    kwargs, generated = spy.only_call
    assert kwargs["num_beams"] == 2
    assert kwargs["max_new_tokens"] == 3
    assert generated.shape[1] <= 1 + 3  # the decoder start token and at most 3 more
    assert engine.generated_tokens > 0


def test_m2m100_source_is_checked_by_its_language_token(tiny_model):
    """`ko` is no piece of this vocabulary; `__ko__` is what the tokenizer puts in."""
    engine, spy = engine_for(tiny_model("m2m100"))
    assert engine.tokenizer.convert_tokens_to_ids("ko") == engine.tokenizer.unk_token_id
    outputs = engine.translate(["نص قصير"], "ko", "ja")
    kwargs, _ = spy.only_call
    assert len(outputs) == 1
    assert rows(kwargs)[0][0] == token_id(engine, "__ko__")
    assert kwargs["forced_bos_token_id"] == token_id(engine, "__ja__")


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("src", "tgt"), [("ar", "xx"), ("xx", "en")])
def test_unknown_language_code_is_refused_before_generating(tiny_model, family, src, tgt):
    engine, spy = engine_for(tiny_model(family))
    with pytest.raises(UserInputError, match="no language mapping for 'xx'"):
        engine.translate(SOURCES["ar"], src, tgt)
    assert spy.calls == []


@pytest.mark.parametrize(("src", "tgt"), [("ar", "de"), ("de", "en")])
def test_nllb_code_missing_from_the_vocabulary_is_refused(tiny_model, src, tgt):
    engine, spy = engine_for(tiny_model("nllb"))
    with pytest.raises(UserInputError, match="no token 'deu_Latn'"):
        engine.translate(SOURCES["ar"], src, tgt)
    assert spy.calls == []


@pytest.mark.parametrize(
    ("family", "message"),
    [
        ("marian-multi", "no target token for 'de' .looked for >>deu<< or >>de<<"),
        ("t5", "no token '<2de>'"),
    ],
)
def test_target_token_missing_from_the_vocabulary_is_refused(tiny_model, family, message):
    engine, spy = engine_for(tiny_model(family))
    with pytest.raises(UserInputError, match=message):
        engine.translate(SOURCES["ar"], "ar", "de")
    assert spy.calls == []


def test_m2m100_tokenizer_without_the_language_is_refused(tmp_path):
    engine, spy = engine_for(build_m2m100(tmp_path / "wmt21", language_codes="wmt21"))
    with pytest.raises(UserInputError, match="no language token for 'ar'"):
        engine.translate(SOURCES["ar"], "ar", "en")
    with pytest.raises(UserInputError, match="no language token for 'ar'"):
        engine.translate(SOURCES["en"], "en", "ar")
    assert spy.calls == []
    translate(engine, "en", "de")  # its own languages still work
    assert spy.only_call[0]["forced_bos_token_id"] == token_id(engine, "__de__")
