"""A stored run of any size for the report's tests and bench (bench/report_scale.py).

Built directly as a run folder (record and segment rows), no translation or scoring: what
the report shows is what matters, so every field a row can carry is filled somewhere:
scores for eleven metrics (lexical ones under their real signatures, so a comparison
resamples them as it would a real run), alignment confidence and flags on some rows,
`truncated` flags on some hypotheses, xCOMET-style error spans, further references, and,
when asked, hostile text. Everything comes from one seeded random generator, so a size
and seed always give the same run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from evalkit.errors import UserInputError
from evalkit.record import (
    DocumentInfo,
    ErrorSpanInfo,
    MetricInfo,
    RunRecord,
    SegmentRow,
    SystemInfo,
    SystemResult,
    TestSetInfo,
    write_run,
)
from tests.compare_data import ARABIC
from tests.compare_data import ENGLISH as WORDS

SYSTEMS = ("base", "sys-a", "sys-b", "sys-c")
#: (name, higher is better, needs a reference): the lexical metrics first
METRICS = (
    ("bleu", True, True),
    ("chrf", True, True),
    ("ter", False, True),
    ("bertscore", True, True),
    ("comet", True, True),
    ("cometkiwi", True, False),
    ("xcomet", True, True),
    ("xqe", True, False),
    ("off_target", False, False),
    ("numbers", False, False),
    ("repetition", False, False),
)
#: the metric whose error spans the rows carry
SPAN_METRIC = "xcomet"


def _signature(name: str, rows: Sequence[SegmentRow]) -> str:
    """The real signature of a lexical metric (its references counted), so that a
    comparison reads the run as it reads one `evalkit run` wrote; a made-up one for the
    others, whose stored segment scores a comparison averages (their signature could need
    a model)."""
    from evalkit.align.units import references_of
    from evalkit.metrics import create_metrics
    from evalkit.scoring.system import count_references

    try:
        (metric,) = create_metrics([name])
    except UserInputError:  # not a metric of this install
        return f"{name}|synthetic"
    if metric.resampling != "statistics":
        return f"{name}|synthetic"
    count_references([metric], [references_of(r.ref, r.more_refs) for r in rows])
    return metric.signature()


def _weaken(rng: random.Random, words: list[str], strength: float) -> str:
    out = [
        w if rng.random() > strength else rng.choice(WORDS) for w in words if rng.random() > 0.05
    ]
    return " ".join(out or words[:1])


def _words(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(count)]


def _spans(rng: random.Random, text: str) -> list[ErrorSpanInfo]:
    """One to three non-overlapping spans on word boundaries."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == " "]
    picked = sorted(rng.sample(starts, min(len(starts), rng.randint(1, 3))))
    spans = []
    for start in picked:
        end = text.find(" ", start)
        end = len(text) if end < 0 else end
        if spans and start < spans[-1].end:
            continue
        spans.append(
            ErrorSpanInfo(
                start=start,
                end=end,
                severity=rng.choice(["minor", "major", "critical"]),
                confidence=round(rng.random(), 2),
                text=text[start:end],
            )
        )
    return spans


def synthetic_rows(
    segments: int,
    *,
    seed: int = 1,
    per_document: int = 80,
    texts: Sequence[tuple[str, str]] | None = None,
    hostile: Sequence[str] = (),
    first_doc: str | None = None,
    more_refs: int = 1,
) -> list[SegmentRow]:
    """`segments` rows over documents of `per_document` rows. `texts`: (source, reference)
    pairs to use in turn (random words otherwise); `hostile`: strings placed in turn as
    reference and hypothesis of the first rows; `first_doc`: the first document's id;
    `more_refs`: further references on every tenth row. Every fiftieth row has no
    reference."""
    rng = random.Random(seed)
    rows = []
    for i in range(segments):
        doc, line = f"doc{i // per_document:04d}", i % per_document + 1
        if first_doc is not None and i < per_document:
            doc = first_doc
        if texts:
            src, ref = texts[i % len(texts)]
        else:
            length = rng.randint(25, 55)
            src, ref = (
                " ".join(rng.choice(ARABIC) for _ in range(length)),
                " ".join(_words(rng, length)),
            )
        words = ref.split()
        hyp = {k: _weaken(rng, words, 0.1 + 0.15 * n) for n, k in enumerate(SYSTEMS)}
        if i < len(hostile):
            ref = hostile[i]
            hyp[SYSTEMS[1]] = hostile[i]
        scores = {
            k: {
                name: None
                if name == "xqe" and rng.random() < 0.01
                else round(rng.uniform(0, 100), 4)
                for name, _, _ in METRICS
            }
            for k in SYSTEMS
        }
        aligned = i % 3 == 0
        flags = ["low-confidence"] if aligned and rng.random() < 0.1 else []
        rows.append(
            SegmentRow(
                doc_id=doc,
                src_ids=[line],
                ref_ids=[line],
                src=src,
                ref=None if i % 50 == 49 else ref,
                hyp=hyp,
                scores=scores,
                more_refs=[_weaken(rng, words, 0.3) for _ in range(more_refs)]
                if i % 10 == 0
                else [],
                confidence=round(rng.uniform(0.2, 1.0), 3) if aligned else None,
                flags=flags,
                hyp_flags={k: ["truncated"] for k in SYSTEMS if rng.random() < 0.01},
                spans={
                    k: {SPAN_METRIC: _spans(rng, hyp[k])}
                    for k in SYSTEMS
                    if hyp[k] and rng.random() < 0.2
                },
            )
        )
    return rows


def write_report_run(
    results_dir: Path,
    segments: int,
    *,
    run_id: str = "20260101-000000-report-0001",
    name: str = "report-scale",
    **options: object,
) -> RunRecord:
    """Store a synthetic run of `segments` rows (options as for `synthetic_rows`)."""
    rows = synthetic_rows(segments, **options)  # type: ignore[arg-type]
    more = max((len(r.more_refs) for r in rows), default=0)
    documents: dict[str, int] = {}
    for row in rows:
        documents[row.doc_id] = documents.get(row.doc_id, 0) + 1
    record = RunRecord(
        run_id=run_id,
        name=name,
        command=["evalkit", "run"],
        unit="line",
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:00:01+00:00",
        duration_s=1.0,
        test_set=TestSetInfo(
            name="report-scale",
            origin="synthetic",
            hash="sha256:0",
            tgt_lang="en",
            documents=[
                DocumentInfo(
                    id=doc,
                    src_lang="ar",
                    source_segments=count,
                    reference_segments=count,
                    aligned=True,
                    scored_as="segments",
                    more_reference_segments=[count] * more,
                )
                for doc, count in documents.items()
            ],
        ),
        systems=[
            SystemInfo(
                label=label,
                spec=f"files:{label}",
                kind="files",
                fingerprint={},
                fingerprint_hash=label,
                seconds=0.0,
                units=len(rows),
            )
            for label in SYSTEMS
        ],
        metrics=[
            MetricInfo(name=n, signature=_signature(n, rows), higher_is_better=h, needs_reference=r)
            for n, h, r in METRICS
        ],
        scores={
            k: SystemResult(corpus={n: 50.0 for n, _, _ in METRICS}, documents={}) for k in SYSTEMS
        },
        notes=[],
        environment={},
    )
    write_run(results_dir, record, rows)
    return record
