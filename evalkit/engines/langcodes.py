"""The one place where the harness's ISO 639-1 codes become each model family's codes.

Getting these wrong does not crash anything: the model quietly translates into the wrong
language or reads the source as the wrong one. So an unknown code is an error here,
never a guess.
"""

from __future__ import annotations

from evalkit.errors import UserInputError

# ISO 639-1 -> (English name, ISO 639-3 as OPUS-MT uses it, FLORES-200 as NLLB uses it,
#               mBART-50 code)
_LANGUAGES: dict[str, tuple[str, str, str, str | None]] = {
    "ar": ("Arabic", "ara", "arb_Arab", "ar_AR"),
    "en": ("English", "eng", "eng_Latn", "en_XX"),
    "fr": ("French", "fra", "fra_Latn", "fr_XX"),
    "de": ("German", "deu", "deu_Latn", "de_DE"),
    "es": ("Spanish", "spa", "spa_Latn", "es_XX"),
    "it": ("Italian", "ita", "ita_Latn", "it_IT"),
    "pt": ("Portuguese", "por", "por_Latn", "pt_XX"),
    "ru": ("Russian", "rus", "rus_Cyrl", "ru_RU"),
    "uk": ("Ukrainian", "ukr", "ukr_Cyrl", "uk_UA"),
    "pl": ("Polish", "pol", "pol_Latn", "pl_PL"),
    "nl": ("Dutch", "nld", "nld_Latn", "nl_XX"),
    "tr": ("Turkish", "tur", "tur_Latn", "tr_TR"),
    "fa": ("Persian", "fas", "pes_Arab", "fa_IR"),
    "he": ("Hebrew", "heb", "heb_Hebr", "he_IL"),
    "ur": ("Urdu", "urd", "urd_Arab", "ur_PK"),
    "hi": ("Hindi", "hin", "hin_Deva", "hi_IN"),
    "zh": ("Chinese", "zho", "zho_Hans", "zh_CN"),
    "ja": ("Japanese", "jpn", "jpn_Jpan", "ja_XX"),
    "ko": ("Korean", "kor", "kor_Hang", "ko_KR"),
}


def _entry(code: str) -> tuple[str, str, str, str | None]:
    try:
        return _LANGUAGES[code]
    except KeyError:
        known = ", ".join(sorted(_LANGUAGES))
        raise UserInputError(
            f"no language mapping for {code!r} (known: {known}); "
            "add it to evalkit/engines/langcodes.py"
        ) from None


def language_name(code: str) -> str:
    """English name, for prompts to instruct LLMs."""
    return _entry(code)[0]


def opus_mt_token(code: str, vocabulary: set[str] | list[str]) -> str:
    """The `>>xxx<<` target token a multilingual OPUS-MT model knows for `code`."""
    candidates = [f">>{_entry(code)[1]}<<", f">>{code}<<"]
    for token in candidates:
        if token in vocabulary:
            return token
    raise UserInputError(
        f"this multilingual Marian model has no target token for {code!r} "
        f"(looked for {' or '.join(candidates)})"
    )


def nllb_code(code: str) -> str:
    return _entry(code)[2]


def m2m100_code(code: str) -> str:
    """M2M100 uses ISO 639-1 codes itself; only known ones are accepted."""
    _entry(code)
    return code


def mbart50_code(code: str) -> str:
    mbart = _entry(code)[3]
    if mbart is None:
        raise UserInputError(f"mBART-50 has no code for {code!r}")
    return mbart


def t5_prefix(code: str) -> str:
    """MADLAD-400 and similar T5 models take `<2xx>` before the source text."""
    _entry(code)
    return f"<2{code}> "
