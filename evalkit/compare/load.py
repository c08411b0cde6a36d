"""Gather the systems of one or more runs into one pool of matched rows.

Systems of different runs compare only when their numbers are about the same thing: the
same test set (hash), the same alignment of sources to references, and metrics with the
same signatures. `comparability_problems` says what differs; `--force` turns those
problems into warnings that travel with the output.

Rows of different runs are matched by (doc_id, src_ids, ref_ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.align.reliability import alignment_warnings
from evalkit.errors import UserInputError
from evalkit.record import (
    ErrorSpanInfo,
    MetricInfo,
    RunRecord,
    Score,
    find_run,
    read_record,
    read_segments,
)

RowKey = tuple[str, tuple[int, ...], tuple[int, ...]]


@dataclass
class Run:
    """One stored run, read back: its folder, record and segment rows."""

    folder: Path
    record: RunRecord
    rows: list[Any]  # SegmentRow


def load_run(ref: str | Path, results_dir: Path | str = "results") -> Run:
    """A run by id, unique id prefix, `latest` or path."""
    folder = find_run(Path(results_dir), str(ref))
    return Run(folder, read_record(folder), list(read_segments(folder)))


@dataclass(frozen=True)
class SystemRef:
    """A system in a comparison: `key` is unique across the compared runs."""

    key: str
    label: str
    run_id: str


@dataclass
class Row:
    doc_id: str
    src_ids: tuple[int, ...]
    ref_ids: tuple[int, ...]
    src: str
    ref: str | None
    hyp: dict[str, str] = field(default_factory=dict)
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)
    #: the alignment link's confidence and flags, when the row came from alignment
    confidence: float | None = None
    flags: tuple[str, ...] = ()
    #: per system key, flags on that system's hypothesis (e.g. "truncated")
    hyp_flags: dict[str, list[str]] = field(default_factory=dict)
    #: per system key, per metric, the error spans marked in that hypothesis
    spans: dict[str, dict[str, list[ErrorSpanInfo]]] = field(default_factory=dict)
    #: the row's text in each further reference
    more_refs: tuple[str, ...] = ()

    @property
    def key(self) -> RowKey:
        return (self.doc_id, self.src_ids, self.ref_ids)


@dataclass(frozen=True)
class CompareWarning:
    """Something a reader of a comparison must know, with its kind, so a printer can
    choose where it goes without reading the text: `forced` (runs compared despite
    differences; also sent to stderr), `metrics-left-out`, `rows-left-out`,
    `recomputed` (statistics computed under another signature), `no-rows`, `few-rows`."""

    kind: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Pool:
    """Everything a comparison needs: systems, metrics, matched rows, and what to warn about."""

    runs: list[Run]
    systems: list[SystemRef]
    metrics: list[MetricInfo]
    rows: list[Row]
    warnings: list[CompareWarning] = field(default_factory=list)
    #: where segment statistics computed before can be read (the cache file), if anywhere
    statistics: Any = None
    #: each metric's data once computed (evalkit/compare/significance.py `metric_data`),
    #: shared by the comparison and its breakdowns
    computed: dict[str, Any] = field(default_factory=dict)

    @property
    def test_set(self) -> str:
        ts = self.runs[0].record.test_set
        return f"{ts.name} {ts.hash.split(':')[-1][:8]}"

    def system(self, name: str) -> SystemRef:
        """A system by key, or by label when that label is unique."""
        for system in self.systems:
            if system.key == name:
                return system
        by_label = [s for s in self.systems if s.label == name]
        if len(by_label) == 1:
            return by_label[0]
        keys = ", ".join(s.key for s in self.systems)
        if by_label:
            raise UserInputError(f"system {name!r} is in several runs; name one of: {keys}")
        raise UserInputError(f"no system {name!r} in the compared runs (systems: {keys})")


def _alignments(record: RunRecord) -> dict[str, Any]:
    """Per document, the alignment's signature and links: what must agree for rows to pair."""
    return {
        a.doc_id: {"signature": a.signature, "links": [(link.src, link.ref) for link in a.links]}
        for a in record.alignment
    }


def comparability_problems(records: Sequence[RunRecord], metrics: Sequence[str] | None = None):
    """What makes these runs' numbers incomparable: test set, metric signatures, alignment.

    Returns one sentence per problem; an empty list means the runs compare. `metrics`
    limits the signature check to the metrics being compared (default: every metric).
    """
    problems: list[str] = []
    if len(records) < 2:
        return problems
    first = records[0]
    for other in records[1:]:
        if other.test_set.hash != first.test_set.hash:
            problems.append(
                f"test sets differ: run {first.run_id} has {first.test_set.name} "
                f"{first.test_set.hash}, run {other.run_id} has {other.test_set.name} "
                f"{other.test_set.hash}"
            )
        wanted = set(metrics) if metrics is not None else None
        theirs = {m.name: m.signature for m in other.metrics}
        for m in first.metrics:
            if wanted is not None and m.name not in wanted:
                continue
            if m.name in theirs and theirs[m.name] != m.signature:
                problems.append(
                    f"{m.name} signatures differ: run {first.run_id} has {m.signature!r}, "
                    f"run {other.run_id} has {theirs[m.name]!r}"
                )
        mine, their_alignment = _alignments(first), _alignments(other)
        if mine != their_alignment:
            parts = sorted(
                doc
                for doc in set(mine) | set(their_alignment)
                if mine.get(doc) != their_alignment.get(doc)
            )
            where = f" (documents {', '.join(parts)})"
            problems.append(
                f"alignments differ between run {first.run_id} and run {other.run_id}{where}"
            )
    return problems


