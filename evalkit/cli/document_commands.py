"""`evalkit align` and `evalkit pair`: check an alignment by eye, pair documents by content."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.text import Text

from evalkit.align import Aligner
from evalkit.align.pairing import (
    DEFAULT_THRESHOLD,
    embedding_alignment,
    pair_documents,
    pivot_alignment,
    proposed_manifest,
    read_folder,
    write_manifest,
)
from evalkit.align.reliability import alignment_warning
from evalkit.align.translation import TranslationAligner, file_pivot_aligner
from evalkit.cli.common import (
    DataOpt,
    EncoderOpt,
    JsonOpt,
    SrcLangOpt,
    app,
    out,
    print_json,
    reports_user_errors,
)
from evalkit.corpus.resolve import load_test_set
from evalkit.embeddings import DEFAULT_ENCODER, load_encoder
from evalkit.errors import UserInputError
from evalkit.json_output import alignment_json, pairing_json
from evalkit.report.alignment_table import alignment_table, skipped_lines
from evalkit.safe_text import plain


@app.command("align")
@reports_user_errors
def align_command(
    doc: Annotated[str, typer.Option("--doc", help="Document id (see the manifest).")],
    data: DataOpt = None,
    align_unit: Annotated[
        Literal["paragraph", "sentence"],
        typer.Option(
            "--align-unit",
            "--unit",
            help="Align paragraphs (non-empty lines) or sentences, as `run --align-unit` "
            "(--unit: the old name, kept for a release).",
        ),
    ] = "paragraph",
    align: Annotated[
        Literal["embedding", "length"],
        typer.Option(
            "--align",
            "--method",
            help="Embeddings plus lengths, or lengths only, as `run --align` "
            "(--method: the old name, kept for a release).",
        ),
    ] = "embedding",
    encoder: EncoderOpt = DEFAULT_ENCODER,
    pivot: Annotated[
        Path | None,
        typer.Option(
            "--pivot",
            help="Align through this file of translations of the source into the "
            "reference's language, laid out like the source file (method `translation`, "
            "instead of --align).",
        ),
    ] = None,
    width: Annotated[
        int, typer.Option("--width", help="Characters shown per text cell (0: all).")
    ] = 160,
    as_json: JsonOpt = False,
) -> None:
    """Align one document with its reference and show the links for checking by eye."""
    test_set = load_test_set(data, None, None, "ar", "en")
    try:
        document = test_set.document(doc)
    except KeyError:
        known = ", ".join(d.id for d in test_set.documents)
        raise UserInputError(f"no document {doc!r} in {test_set.name} (has: {known})") from None
    if document.reference is None:
        raise UserInputError(f"document {doc!r} has no reference to align with")
    aligner: Aligner | TranslationAligner = Aligner(align, encoder)
    if pivot is not None:
        aligner = file_pivot_aligner(pivot, document.source)
    alignment = aligner.align(
        document.source.segments,
        document.reference.segments,
        align_unit,
        document.source.lang,
        document.reference.lang,
    )
    if as_json:
        print_json(alignment_json(doc, alignment))
        return
    out.print(alignment_table(doc, alignment, width or None))
    for line in skipped_lines(alignment):
        out.print(line, style="dim", highlight=False, markup=False, soft_wrap=True)
    out.print(f"signature: {alignment.signature}", style="dim", highlight=False, soft_wrap=True)
    warning = alignment_warning(doc, alignment, alignment.flagged)
    if warning is not None:
        out.print(plain(f"warning: {warning}"), style="yellow", markup=False, soft_wrap=True)


@app.command()
@reports_user_errors
def pair(
    folder: Annotated[Path, typer.Argument(help="Folder of .txt files, one document each.")],
    src_lang: SrcLangOpt = "ar",
    tgt_lang: Annotated[
        str, typer.Option("--ref-lang", help="Language of the reference documents.")
    ] = "en",
    threshold: Annotated[
        float, typer.Option("--threshold", help="Least document similarity for a pair.")
    ] = DEFAULT_THRESHOLD,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the proposed manifest (default: FOLDER/manifest.proposed.json).",
        ),
    ] = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
    pivot: Annotated[
        Path | None,
        typer.Option(
            "--pivot",
            help="Pair through translations of the source files: a folder holding each "
            "source file's translation into the reference's language under the same name, "
            "laid out like it (method `translation`; no encoder is loaded).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Pair source and reference documents of a folder by content; propose a manifest."""
    if not folder.is_dir():
        raise UserInputError("not a folder", folder)
    if pivot is not None and not pivot.is_dir():
        raise UserInputError("the pivot is not a folder", pivot)
    documents = read_folder(folder)
    if pivot is not None:
        sources = [d for d in documents if d.lang == src_lang]
        align = pivot_alignment(pivot, sources)
    else:
        align = embedding_alignment(load_encoder(encoder))
    pairing = pair_documents(documents, src_lang, tgt_lang, align, threshold)
    manifest = proposed_manifest(folder, pairing, tgt_lang)
    target = output or folder / "manifest.proposed.json"
    write_manifest(target, manifest)
    if as_json:
        print_json(pairing_json(pairing, target))
        return
    for s, r, score in pairing.pairs:
        out.print(
            plain(f"paired   {s.path.name} ↔ {r.path.name}  similarity {score:.3f}"),
            highlight=False,
            markup=False,
        )
    for d in pairing.unpaired:
        out.print(plain(f"unpaired {d.path.name} ({d.lang})"), highlight=False, markup=False)
    out.print(
        Text.assemble(
            "proposed manifest written to ",
            (plain(target), "bold"),
            "; check it, then rename it to manifest.json to use the folder with --data",
        )
    )
