"""How each encoder-decoder family is told the languages: one plan, used by every engine.

| family       | source side                      | target side                       |
| ------------ | -------------------------------- | --------------------------------- |
| Marian       | nothing                          | nothing (one language pair)       |
| Marian multi | `>>eng<<` token before the text  | nothing                           |
| NLLB-200     | tokenizer.src_lang = `arb_Arab`  | first decoder token `eng_Latn`    |
| M2M100       | tokenizer.src_lang = `ar`        | first decoder token `__en__`      |
| mBART-50     | tokenizer.src_lang = `ar_AR`     | first decoder token `en_XX`       |
| T5 / MADLAD  | `<2en> ` before the text         | nothing                           |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalkit.engines import langcodes
from evalkit.errors import UserInputError


@dataclass(frozen=True)
class Seq2SeqPlan:
    family: str
    source_prefix: str = ""
    tokenizer_src_lang: str | None = None
    forced_bos_token: str | None = None


def seq2seq_family(model_type: str, tokenizer: Any) -> str:
    name = type(tokenizer).__name__
    if "Nllb" in name:
        return "nllb"
    if "M2M100" in name:
        return "m2m100"
    if "MBart50" in name or (model_type == "mbart" and "MBart" in name):
        return "mbart50"
    if model_type == "marian":
        vocab = tokenizer.get_vocab()
        return "marian-multi" if any(_is_opus_lang_token(t) for t in vocab) else "marian"
    if model_type in ("t5", "mt5", "umt5"):
        return "t5"
    raise UserInputError(
        f"unsupported translation model family (model_type {model_type!r}, tokenizer {name}); "
        "supported: Marian/OPUS-MT, NLLB, M2M100, mBART-50, T5/MADLAD"
    )


def _is_opus_lang_token(token: str) -> bool:
    return token.startswith(">>") and token.endswith("<<") and 4 < len(token) <= 12


def plan_for(model_type: str, tokenizer: Any, src_lang: str, tgt_lang: str) -> Seq2SeqPlan:
    family = seq2seq_family(model_type, tokenizer)
    for code in (src_lang, tgt_lang):  # unknown codes are errors, also where a model ignores one
        langcodes.language_name(code)
    if family == "marian":
        return Seq2SeqPlan(family)
    if family == "marian-multi":
        token = langcodes.opus_mt_token(tgt_lang, set(tokenizer.get_vocab()))
        return Seq2SeqPlan(family, source_prefix=token + " ")
    if family == "nllb":
        return Seq2SeqPlan(
            family,
            tokenizer_src_lang=langcodes.nllb_code(src_lang),
            forced_bos_token=langcodes.nllb_code(tgt_lang),
        )
    if family == "m2m100":
        _m2m100_token(tokenizer, src_lang)  # the tokenizer marks the source with it
        return Seq2SeqPlan(
            family,
            tokenizer_src_lang=langcodes.m2m100_code(src_lang),
            forced_bos_token=_m2m100_token(tokenizer, tgt_lang),
        )
    if family == "mbart50":
        return Seq2SeqPlan(
            family,
            tokenizer_src_lang=langcodes.mbart50_code(src_lang),
            forced_bos_token=langcodes.mbart50_code(tgt_lang),
        )
    prefix = langcodes.t5_prefix(tgt_lang)
    check_token(tokenizer, prefix.strip())  # else it is split into pieces: a silent wrong language
    return Seq2SeqPlan(family, source_prefix=prefix)


def _m2m100_token(tokenizer: Any, code: str) -> str:
    """`__ar__` for `ar`, if this M2M100 tokenizer has that language (wmt21 ones have 8)."""
    try:
        return str(tokenizer.get_lang_token(langcodes.m2m100_code(code)))
    except KeyError:
        raise UserInputError(f"this M2M100 tokenizer has no language token for {code!r}") from None


def check_token(tokenizer: Any, token: str) -> int:
    """The id of a language token, or an error if the vocabulary lacks it.

    M2M100 tokenizers take a bare code as `src_lang` (`ar`) and mark the text with their
    token for it (`__ar__`); for such a code the token is checked, not the code, which may or
    may not happen to be a piece of the vocabulary."""
    lang_tokens = getattr(tokenizer, "lang_code_to_token", None)
    if isinstance(lang_tokens, dict) and token in lang_tokens:
        token = lang_tokens[token]
    token_id = tokenizer.convert_tokens_to_ids(token)
    if token_id is None or token_id == tokenizer.unk_token_id:
        raise UserInputError(f"the tokenizer has no token {token!r}")
    return int(token_id)
