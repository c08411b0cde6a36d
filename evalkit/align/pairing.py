"""Pair source and reference documents of a folder that has no manifest.

Each file is one document, its language detected from its text. Two documents are as
similar as they are alignable: the mean link confidence of their paragraph alignment
(`Aligner`, embeddings). A mean of embeddings would say little here, since articles on one
topic all embed alike; a translation, though, lines up paragraph after paragraph, and an
article on the same topic does not. Pairs are then taken one-to-one by competitive
linking: the most similar pair first, then the most similar among the rest, down to a
threshold. A pair whose alignment would be called unreliable (`confidence.unreliable`:
too many links likely wrong) is never proposed. What stays unpaired is listed, never
forced.

The alignment is the embedding method's by default, or, given a folder of translations of
the source files (`pivot_alignment`), the translation method's: the pivot anchors names,
numbers and content words that a cross-lingual encoder sees only dimly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evalkit import atomic
from evalkit.align.document import Aligner, DocumentAlignment
from evalkit.align.translation import TranslationAligner, read_pivot_file
from evalkit.corpus.manifest import MANIFEST_NAME
from evalkit.corpus.textfile import read_lines
from evalkit.embeddings import CachedEncoder, SentenceEncoder
from evalkit.errors import UserInputError
from evalkit.metrics.diagnostics.language import detect_language

#: below this alignability two documents are not proposed as a pair: a floor. What keeps
#: documents of one genre that do not translate each other apart is that their alignment
#: is unreliable (most of its links likely wrong), so they are never proposed; and where
#: one is not, its true counterpart aligns better and is taken first.
DEFAULT_THRESHOLD = 0.08
#: languages considered when detecting a file's language
_CANDIDATE_LANGUAGES = ("ar", "en", "fr", "de", "es", "fa", "ur", "tr", "ru", "zh")


@dataclass(frozen=True)
class DocumentFile:
    path: Path
    lang: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Pairing:
    pairs: list[tuple[DocumentFile, DocumentFile, float]]
    unpaired: list[DocumentFile]
    #: every source × reference similarity, for the user to see near-misses
    similarities: dict[tuple[str, str], float]


def read_folder(folder: Path) -> list[DocumentFile]:
    """Every .txt file of the folder, with its detected language and its paragraphs."""
    files = sorted(p for p in folder.glob("*.txt") if p.is_file())
    if not files:
        raise UserInputError("no .txt files to pair", folder)
    documents = []
    for path in files:
        paragraphs = tuple(line for line in read_lines(path) if line.strip())
        if not paragraphs:
            raise UserInputError("empty document", path)
        lang = detect_language(" ".join(paragraphs)[:2000], _CANDIDATE_LANGUAGES)
        if lang is None:
            raise UserInputError("could not tell the language of this file", path)
        documents.append(DocumentFile(path, lang, paragraphs))
    return documents


#: aligns a source document with a reference document (paragraphs, as `evalkit align`)
PairAligner = Callable[["DocumentFile", "DocumentFile"], DocumentAlignment]


def embedding_alignment(encoder: SentenceEncoder, aligner: Aligner | None = None) -> PairAligner:
    """Pairs aligned by the embedding method. `aligner`: one with other constants (the
    bench's held-out folds); `encoder` is handed to it, cached, since every document is
    aligned with every other."""
    aligner = aligner or Aligner("embedding")
    aligner.use_encoder(CachedEncoder(encoder))
    return lambda s, r: aligner.align_paragraphs(s.paragraphs, r.paragraphs)


def pivot_alignment(folder: Path, sources: list[DocumentFile]) -> PairAligner:
    """Pairs aligned through translations of the source files: `folder` holds, under each
    source file's name, its translation into the reference's language laid out like it
    (line for line, or one line per paragraph). One pivot label for all: the folder."""
    pivots: dict[Path, list[str]] = {}
    for s in sources:
        path = folder / s.path.name
        if not path.is_file():
            raise UserInputError(f"no pivot translation of {s.path.name} in {folder}", path)
        pivots[s.path] = read_pivot_file(path, read_lines(s.path))
    aligner = TranslationAligner({}, f"folder:{folder.name}")
    return lambda s, r: aligner.align_paragraphs(
        s.paragraphs, r.paragraphs, s.lang, r.lang, pivot=pivots[s.path]
    )


def pair_documents(
    documents: list[DocumentFile],
    src_lang: str,
    ref_lang: str,
    align: PairAligner,
    threshold: float = DEFAULT_THRESHOLD,
) -> Pairing:
    """Source documents (`src_lang`) paired one-to-one with reference documents."""
    sources = [d for d in documents if d.lang == src_lang]
    references = [d for d in documents if d.lang == ref_lang]
    similarity: dict[tuple[str, str], float] = {}
    #: pairs whose alignment would be flagged unreliable: never proposed
    doubtful: set[tuple[str, str]] = set()
    for s in sources:
        for r in references:
            alignment = align(s, r)
            similarity[(s.path.name, r.path.name)] = alignment.mean_confidence
            if alignment.unreliable:
                doubtful.add((s.path.name, r.path.name))
    candidates = sorted(
        (
            (similarity[(s.path.name, r.path.name)], s, r)
            for s in sources
            for r in references
            if (s.path.name, r.path.name) not in doubtful
        ),
        key=lambda item: -item[0],
    )
    taken: set[Path] = set()
    pairs = []
    for score, s, r in candidates:
        if score < threshold:
            break
        if s.path in taken or r.path in taken:
            continue
        taken |= {s.path, r.path}
        pairs.append((s, r, score))
    pairs.sort(key=lambda pair: pair[0].path.name)
    unpaired = [d for d in documents if d.path not in taken]
    return Pairing(pairs, unpaired, similarity)


def proposed_manifest(folder: Path, pairing: Pairing, ref_lang: str) -> dict:
    """A manifest in the format `--data FOLDER` reads: paired documents with their
    reference, unpaired source documents alone; `aligned` false, so runs align them."""
    documents = []
    for s, r, _ in pairing.pairs:
        documents.append(
            {
                "id": s.path.stem,
                "source": {"file": s.path.name, "lang": s.lang},
                "reference": {"file": r.path.name, "lang": r.lang},
                "aligned": False,
            }
        )
    for d in pairing.unpaired:
        if d.lang != ref_lang:
            documents.append({"id": d.path.stem, "source": {"file": d.path.name, "lang": d.lang}})
    documents.sort(key=lambda doc: doc["id"])
    return {
        "schema_version": 1,
        "name": folder.name,
        "target_lang": ref_lang,
        "documents": documents,
    }


def write_manifest(path: Path, manifest: dict) -> None:
    """Write atomically; refuse to overwrite a manifest the user may have edited."""
    if path.name == MANIFEST_NAME and path.exists():
        raise UserInputError("a manifest already exists; write the proposal elsewhere (-o)", path)
    atomic.write_text(path, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
