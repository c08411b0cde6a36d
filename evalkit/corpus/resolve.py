"""Turn what the user named on the command line into a loaded, validated test set."""

from __future__ import annotations

from pathlib import Path

from evalkit.corpus.languages import check_language
from evalkit.corpus.manifest import MANIFEST_NAME, load_manifest_dir
from evalkit.corpus.model import TestSet
from evalkit.corpus.parallel import load_parallel
from evalkit.corpus.table import TABLE_SUFFIXES, load_table
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
    """`data` is a built-in name, a folder with a manifest, or a .jsonl/.tsv table;
    `src`/`ref` are plain line-aligned files. With nothing given, the built-in seeds."""
    if src is not None or ref is not None:
        if data is not None:
            raise UserInputError("give either --data or --src/--ref, not both")
        return load_parallel(src, ref, *_option_languages(src_lang, tgt_lang))
    data = data or DEFAULT_TEST_SET
    builtins = builtin_test_sets()
    if data in builtins:
        return load_manifest_dir(builtins[data], origin=f"builtin:{data}")
    path = Path(data)
    if path.is_dir():
        if not (path / MANIFEST_NAME).is_file():
            raise UserInputError(
                f"folder has no {MANIFEST_NAME}; see the README for the manifest format", path
            )
        return load_manifest_dir(path)
    if path.suffix in TABLE_SUFFIXES:
        return load_table(path, *_option_languages(src_lang, tgt_lang))
    if path.exists():
        raise UserInputError(
            "not a test set: expected a folder with a manifest.json, a .jsonl or a .tsv file",
            path,
        )
    raise UserInputError(
        f"no such test set {data!r}: not a file or folder, and not one of the built-in "
        f"test sets ({', '.join(sorted(builtins))})"
    )


def _option_languages(src_lang: str, tgt_lang: str) -> tuple[str, str]:
    """The --src-lang/--tgt-lang of plain and table inputs (manifests name their own)."""
    return check_language(src_lang, "--src-lang"), check_language(tgt_lang, "--tgt-lang")
