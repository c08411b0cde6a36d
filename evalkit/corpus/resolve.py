"""Turn what the user named on the command line into a loaded, validated test set."""

from __future__ import annotations

from pathlib import Path

from evalkit.corpus.formats.detect import Format, detect, split_selector
from evalkit.corpus.formats.flores import load_flores
from evalkit.corpus.formats.mtme import load_mtme
from evalkit.corpus.formats.wmt_jsonl import load_wmt_jsonl
from evalkit.corpus.formats.wmt_sgml import load_wmt_sgml
from evalkit.corpus.formats.wmt_xml import load_wmt_xml
from evalkit.corpus.languages import check_language
from evalkit.corpus.manifest import load_manifest_dir
from evalkit.corpus.model import TestSet
from evalkit.corpus.parallel import load_parallel
from evalkit.corpus.table import load_table
from evalkit.data import builtin_test_sets
from evalkit.errors import UserInputError

DEFAULT_TEST_SET = "seeds"


def load_test_set(
    data: str | None = None,
    src: Path | None = None,
    ref: Path | list[Path] | None = None,
    src_lang: str = "ar",
    tgt_lang: str = "en",
) -> TestSet:
    """`data` is a built-in name, or a file or folder in one of the formats of
    docs/formats.md (evalkit's manifest folder and .jsonl/.tsv tables, WMT XML, WMT SGML,
    FLORES, WMT JSONL, mt-metrics-eval), told apart by `detect`; `PATH#SELECTOR` picks a
    language pair or split. `src`/`ref` are plain line-aligned files. With nothing given,
    the built-in seeds. --src-lang/--tgt-lang are the languages of formats that do not
    name their own (plain files, tables, FLORES) and choose among the pairs of those that
    hold several."""
    if src is not None or ref is not None:
        if data is not None:
            raise UserInputError("give either --data or --src/--ref, not both")
        return load_parallel(src, ref, *_option_languages(src_lang, tgt_lang))
    data = data or DEFAULT_TEST_SET
    builtins = builtin_test_sets()
    if data in builtins:
        return load_manifest_dir(builtins[data], origin=f"builtin:{data}")
    path, selector = split_selector(data)
    kind = detect(path)
    if kind is None:
        if path.is_dir():
            raise UserInputError(f"not a test set folder: {_FOLDERS}", path)
        if path.exists():
            raise UserInputError(f"not a test set: expected {_FILES}, or {_FOLDERS}", path)
        raise UserInputError(
            f"no such test set {data!r}: not a file or folder, and not one of the built-in "
            f"test sets ({', '.join(sorted(builtins))})"
        )
    if selector is not None and kind not in _SELECTABLE:
        raise UserInputError(
            f"'#{selector}' selects a language pair or split, which a {kind} test set has not",
            path,
        )
    return _load(kind, path, selector, src_lang, tgt_lang)


#: what `--data` accepts, for the messages that refuse something else
_FILES = "a .jsonl or .tsv table, WMT XML (.xml), WMT SGML (.sgm) or WMT JSONL (.jsonl)"
_FOLDERS = (
    "a folder with a manifest.json, an mt-metrics-eval folder (sources/, references/), a "
    "folder of WMT SGML files or a FLORES folder (dev/, devtest/)"
)
#: formats whose files or folders hold several language pairs or splits
_SELECTABLE: tuple[Format, ...] = ("wmt-jsonl", "mt-metrics-eval", "flores")


def _load(kind: Format, path: Path, selector: str | None, src_lang: str, tgt_lang: str) -> TestSet:
    """Read a detected format; formats that name their languages ignore the options."""
    if kind == "manifest":
        return load_manifest_dir(path)
    if kind == "table":
        return load_table(path, *_option_languages(src_lang, tgt_lang))
    if kind == "wmt-xml":
        return load_wmt_xml(path, tgt_lang)
    if kind == "wmt-sgml":
        return load_wmt_sgml(path)
    if kind == "wmt-jsonl":
        return load_wmt_jsonl(path, selector, src_lang, tgt_lang)
    if kind == "flores":
        return load_flores(path, selector, src_lang, tgt_lang)
    return load_mtme(path, selector, src_lang, tgt_lang)


def _option_languages(src_lang: str, tgt_lang: str) -> tuple[str, str]:
    """The --src-lang/--tgt-lang of plain and table inputs (manifests name their own)."""
    return check_language(src_lang, "--src-lang"), check_language(tgt_lang, "--tgt-lang")
