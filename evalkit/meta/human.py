"""Human scores of a stored run: judgments read from the store or a JSONL file, joined to
the run's rows and systems, and turned into one matrix (systems, items) per annotator and
one averaged over annotators.

What counts:
  - judgments of the run, or of the runs it was scored again from (`rescored_from`: a
    rescored run has the same translations, and its judgments were made on the original);
  - finished judgments only (`human_score` is not None), attention checks left out (their
    translation is a planted bad one, not the system's);
  - one protocol: ESA, MQM and DA scores are on different scales and must not be averaged
    together; by default the protocol with the most judgments, the others counted as left out;
  - several annotators of the same segment and system: the mean of their scores (and the
    pair of them feeds the inter-annotator agreement);
  - on request (`scale="z"`), each annotator's scores as z-scores over all of that
    annotator's judgments here, WMT's practice for DA: a harsh and a lenient annotator
    then count alike. An annotator whose scores are all equal has no z-score and is left
    out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from evalkit.errors import UserInputError
from evalkit.judgments.model import PROTOCOLS, Judgment, human_score
from evalkit.judgments.store import JUDGMENTS_FILE, JudgmentStore
from evalkit.record import RunRecord, SegmentRow, find_run, read_record

Scale = Literal["raw", "z"]
SCALES: tuple[Scale, ...] = ("raw", "z")


@dataclass
class HumanScores:
    """The human side of a meta-evaluation: whose judgments, and the scores they give."""

    #: where the judgments came from (the store's file or the JSONL file)
    source: str
    protocol: str | None
    #: the run and the runs it was rescored from, whose judgments were looked at
    run_ids: list[str]
    #: systems and items (segment ids) with at least one usable judgment, in run order
    systems: list[str]
    items: list[str]
    #: mean over annotators, (systems, items), NaN where nobody judged
    matrix: np.ndarray
    #: each annotator's own scores, same shape
    by_annotator: dict[str, np.ndarray]
    #: judgments that went into `matrix`
    judgments: int
    #: judgments left out, by reason
    excluded: dict[str, int] = field(default_factory=dict)
    #: "raw": the protocol's scores; "z": each annotator's scores standardised
    scale: Scale = "raw"

    @property
    def annotators(self) -> list[str]:
        return sorted(self.by_annotator)

    @property
    def cells(self) -> int:
        """(item, system) pairs with a human score."""
        return int(np.sum(~np.isnan(self.matrix)))


def run_lineage(record: RunRecord, results_dir: Path) -> list[str]:
    """The run's id, then the run it was rescored from, and so on while those are stored."""
    ids = [record.run_id]
    parent = record.rescored_from
    while parent and parent not in ids:
        ids.append(parent)
        try:
            parent = read_record(find_run(results_dir, parent)).rescored_from
        except UserInputError:
            break
    return ids


def read_judgments(source: Path | None, results_dir: Path) -> tuple[list[Judgment], str]:
    """Every judgment of a source: the store in `results_dir` (None) or a JSONL file."""
    if source is None:
        path = results_dir / JUDGMENTS_FILE
        if not path.is_file():
            return [], str(path)
        return JudgmentStore(path).judgments(), str(path)
    if not source.is_file():
        raise UserInputError("no such judgments file", source)
    if source.suffix == ".sqlite":
        return JudgmentStore(source).judgments(), str(source)
    from evalkit.judgments import jsonl

    return [judgment for _, judgment in jsonl.read(source)], str(source)


def human_scores(
    judgments: Iterable[Judgment],
    run_ids: Sequence[str],
    rows: Sequence[SegmentRow],
    systems: Sequence[str],
    source: str,
    protocol: str | None = None,
    scale: Scale = "raw",
) -> HumanScores:
    """Join judgments to the run's rows and systems and average them per cell."""
    if protocol is not None and protocol not in PROTOCOLS:
        raise UserInputError(f"unknown protocol {protocol!r} (one of {', '.join(PROTOCOLS)})")
    if scale not in SCALES:
        raise UserInputError(f"unknown scale {scale!r} (one of {', '.join(SCALES)})")
    excluded: Counter[str] = Counter()
    row_ids = {row.id for row in rows}
    wanted = set(run_ids)
    usable: list[tuple[Judgment, float]] = []
    for judgment in judgments:
        if judgment.run_id not in wanted:
            continue  # another run's judgment: not counted anywhere
        score = human_score(judgment)
        if judgment.attention_check:
            excluded["attention checks"] += 1
        elif score is None:
            excluded["unfinished"] += 1
        elif judgment.segment_id not in row_ids or judgment.system not in systems:
            excluded["segment or system not in the run"] += 1
        else:
            usable.append((judgment, score))
    per_protocol = Counter(judgment.protocol for judgment, _ in usable)
    if protocol is None and per_protocol:
        protocol = max(sorted(per_protocol), key=lambda p: per_protocol[p])
    for other, count in per_protocol.items():
        if other != protocol:
            excluded[f"protocol {other} (scores on another scale)"] += count
    chosen = [(j, s) for j, s in usable if j.protocol == protocol]
    if scale == "z":
        chosen, constant = z_scores(chosen)
        if constant:
            excluded["annotators with all scores equal (no z-score)"] += constant

    judged_systems = {j.system for j, _ in chosen}
    judged_items = {j.segment_id for j, _ in chosen}
    system_list = [s for s in systems if s in judged_systems]
    item_list = list(dict.fromkeys(row.id for row in rows if row.id in judged_items))
    s_index = {s: i for i, s in enumerate(system_list)}
    i_index = {s: i for i, s in enumerate(item_list)}

    sums: dict[str, defaultdict[tuple[int, int], list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for judgment, score in chosen:
        cell = (s_index[judgment.system], i_index[judgment.segment_id])
        sums[judgment.annotator][cell].append(score)
    shape = (len(system_list), len(item_list))
    by_annotator = {}
    for annotator, cells in sums.items():
        matrix = np.full(shape, np.nan)
        for (s, i), scores in cells.items():
            matrix[s, i] = float(np.mean(scores))  # one annotator twice (a JSONL): the mean
        by_annotator[annotator] = matrix
    if by_annotator:
        with np.errstate(invalid="ignore"):
            stacked = np.stack(list(by_annotator.values()))
            counts = np.sum(~np.isnan(stacked), axis=0)
            mean = np.where(counts > 0, np.nansum(stacked, axis=0) / np.maximum(counts, 1), np.nan)
    else:
        mean = np.full(shape, np.nan)
    return HumanScores(
        source=source,
        protocol=protocol,
        run_ids=list(run_ids),
        systems=system_list,
        items=item_list,
        matrix=mean,
        by_annotator=by_annotator,
        judgments=len(chosen),
        excluded=dict(sorted(excluded.items())),
        scale=scale,
    )


def z_scores(
    scored: Sequence[tuple[Judgment, float]],
) -> tuple[list[tuple[Judgment, float]], int]:
    """Each annotator's scores minus that annotator's mean, over the population standard
    deviation of them; and how many judgments were dropped because their annotator's
    scores were all equal (one judgment included)."""
    by_annotator: defaultdict[str, list[float]] = defaultdict(list)
    for judgment, score in scored:
        by_annotator[judgment.annotator].append(score)
    moments = {a: (float(np.mean(v)), float(np.std(v))) for a, v in by_annotator.items()}
    standardised, dropped = [], 0
    for judgment, score in scored:
        mean, deviation = moments[judgment.annotator]
        if deviation == 0.0:
            dropped += 1
        else:
            standardised.append((judgment, (score - mean) / deviation))
    return standardised, dropped
