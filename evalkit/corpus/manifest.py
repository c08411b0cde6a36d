"""The manifest format: a folder of text files plus a manifest.json that pairs them.

```json
{
  "schema_version": 1,
  "name": "my-news",
  "target_lang": "en",
  "documents": [
    {"id": "a1", "source": {"file": "a1.ar.txt", "lang": "ar"},
     "reference": {"file": "a1.en.txt"}, "aligned": false},
    {"id": "a2", "source": {"file": "a2.ar.txt", "lang": "ar"}}
  ]
}
```
One paragraph per non-empty line. `aligned: true` promises that reference line i
translates source line i; leave it false when the translation was edited freely.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.corpus.model import Document, Side, TestSet
from evalkit.corpus.segment import paragraphs
from evalkit.corpus.textfile import read_lines
from evalkit.errors import UserInputError

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA_VERSION = 1


class _FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str = Field(min_length=1)
    lang: str | None = None


class _DocumentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    source: _FileSpec
    reference: _FileSpec | None = None
    aligned: bool = False


class Manifest(BaseModel):
    """The validated content of a manifest.json."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = MANIFEST_SCHEMA_VERSION
    name: str | None = None
    description: str = ""
    source_lang: str | None = None
    target_lang: str = "en"
    documents: list[_DocumentSpec] = Field(min_length=1)


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise UserInputError(f"no {MANIFEST_NAME} in this folder", folder)
    try:
        raw = json.loads("\n".join(read_lines(path)))
    except json.JSONDecodeError as err:
        raise UserInputError(f"invalid JSON: {err.msg}", path, err.lineno) from None
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UserInputError(f"invalid manifest at {where}: {first['msg']}", path) from None
    if manifest.schema_version != MANIFEST_SCHEMA_VERSION:
        raise UserInputError(
            f"unsupported schema_version {manifest.schema_version} "
            f"(this evalkit reads {MANIFEST_SCHEMA_VERSION})",
            path,
        )
    return manifest


def load_manifest_dir(folder: Path, origin: str | None = None) -> TestSet:
    """Load every document a manifest lists, validating all of it before returning."""
    manifest = read_manifest(folder)
    manifest_path = folder / MANIFEST_NAME
    seen: set[str] = set()
    documents: list[Document] = []
    for spec in manifest.documents:
        if spec.id in seen:
            raise UserInputError(f"duplicate document id {spec.id!r}", manifest_path)
        seen.add(spec.id)
        src_lang = spec.source.lang or manifest.source_lang
        if not src_lang:
            raise UserInputError(
                f"document {spec.id!r}: no source language (set source.lang or source_lang)",
                manifest_path,
            )
        source = _read_side(folder / spec.source.file, src_lang)
        reference = None
        if spec.reference is not None:
            ref_lang = spec.reference.lang or manifest.target_lang
            if ref_lang != manifest.target_lang:
                raise UserInputError(
                    f"document {spec.id!r}: reference language {ref_lang!r} differs from "
                    f"target_lang {manifest.target_lang!r}",
                    manifest_path,
                )
            reference = _read_side(folder / spec.reference.file, ref_lang)
            if spec.aligned and len(reference.segments) != len(source.segments):
                raise UserInputError(
                    f"document {spec.id!r} is marked aligned but has "
                    f"{len(source.segments)} source and {len(reference.segments)} reference "
                    "paragraphs",
                    folder / spec.reference.file,
                )
        documents.append(
            Document(id=spec.id, source=source, reference=reference, aligned=spec.aligned)
        )
    return TestSet(
        name=manifest.name or folder.name,
        origin=origin or str(folder),
        tgt_lang=manifest.target_lang,
        documents=tuple(documents),
    )


def _read_side(path: Path, lang: str) -> Side:
    segments = paragraphs(read_lines(path))
    if not segments:
        raise UserInputError("empty document: no non-blank line", path)
    return Side(lang=lang, segments=tuple(segments), path=str(path))
