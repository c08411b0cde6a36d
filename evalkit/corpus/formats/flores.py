"""FLORES folders: one plain file per language and split, one sentence per line, line i of
every file the same sentence.

Layouts read (`CODE` is a FLORES code such as `arb_Arab`, `eng_Latn`, `apc_Arab_nort3139`):
  FLORES-200   `devtest/arb_Arab.devtest`, `dev/arb_Arab.dev`
  FLORES+      `devtest/devtest.arb_Arab`, `dev/dev.arb_Arab`
`--data` names the root (the split is `devtest`, or the one after `#`: `flores200#dev`) or a
split folder itself (`flores200/devtest`). Source and target are the files of --src-lang
and --tgt-lang: an ISO code through `FLORES_CODES` (`ar` -> `arb_Arab`), or a FLORES code
itself (`arb_Arab`, also written `arb-Arab`).

The files carry no document ids: the split is one line-aligned document named after it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import langcodes

from evalkit.corpus.model import TestSet
from evalkit.corpus.parallel import load_parallel
from evalkit.errors import UserInputError

SPLITS = ("devtest", "dev", "test")
DEFAULT_SPLIT = "devtest"
#: a FLORES code: ISO 639-3, script, and (FLORES+) an optional Glottolog variety
_CODE = r"[a-z]{3}_[A-Z][a-z]{3}(?:_[a-z]{4}\d{4})?"
_FILE = re.compile(
    rf"^(?:(?P<pre>{'|'.join(SPLITS)})\.(?P<code1>{_CODE})|(?P<code2>{_CODE})\.(?P<post>{'|'.join(SPLITS)}))$"
)

#: ISO 639-1 (and a few BCP 47) codes -> FLORES codes, most likely first: FLORES+ renamed
#: some of FLORES-200's (`zho_Hans` -> `cmn_Hans`, `est_Latn` -> `ekk_Latn`), so both are
#: tried. Any other language is named by its FLORES code.
FLORES_CODES: dict[str, tuple[str, ...]] = {
    "ar": ("arb_Arab",),
    "bg": ("bul_Cyrl",),
    "bn": ("ben_Beng",),
    "ca": ("cat_Latn",),
    "cs": ("ces_Latn",),
    "da": ("dan_Latn",),
    "de": ("deu_Latn",),
    "el": ("ell_Grek",),
    "en": ("eng_Latn",),
    "es": ("spa_Latn",),
    "et": ("ekk_Latn", "est_Latn"),
    "fa": ("pes_Arab",),
    "fi": ("fin_Latn",),
    "fr": ("fra_Latn",),
    "he": ("heb_Hebr",),
    "hi": ("hin_Deva",),
    "hr": ("hrv_Latn",),
    "hu": ("hun_Latn",),
    "id": ("ind_Latn",),
    "is": ("isl_Latn",),
    "it": ("ita_Latn",),
    "ja": ("jpn_Jpan",),
    "ko": ("kor_Hang",),
    "lt": ("lit_Latn",),
    "lv": ("lvs_Latn",),
    "nl": ("nld_Latn",),
    "pl": ("pol_Latn",),
    "pt": ("por_Latn",),
    "ro": ("ron_Latn",),
    "ru": ("rus_Cyrl",),
    "sk": ("slk_Latn",),
    "sv": ("swe_Latn",),
    "sw": ("swh_Latn",),
    "ta": ("tam_Taml",),
    "th": ("tha_Thai",),
    "tr": ("tur_Latn",),
    "uk": ("ukr_Cyrl",),
    "ur": ("urd_Arab",),
    "vi": ("vie_Latn",),
    "zh": ("cmn_Hans", "zho_Hans"),
    "zh-Hans": ("cmn_Hans", "zho_Hans"),
    "zh-Hant": ("cmn_Hant", "zho_Hant"),
}


def flores_file(name: str) -> tuple[str, str] | None:
    """(code, split) of a FLORES file name, or None."""
    found = _FILE.match(name)
    if found is None:
        return None
    return (found["code1"] or found["code2"], found["pre"] or found["post"])


def is_flores_folder(folder: Path) -> bool:
    """A root with split folders of FLORES files, or a split folder itself."""
    return bool(_files(folder)) or any(_files(folder / split) for split in SPLITS)


def load_flores(folder: Path, selector: str | None, src_lang: str, tgt_lang: str) -> TestSet:
    """The split's source and reference files as one line-aligned document (the checks of
    plain parallel files apply: equal line counts, a blank line faces a blank line)."""
    split_folder, split = _split_folder(folder, selector)
    files = {code: path for (found, code), path in _files(split_folder).items() if found == split}
    src_code, src = _file_of(src_lang, "--src-lang", files, split_folder)
    ref_code, ref = _file_of(tgt_lang, "--tgt-lang", files, split_folder)
    parallel = load_parallel(src, ref, _tag(src_lang, src_code), _tag(tgt_lang, ref_code))
    (document,) = parallel.documents
    root = folder.parent if folder.name == split else folder
    return replace(
        parallel,
        name=f"{root.name}-{split}",
        origin=str(split_folder),
        documents=(replace(document, id=split),),
    )


def _split_folder(folder: Path, selector: str | None) -> tuple[Path, str]:
    """The folder holding the split's files, and the split's name."""
    own = _files(folder)
    if own:
        splits = sorted({split for split, _ in own})
        if selector is not None and selector not in splits:
            raise UserInputError(
                f"no {selector!r} files here (it holds {', '.join(splits)})", folder
            )
        split = selector or (DEFAULT_SPLIT if DEFAULT_SPLIT in splits else splits[0])
        return folder, split
    split = selector or DEFAULT_SPLIT
    if split not in SPLITS:
        raise UserInputError(f"no FLORES split {split!r} (splits: {', '.join(SPLITS)})", folder)
    if not _files(folder / split):
        raise UserInputError(f"no {split}/ folder with FLORES files", folder)
    return folder / split, split


def _files(folder: Path) -> dict[tuple[str, str], Path]:
    """(split, code) -> file of every FLORES file directly in a folder."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        named = flores_file(path.name) if path.is_file() else None
        if named is not None:
            code, split = named
            found[(split, code)] = path
    return found


def _file_of(lang: str, option: str, by_code: dict[str, Path], folder: Path) -> tuple[str, Path]:
    """The FLORES code and file of a language option."""
    for code in _candidates(lang):
        if code in by_code:
            return code, by_code[code]
    shown = ", ".join(sorted(by_code)[:8]) + (", ..." if len(by_code) > 8 else "")
    raise UserInputError(
        f"no file for {option} {lang!r} (tried {', '.join(_candidates(lang)) or 'nothing'}; "
        f"this folder has {shown}): give a FLORES code such as arb_Arab",
        folder,
    )


def _candidates(lang: str) -> tuple[str, ...]:
    """FLORES codes a language option may mean: the code itself (`arb_Arab`, `arb-Arab`)
    or the table's codes for an ISO code (`ar`)."""
    as_code = lang.replace("-", "_")
    if re.fullmatch(_CODE, as_code):
        return (as_code,)
    if lang in FLORES_CODES:
        return FLORES_CODES[lang]
    primary = lang.split("-")[0].lower()
    return FLORES_CODES.get(primary, ())


def _tag(option: str, code: str) -> str:
    """The language as the test set records it: the option when it is a BCP 47 tag
    (`ar`), else the FLORES code as one (`arb_Arab` -> `arb-Arab`, variety dropped)."""
    if langcodes.tag_is_valid(option) and "_" not in option:
        return option
    return "-".join(code.split("_")[:2])
