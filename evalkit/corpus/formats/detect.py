"""Which format `--data PATH` is, told from the path alone: a folder by its layout, a file
by its suffix and, where the suffix is ambiguous (`.jsonl`) or unknown, by its first line.

Detection only looks; the reader of the format then reads and checks everything, so a
file detected as WMT XML that turns out malformed gets WMT XML's error, with its line.

`PATH#SELECTOR` picks a part of a file or folder that holds several: a language pair
(`wmt23#en-de`, `wmt25.jsonl#en-cs_CZ`) or a FLORES split (`flores200#dev`). The `#` is
only split off when PATH itself does not exist, so a file whose name holds `#` still loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from evalkit.corpus.formats.flores import is_flores_folder
from evalkit.corpus.formats.mtme import is_mtme_folder

Format = Literal[
    "manifest", "table", "wmt-xml", "wmt-sgml", "wmt-jsonl", "flores", "mt-metrics-eval"
]

MANIFEST_NAME = "manifest.json"
SGML_SUFFIXES = (".sgm", ".sgml")
#: keys of WMT's JSONL (test sets, system files, human evaluation) that evalkit's own
#: table format (`doc_id`, `src`, `ref`) never has
WMT_JSONL_KEYS = ("src_text", "source_doc", "tgt_text", "scores", "src_lang", "refs", "hypothesis")
#: how many characters of an unknown file are looked at for an XML or SGML root
_HEAD = 2048


def split_selector(data: str) -> tuple[Path, str | None]:
    """`PATH#SELECTOR` -> (PATH, SELECTOR) when PATH exists and `data` as a whole does not."""
    path = Path(data)
    if "#" in data and not path.exists():
        base, _, selector = data.rpartition("#")
        if base and selector and Path(base).exists():
            return Path(base), selector
    return path, None


def detect(path: Path) -> Format | None:
    """The format of an existing file or folder, or None when it is none of them."""
    if path.is_dir():
        return _folder_format(path)
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return "wmt-jsonl" if _is_wmt_jsonl(path) else "table"
    if suffix == ".tsv":
        return "table"
    if suffix == ".xml":
        return "wmt-xml"
    if suffix in SGML_SUFFIXES:
        return "wmt-sgml"
    return _root_format(path)


def _folder_format(folder: Path) -> Format | None:
    """Each reader knows its own layout; a manifest wins over everything else."""
    if (folder / MANIFEST_NAME).is_file():
        return "manifest"
    if is_mtme_folder(folder):
        return "mt-metrics-eval"
    if any(p.suffix.lower() in SGML_SUFFIXES for p in folder.iterdir() if p.is_file()):
        return "wmt-sgml"
    if is_flores_folder(folder):
        return "flores"
    return None


def _is_wmt_jsonl(path: Path) -> bool:
    """Whether the first object of a JSONL file is WMT's rather than an evalkit table row;
    anything unreadable is left to the table reader, which names the line."""
    first = _first_line(path)
    try:
        row = json.loads(first) if first is not None else None
    except (ValueError, RecursionError):  # the table reader names what is wrong
        return False
    if not isinstance(row, dict) or "src" in row:
        return False
    return any(key in row for key in WMT_JSONL_KEYS)


def _first_line(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    return line
    except OSError:
        return None
    return None


def _root_format(path: Path) -> Format | None:
    """A file with another suffix, by its first element: WMT XML or WMT SGML."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            head = handle.read(_HEAD).lstrip().lower()
    except OSError:
        return None
    if head.startswith("<?xml") or head.startswith("<dataset"):
        return "wmt-xml"
    if head.startswith(("<srcset", "<refset", "<tstset")):
        return "wmt-sgml"
    return None
