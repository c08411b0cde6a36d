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

A document with several references (several translators) lists them instead of
`reference`: `"references": [{"file": "a1.en.txt"}, {"file": "a1.en-2.txt"}]`, the first
one first. Aligned documents need the same number of lines in each.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalkit.corpus.jsontext import parse_json
from evalkit.corpus.languages import check_language
from evalkit.corpus.model import Document, Side, TestSet
from evalkit.corpus.segment import paragraphs
from evalkit.corpus.textfile import read_lines
from evalkit.errors import UserInputError, first_problem

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
    references: list[_FileSpec] | None = Field(default=None, min_length=1)
    aligned: bool = False

    @model_validator(mode="after")
    def _one_way_to_name_references(self) -> _DocumentSpec:
        if self.reference is not None and self.references is not None:
            raise ValueError("give `reference` or `references`, not both")
        return self

    @property
    def reference_files(self) -> list[_FileSpec]:
        if self.references is not None:
            return self.references
        return [self.reference] if self.reference is not None else []


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
    raw = parse_json("\n".join(read_lines(path)), path)
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as err:
        raise UserInputError(f"invalid manifest at {first_problem(err)}", path) from None
    if manifest.schema_version != MANIFEST_SCHEMA_VERSION:
        raise UserInputError(
            f"unsupported schema_version {manifest.schema_version} "
            f"(this evalkit reads {MANIFEST_SCHEMA_VERSION})",
            path,
        )
    check_language(manifest.target_lang, "target_lang", path)
    if manifest.source_lang is not None:
        check_language(manifest.source_lang, "source_lang", path)
    for spec in manifest.documents:
        for side_name, side in (
            ("source", spec.source),
            *(("reference", side) for side in spec.reference_files),
        ):
            if side.lang is not None:
                check_language(side.lang, f"document {spec.id!r} {side_name}.lang", path)
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
        _check_id(spec.id, manifest_path)
        source = _read_side(_inside(folder, spec.source.file, spec.id, manifest_path), src_lang)
        references = [
            _read_reference(folder, spec, ref_spec, source, manifest)
            for ref_spec in spec.reference_files
        ]
        documents.append(
            Document(
                id=spec.id,
                source=source,
                reference=references[0] if references else None,
                aligned=spec.aligned,
                more_references=tuple(references[1:]),
            )
        )
    return TestSet(
        name=manifest.name or folder.name,
        origin=origin or str(folder),
        tgt_lang=manifest.target_lang,
        documents=tuple(documents),
    )


def _read_reference(
    folder: Path, spec: _DocumentSpec, ref_spec: _FileSpec, source: Side, manifest: Manifest
) -> Side:
    manifest_path = folder / MANIFEST_NAME
    ref_lang = ref_spec.lang or manifest.target_lang
    if ref_lang != manifest.target_lang:
        raise UserInputError(
            f"document {spec.id!r}: reference language {ref_lang!r} differs from "
            f"target_lang {manifest.target_lang!r}",
            manifest_path,
        )
    reference = _read_side(_inside(folder, ref_spec.file, spec.id, manifest_path), ref_lang)
    if spec.aligned and len(reference.segments) != len(source.segments):
        raise UserInputError(
            f"document {spec.id!r} is marked aligned but has "
            f"{len(source.segments)} source and {len(reference.segments)} reference "
            "paragraphs",
            folder / ref_spec.file,
        )
    return reference


#: what a document id may not hold: ids name files (`files:` outputs, exports), so no
#: path separators, control characters or a leading dot
_UNSAFE_ID = re.compile(r"[/\\\x00-\x1f\x7f]|^\.|^\s|\s$")


def _check_id(doc_id: str, manifest_path: Path) -> None:
    if not doc_id or _UNSAFE_ID.search(doc_id):
        raise UserInputError(
            f"document id {doc_id!r} is not safe as a file name (no '/', '\\', control "
            "characters, leading dot or surrounding spaces)",
            manifest_path,
        )


def _inside(folder: Path, name: str, doc_id: str, manifest_path: Path) -> Path:
    """The file a manifest names, refused unless it lies inside the manifest's folder once
    `..`, absolute paths and symbolic links are resolved: a shared test set must never
    read anything else on the machine."""
    if "\x00" in name:  # no file name holds one; resolve() would raise ValueError
        raise UserInputError(f"document {doc_id!r}: file name {name!r} holds a NUL", manifest_path)
    path = folder / name
    root = folder.resolve()
    if not path.resolve().is_relative_to(root):
        raise UserInputError(
            f"document {doc_id!r}: file {name!r} lies outside the test set's folder "
            f"({root}); a manifest may only name files inside it",
            manifest_path,
        )
    return path


def _read_side(path: Path, lang: str) -> Side:
    segments = paragraphs(read_lines(path))
    if not segments:
        raise UserInputError("empty document: no non-blank line", path)
    return Side(lang=lang, segments=tuple(segments), path=str(path))
