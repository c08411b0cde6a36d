"""What every reader of a published format needs: segment text made one clean line, the
field's language codes as BCP 47 tags, safe ids and system names, and the choice of one
language pair from a file or folder that holds several.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from evalkit.corpus.languages import check_language
from evalkit.corpus.textfile import check_text
from evalkit.errors import UserInputError

_SPACE = re.compile(r"\s+")
#: as in the manifest format: ids name files (`files:` outputs, exports), so no path
#: separators, control characters or a leading dot
_UNSAFE_ID = re.compile(r"[/\\\x00-\x1f\x7f]|^\.|^\s|\s$")
#: a system name becomes `NAME=data:NAME`: a comma or `=` would split that spec
_UNSAFE_NAME = re.compile(r"[,=\x00-\x1f\x7f]")
#: what a system label may hold (evalkit.registry's `LABEL=`)
_NOT_IN_LABEL = re.compile(r"[^A-Za-z0-9_.+\-]")


def clean_segment(text: str | None, path: Path, line: int | None) -> str:
    """The segment as one line: surrounding whitespace removed, every run of whitespace
    (line breaks included) one space. This is sacrebleu's `_clean`, so a WMT file read here
    gives the same text as `sacrebleu -t` does; other control characters are refused."""
    cleaned = _SPACE.sub(" ", (text or "").strip())
    check_text(cleaned, path, line)
    return cleaned


def bcp47(code: str, what: str, path: Path, line: int | None = None) -> str:
    """The field's code as a BCP 47 tag: WMT writes locales with `_` (`cs_CZ`,
    `sr_Cyrl_RS`), which become `cs-CZ`, `sr-Cyrl-RS`; anything still invalid is refused."""
    tag = code.strip().replace("_", "-")
    try:
        return check_language(tag, what, path)
    except UserInputError as error:
        raise UserInputError(str(error.args[0]), path, line) from None


def check_doc_id(doc_id: str, path: Path, line: int | None) -> str:
    if not doc_id or _UNSAFE_ID.search(doc_id):
        raise UserInputError(
            f"document id {doc_id!r} is not safe as a file name (no '/', '\\', control "
            "characters, leading dot or surrounding spaces)",
            path,
            line,
        )
    return doc_id


def check_system_name(name: str, path: Path, line: int | None) -> str:
    if not name.strip() or _UNSAFE_NAME.search(name):
        raise UserInputError(
            f"system name {name!r} cannot name a system (empty, or holds ',', '=' or a "
            "control character)",
            path,
            line,
        )
    return name


def output_label(name: str) -> str:
    """The label of a system the test set carries under `name`, in runs and in imported
    judgments alike: the name, with characters a label cannot hold made `_`."""
    return _NOT_IN_LABEL.sub("_", name)


def split_pair(pair: str) -> tuple[str, str]:
    """`en-cs_CZ` -> (`en`, `cs_CZ`): WMT and mt-metrics-eval join the two codes with the
    first `-` (their locales use `_`)."""
    src, sep, tgt = pair.partition("-")
    return (src, tgt) if sep else (pair, "")


def choose_pair(
    pairs: Sequence[str],
    selector: str | None,
    src_lang: str,
    tgt_lang: str,
    path: Path,
) -> str:
    """The language pair to read, of the `pairs` a file or folder holds: the one named
    after `#` in `--data`, else the only one, else the one that --src-lang/--tgt-lang name
    (`en`/`cs` picks `en-cs_CZ`: the region is not needed)."""
    if not pairs:
        raise UserInputError("holds no language pair", path)
    listed = ", ".join(pairs)
    if selector is not None:
        for pair in pairs:
            if pair == selector or _codes(pair, exact=True) == _codes(selector, exact=True):
                return pair
        raise UserInputError(f"no language pair {selector!r} here (it holds {listed})", path)
    if len(pairs) == 1:
        return pairs[0]
    for exact in (True, False):
        wanted = tuple(_code(lang, exact) for lang in (src_lang, tgt_lang))
        found = [pair for pair in pairs if _codes(pair, exact) == wanted]
        if len(found) == 1:
            return found[0]
    raise UserInputError(
        f"holds several language pairs ({listed}) and --src-lang/--tgt-lang "
        f"({src_lang}/{tgt_lang}) pick none of them alone: name one as PATH#PAIR",
        path,
    )


def _code(lang: str, exact: bool) -> str:
    """A code for comparing: `_` and `-` alike, any case; not `exact`: the primary
    language subtag only (`cs_CZ` and `cs` agree)."""
    code = lang.replace("-", "_").lower()
    return code if exact else code.split("_")[0]


def _codes(pair: str, exact: bool) -> tuple[str, str]:
    src, tgt = split_pair(pair)
    return _code(src, exact), _code(tgt, exact)
