"""`evalkit judge`: the local judging page for a stored run.

Each annotator gets the same segments for every system, shuffled, with system names
hidden; every action is saved at once to judgments.sqlite in the results folder, and the
page resumes where it stopped. Ctrl-C is the normal way to stop the server, so it exits 0
(every action was already saved) after printing the annotator's progress and attention
checks; `--status` prints the same for every annotator of a run.
"""

from __future__ import annotations

import getpass
import ipaddress
import sys
from typing import Annotated, Literal

import typer

from evalkit.cli.common import JsonOpt, ResultsOpt, app, err, out, print_json, reports_user_errors
from evalkit.errors import UserInputError
from evalkit.judge.app import DEFAULT_HOST, DEFAULT_PORT, create_app, listen, serve, url_of
from evalkit.judge.attention import AttentionSummary, attention_summaries
from evalkit.judge.items import DEFAULT_ITEMS, DEFAULT_SEED
from evalkit.judge.session import JudgeSession
from evalkit.judgments.store import JUDGMENTS_FILE, JudgmentStore
from evalkit.record import DEFAULT_RESULTS_DIR, find_run, read_record

MAX_NAME = 100


def default_annotator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "annotator"


def checked_annotator(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise UserInputError(
            f"--annotator must be 1 to {MAX_NAME} printable characters, got {name!r}"
        )
    return name


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def say(text: str) -> None:
    out.print(text, highlight=False, markup=False, soft_wrap=True)
    sys.stdout.flush()


@app.command()
@reports_user_errors
def judge(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, unique prefix, path, or 'latest'.")
    ] = "latest",
    protocol: Annotated[
        Literal["esa", "mqm", "da"],
        typer.Option(
            "--protocol",
            help="esa: error spans (minor/major) then a 0-100 score; mqm: error spans with "
            "severity and category; da: a 0-100 score.",
        ),
    ] = "esa",
    annotator: Annotated[
        str | None,
        typer.Option("--annotator", help="Who is judging (default: the login name)."),
    ] = None,
    items: Annotated[
        int,
        typer.Option("--items", min=1, help="Source segments to judge, each for every system."),
    ] = DEFAULT_ITEMS,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")
    ] = DEFAULT_PORT,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (only this machine by default).")
    ] = DEFAULT_HOST,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the choice and order of the items.")
    ] = DEFAULT_SEED,
    attention_checks: Annotated[
        int | None,
        typer.Option(
            "--attention-checks",
            min=0,
            help="Items showing the translation of another segment (default: 10% of the "
            "items, at least 1 from 5 segments on).",
        ),
    ] = None,
    documents: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            help="Take the segments from this document only (repeat for several), e.g. the "
            "documents with a reference, where reference-based metrics have segment scores.",
        ),
    ] = None,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Print each annotator's progress and attention checks for RUN, and exit.",
        ),
    ] = False,
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Judge a stored run's translations in a local web page (ESA, MQM or DA); Ctrl-C stops."""
    if status:
        print_status(results_dir, run_ref, as_json)
        return
    if as_json:
        raise UserInputError("--json goes with --status (the page itself prints no table)")
    name = checked_annotator(annotator if annotator is not None else default_annotator())
    session, reused = JudgeSession.open(
        results_dir, run_ref, name, protocol, items, seed, attention_checks, documents or ()
    )
    sock = listen(host, port)
    url = url_of(sock)
    if not loopback(host):
        err.print(
            f"warning: listening on {host}: other machines can open the page and save judgments",
            highlight=False,
            markup=False,
        )
    say(describe(session, reused))
    say(f"open {url} in a browser; Ctrl-C to stop")
    try:
        serve(create_app(session, hosts=(host,) if loopback(host) else ("*",)), sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    done = sum(session.completed())
    say(
        f"stopped: {done} / {len(session.queue)} items submitted; judgments in "
        f"{results_dir / JUDGMENTS_FILE}"
    )
    say(session.attention().line())


def describe(session: JudgeSession, reused: bool) -> str:
    real = [item for item in session.queue if not item.attention_check]
    segments = len({item.segment_id for item in real})
    checks = len(session.queue) - len(real)
    text = (
        f"judging run {session.run_id} ({session.protocol.upper()}, annotator "
        f"{session.annotator}): {len(session.queue)} items, {segments} segments x "
        f"{len(session.record.systems)} systems + {checks} attention "
        f"check{'' if checks == 1 else 's'}"
    )
    if reused:
        done = sum(session.completed())
        text += (
            f"\nresuming the items given to {session.annotator} before ({done} submitted); "
            "--items, --seed and --attention-checks only apply to a new annotator"
        )
    return text


def print_status(results_dir, run_ref: str, as_json: bool) -> None:
    """Progress and attention checks of every annotator who saved a judgment of the run."""
    record = read_record(find_run(results_dir, run_ref))
    store = JudgmentStore.in_results(results_dir)
    judgments = store.judgments(record.run_id)
    checks = {(s.annotator, s.protocol): s for s in attention_summaries(judgments)}
    rows = []
    for annotator, protocol in sorted({(j.annotator, j.protocol) for j in judgments}):
        queue = store.queue(record.run_id, annotator, protocol)
        submitted = sum(
            j.complete for j in judgments if (j.annotator, j.protocol) == (annotator, protocol)
        )
        summary = checks.get((annotator, protocol), AttentionSummary(annotator, protocol))
        summary.pending = max(sum(i.attention_check for i in queue) - summary.judged, 0)
        rows.append({"submitted": submitted, "items": len(queue), "attention": summary})
    if as_json:
        print_json(
            {
                "run_id": record.run_id,
                "annotators": [
                    {**row, "attention": row["attention"].as_dict()}  # type: ignore[union-attr]
                    for row in rows
                ],
            }
        )
        return
    if not rows:
        say(f"no judgments of run {record.run_id} yet")
        return
    for row in rows:
        summary = row["attention"]
        who, checks = summary.line().split(": ", 1)
        say(f"{who}: {row['submitted']} / {row['items']} items submitted; {checks}")
