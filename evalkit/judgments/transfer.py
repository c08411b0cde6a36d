"""Judgments out of the store and into it: what `evalkit judgments export|import` do, apart
from printing.

An import stores all of a file or nothing of it: every line is read and checked (and, for
WMT's TSV, joined to the run) before the one transaction that stores them, so an error on
the last line leaves the store as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evalkit.errors import UserInputError
from evalkit.judgments import jsonl
from evalkit.judgments.join import Unmatched, join_mqm, normalise
from evalkit.judgments.model import Judgment
from evalkit.judgments.mtme_scores import looks_like_mtme_scores, read_mtme_scores
from evalkit.judgments.positional import RunRows
from evalkit.judgments.store import JUDGMENTS_FILE, JudgmentStore
from evalkit.judgments.wmt_humeval import looks_like_wmt_humeval, read_wmt_humeval
from evalkit.judgments.wmt_mqm import looks_like_mqm_tsv, read_mqm_tsv
from evalkit.record import RUN_FILE, find_run, read_record, read_segments

ImportFormat = Literal["jsonl", "wmt-mqm", "wmt-humeval", "mt-metrics-eval"]


def stored_judgments(
    results_dir: Path,
    run_ref: str | None = None,
    annotator: str | None = None,
    protocol: str | None = None,
) -> list[Judgment]:
    """The judgments to export: of one run (id, prefix, path or `latest`) or of every run,
    optionally of one annotator or protocol. A results folder without a judgments file has
    none (and is left without one)."""
    run_id = read_record(find_run(results_dir, run_ref)).run_id if run_ref else None
    if not (results_dir / JUDGMENTS_FILE).is_file():
        return []
    return JudgmentStore.in_results(results_dir).judgments(run_id, annotator, protocol)


@dataclass
class ImportSummary:
    path: Path
    format: ImportFormat
    stored: list[Judgment]
    unmatched: list[Unmatched] = field(default_factory=list)
    #: published formats only: the rows (lines) read; WMT TSV only: the Neutral ones left out
    rows: int | None = None
    neutral: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "stored": len(self.stored),
            "runs": sorted({j.run_id for j in self.stored}),
            "unmatched": len(self.unmatched),
            "rows": self.rows,
            "neutral_skipped": self.neutral,
            "unmatched_judgments": [u.as_json() for u in self.unmatched],
        }


def import_file(path: Path, results_dir: Path, run_ref: str | None = None) -> ImportSummary:
    """Store the judgments of a JSONL file (evalkit's export), of WMT's MQM TSV (a `.tsv`
    name, or a header with its columns), of WMT's human-evaluation JSONL (rows with
    `scores`) or of an mt-metrics-eval score file (`LP.NAME.seg.score`). `run_ref` is
    required for the published formats, which know no evalkit run; for evalkit's JSONL it
    re-keys every judgment to that run (segment ids are stable across runs of the same
    test set)."""
    if not path.is_file():
        raise UserInputError("no such file", path)
    if looks_like_mqm_tsv(path):
        summary = _mqm_judgments(path, results_dir, run_ref)
    elif looks_like_mtme_scores(path):
        summary = _positional_judgments(path, results_dir, run_ref, "mt-metrics-eval")
    elif looks_like_wmt_humeval(path):
        summary = _positional_judgments(path, results_dir, run_ref, "wmt-humeval")
    else:
        summary = _jsonl_judgments(path, results_dir, run_ref)
    if summary.stored:
        summary.stored = JudgmentStore.in_results(results_dir).save_many(summary.stored)
    return summary


def _mqm_judgments(path: Path, results_dir: Path, run_ref: str | None) -> ImportSummary:
    if run_ref is None:
        raise UserInputError("WMT's MQM TSV names no evalkit run: say which with --run RUN", path)
    folder = find_run(results_dir, run_ref)
    record = read_record(folder)
    mqm = read_mqm_tsv(path)
    joined = join_mqm(
        mqm, record.run_id, list(read_segments(folder)), [s.label for s in record.systems]
    )
    return ImportSummary(path, "wmt-mqm", joined.judgments, joined.unmatched, mqm.rows, mqm.neutral)


def _positional_judgments(
    path: Path,
    results_dir: Path,
    run_ref: str | None,
    kind: Literal["wmt-humeval", "mt-metrics-eval"],
) -> ImportSummary:
    """Scores that name their segment by document and position, joined to a run of the
    test set they came from (evalkit.judgments.positional)."""
    what = "WMT's human-evaluation JSONL" if kind == "wmt-humeval" else "mt-metrics-eval's scores"
    if run_ref is None:
        raise UserInputError(f"{what} name no evalkit run: say which with --run RUN", path)
    folder = find_run(results_dir, run_ref)
    record = read_record(folder)
    rows = RunRows(list(read_segments(folder)), [s.label for s in record.systems])
    read = read_wmt_humeval if kind == "wmt-humeval" else read_mtme_scores
    found = read(path, record.run_id, rows)
    return ImportSummary(path, kind, found.judgments, found.unmatched, found.rows)


def _jsonl_judgments(path: Path, results_dir: Path, run_ref: str | None) -> ImportSummary:
    lines = jsonl.read(path)
    if run_ref is not None:
        run_id = read_record(find_run(results_dir, run_ref)).run_id
        lines = [(n, j.model_copy(update={"run_id": run_id})) for n, j in lines]
    runs: dict[str, tuple[dict[str, dict[str, str]], set[str]]] = {}
    for number, judgment in lines:
        if judgment.run_id not in runs:
            runs[judgment.run_id] = _run_keys(results_dir, judgment.run_id, path, number)
        segments, systems = runs[judgment.run_id]
        if judgment.segment_id not in segments:
            raise UserInputError(
                f"segment {judgment.segment_id!r} is not a row of run {judgment.run_id}",
                path,
                number,
            )
        if judgment.system not in systems:
            raise UserInputError(
                f"system {judgment.system!r} is not a system of run {judgment.run_id}",
                path,
                number,
            )
        shown = segments[judgment.segment_id].get(judgment.system, "")
        if (
            judgment.target
            and not judgment.attention_check
            and (normalise(judgment.target) != normalise(shown))
        ):
            # judgments moved to another run (--run) must have judged the same text: a
            # system whose output changed between the runs would otherwise inherit them
            raise UserInputError(
                f"the translation judged for {judgment.system!r} on {judgment.segment_id!r} "
                f"is not the one in run {judgment.run_id}",
                path,
                number,
            )
    return ImportSummary(path, "jsonl", [judgment for _, judgment in lines])


def _run_keys(
    results_dir: Path, run_id: str, path: Path, line: int
) -> tuple[dict[str, dict[str, str]], set[str]]:
    """The rows of a stored run (id → system → hypothesis) and its system labels, which a
    judgment must name."""
    folder = results_dir / run_id
    if "/" in run_id or run_id in ("", ".", "..") or not (folder / RUN_FILE).is_file():
        raise UserInputError(
            f"no run {run_id!r} in {results_dir} (import it with --run RUN to attach the "
            "judgments to a run of the same test set)",
            path,
            line,
        )
    record = read_record(folder)
    return {row.id: row.hyp for row in read_segments(folder)}, {s.label for s in record.systems}