def _system_keys(runs: Sequence[Run]) -> list[SystemRef]:
    labels = [(s.label, run.record.run_id) for run in runs for s in run.record.systems]
    counts: dict[str, int] = {}
    for label, _ in labels:
        counts[label] = counts.get(label, 0) + 1
    refs = []
    for label, run_id in labels:
        key = label
        if counts[label] > 1:
            short = run_id[16:] if len(run_id) > 16 else run_id
            key = f"{label}@{short}"
        refs.append(SystemRef(key, label, run_id))
    if len({r.key for r in refs}) < len(refs):  # short ids collide: use whole run ids
        refs = [
            SystemRef(
                f"{r.label}@{r.run_id}" if counts[r.label] > 1 else r.label, r.label, r.run_id
            )
            for r in refs
        ]
    if len({r.key for r in refs}) < len(refs):
        raise UserInputError("the same run is named twice")
    return refs


def pool_runs(
    runs: Sequence[Run], metrics: Sequence[str] | None = None, force: bool = False
) -> Pool:
    """Match the rows of several runs and check that their numbers compare."""
    if not runs:
        raise UserInputError("name at least one run")
    records = [run.record for run in runs]
    shared = [
        m for m in records[0].metrics if all(m.name in {x.name for x in r.metrics} for r in records)
    ]
    warnings: list[CompareWarning] = []
    if metrics:
        known = {m.name for m in shared}
        unknown = [name for name in metrics if name not in known]
        if unknown:
            raise UserInputError(
                f"metric {unknown[0]!r} is not in every compared run "
                f"(shared metrics: {', '.join(sorted(known)) or 'none'})"
            )
        chosen = [m for m in shared if m.name in set(metrics)]
    else:
        chosen = shared
        dropped = sorted({m.name for r in records for m in r.metrics} - {m.name for m in shared})
        if dropped:
            warnings.append(
                CompareWarning(
                    "metrics-left-out", f"left out metrics not in every run: {', '.join(dropped)}"
                )
            )
    problems = comparability_problems(records, [m.name for m in chosen])
    if problems and not force:
        raise UserInputError(
            "runs do not compare: " + "; ".join(problems) + " (--force compares anyway)"
        )
    warnings += [CompareWarning("forced", f"compared despite: {p}") for p in problems]
    # runs of one test set aligned alike give the same line: said once
    unreliable = dict.fromkeys(line for r in records for line in alignment_warnings(r.alignment))
    warnings += [CompareWarning("alignment-unreliable", line) for line in unreliable]

    systems = _system_keys(runs)
    by_run: dict[str, list[SystemRef]] = {}
    for system in systems:
        by_run.setdefault(system.run_id, []).append(system)
    matched: dict[RowKey, Row] = {}
    order: list[RowKey] = []
    present: dict[RowKey, int] = {}
    for run in runs:
        seen: set[RowKey] = set()
        for segment in run.rows:
            key = (segment.doc_id, tuple(segment.src_ids), tuple(segment.ref_ids))
            if key in seen:
                continue
            seen.add(key)
            row = matched.get(key)
            if row is None:
                row = Row(
                    key[0],
                    key[1],
                    key[2],
                    segment.src,
                    segment.ref,
                    confidence=segment.confidence,
                    flags=tuple(segment.flags),
                    more_refs=tuple(segment.more_refs),
                )
                matched[key] = row
                order.append(key)
            for system in by_run[run.record.run_id]:
                if system.label in segment.hyp:
                    row.hyp[system.key] = segment.hyp[system.label]
                    row.scores[system.key] = dict(segment.scores.get(system.label, {}))
                    if segment.hyp_flags.get(system.label):
                        row.hyp_flags[system.key] = list(segment.hyp_flags[system.label])
                    if segment.spans.get(system.label):
                        row.spans[system.key] = segment.spans[system.label]
            present[key] = present.get(key, 0) + 1
    rows = [matched[k] for k in order if present[k] == len(runs)]
    if len(rows) < len(order):
        warnings.append(
            CompareWarning(
                "rows-left-out",
                f"{len(order) - len(rows)} of {len(order)} rows are not in every run and are "
                "left out",
            )
        )
    return Pool(list(runs), systems, chosen, rows, warnings)
