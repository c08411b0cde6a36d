"""mt-metrics-eval's human scores (`human-scores/LP.NAME.seg.score` of a test-set folder)
as judgments of a run of that folder.

The file, as mt-metrics-eval's `ReadScoreFile` reads it: one line per system and segment,
`SYSTEM SCORE` (whitespace between), a system's k-th line scoring the pair's k-th segment
(the k-th line of `sources/LP.txt`), `None` where there is no score. Only segment-level
files are judgments of segments: `.sys`, `.domain` and `.doc` files are refused.

Each score is one finished judgment, whose annotator is NAME (mt-metrics-eval's scores are
already averaged over raters) and whose protocol follows NAME: `mqm...` MQM (the score is
the file's MQM total, kept as it is: there are no spans to count), `esa...` ESA, anything
else (`wmt-raw`, `wmt-z`, `da-sqm`, ...) DA. The segment's document and position come from
`documents/LP.docs` next to `human-scores/`; judgments join the run's rows by
evalkit.judgments.positional's rule, the translation checked against
`system-outputs/LP/SYSTEM.txt` when it is there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.corpus.formats.common import output_label
from evalkit.corpus.formats.mtme import pair_lines, segment_places
from evalkit.corpus.textfile import read_lines
from evalkit.errors import UserInputError
from evalkit.judgments.join import Unmatched
from evalkit.judgments.model import Judgment, Protocol
from evalkit.judgments.positional import Claim, RunRows

SUFFIX = ".score"
LEVELS = ("sys", "domain", "doc", "seg")


@dataclass
class MtmeJudgments:
    judgments: list[Judgment] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    #: the file's lines
    rows: int = 0


def looks_like_mtme_scores(path: Path) -> bool:
    """`LP.NAME.LEVEL.score`, as mt-metrics-eval names its human-score files."""
    parts = path.name.split(".")
    return path.suffix == SUFFIX and len(parts) >= 4 and parts[-2] in LEVELS


def score_protocol(name: str) -> Protocol:
    lowered = name.lower()
    if lowered.startswith("mqm"):
        return "mqm"
    if lowered.startswith("esa"):
        return "esa"
    return "da"


def read_mtme_scores(path: Path, run_id: str, rows: RunRows) -> MtmeJudgments:
    """The scores of the file that join rows of the run, and those that join none; a line
    that is not `SYSTEM SCORE`, or a system with more or fewer lines than the pair has
    segments: an error naming the line (or the file)."""
    pair, name, level = _parse_name(path)
    if level != "seg":
        raise UserInputError(
            f"{level}-level scores are not judgments of segments: import LP.NAME.seg.score",
            path,
        )
    folder = path.parent.parent
    sources = folder / "sources" / f"{pair}.txt"
    if not sources.is_file():
        raise UserInputError(
            f"no sources/{pair}.txt next to this file: it must lie in the human-scores/ "
            "folder of its mt-metrics-eval test set",
            path,
        )
    source = pair_lines(sources)
    places = segment_places(folder, pair, len(source))
    lines = read_lines(path)
    found = MtmeJudgments(rows=len(lines))
    seen: dict[str, int] = {}
    outputs: dict[str, list[str] | None] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        system, score = _fields(line, path, number)
        k = seen.get(system, 0)
        if k >= len(source):
            raise UserInputError(
                f"more scores for {system!r} than the pair has segments ({len(source)})",
                path,
                number,
            )
        seen[system] = k + 1
        if score is None:
            continue
        if system not in outputs:
            outputs[system] = _output(folder, pair, system, len(source))
        output = outputs[system]
        claim = Claim(
            system=output_label(system),
            doc_id=places[k].doc_id,
            position=places[k].position,
            source=source[k],
            target=output[k] if output is not None else None,
            annotator=name,
            line=number,
            seg_id=str(k + 1),
        )
        joined = rows.join(claim)
        if isinstance(joined, Unmatched):
            found.unmatched.append(joined)
            continue
        found.judgments.append(
            Judgment(
                run_id=run_id,
                segment_id=joined.id,
                system=claim.system,
                annotator=name,
                protocol=score_protocol(name),
                score=score,
                target=joined.hyp.get(claim.system, ""),
                complete=True,
                origin=f"mt-metrics-eval:{path.name}",
            )
        )
    short = sorted(system for system, count in seen.items() if count != len(source))
    if short:
        raise UserInputError(
            f"{seen[short[0]]} scores for {short[0]!r}, but the pair has {len(source)} "
            "segments (one line per system and segment)",
            path,
        )
    return found


def _parse_name(path: Path) -> tuple[str, str, str]:
    """`LP.NAME.LEVEL.score` -> (LP, NAME, LEVEL), as mt-metrics-eval parses it."""
    parts = path.name.split(".")
    if not looks_like_mtme_scores(path):
        raise UserInputError(
            "not an mt-metrics-eval human-score file name (LP.NAME.LEVEL.score)", path
        )
    return parts[0], ".".join(parts[1:-2]), parts[-2]


def _fields(line: str, path: Path, number: int) -> tuple[str, float | None]:
    fields = line.split()
    if len(fields) != 2:
        raise UserInputError(f"expected 'SYSTEM SCORE', found {len(fields)} fields", path, number)
    system, raw = fields
    if raw == "None":
        return system, None
    try:
        score = float(raw)
    except ValueError:
        raise UserInputError(f"score {raw!r} is not a number or None", path, number) from None
    if not math.isfinite(score):
        raise UserInputError(f"score {raw!r} is not finite", path, number)
    return system, score


def _output(folder: Path, pair: str, system: str, count: int) -> list[str] | None:
    """The system's output lines, to check the translation judged; None when the folder has
    none (a human system), or when they are not the pair's lines."""
    path = folder / "system-outputs" / pair / f"{system}.txt"
    if not path.is_file():
        return None
    lines = pair_lines(path)
    return lines if len(lines) == count else None
