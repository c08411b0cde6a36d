"""A small stored run for the judging tests: Arabic sources in two documents, English
translations by two systems whose labels never occur in any text (so a test can tell
whether the page leaks them)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from evalkit.record import (
    DocumentInfo,
    RunRecord,
    SegmentRow,
    SystemInfo,
    TestSetInfo,
    write_run,
)

SYSTEMS = ("sysLabelAlpha", "sysLabelBeta")
#: (document, Arabic source, English translation); each system changes it recognisably
SEGMENTS = [
    ("docA", "ذهب الولد إلى المدرسة صباحا.", "The boy went to school in the morning."),
    ("docA", "كانت السماء صافية والشمس مشرقة.", "The sky was clear and the sun was shining."),
    ("docA", "قرأ المعلم قصة قصيرة للتلاميذ.", "The teacher read a short story to the pupils."),
    ("docA", "ثم عاد الجميع إلى بيوتهم.", "Then everyone went back to their homes."),
    ("docB", "افتتحت المكتبة الجديدة أبوابها أمس.", "The new library opened its doors yesterday."),
    (
        "docB",
        "حضر الافتتاح عدد كبير من السكان.",
        "A large number of residents attended the opening.",
    ),
    ("docB", "تضم المكتبة آلاف الكتب العربية.", "The library holds thousands of Arabic books."),
    ("docB", "وستفتح كل يوم حتى المساء.", "It will open every day until the evening."),
]


def translation(system: str, text: str) -> str:
    return text if system == SYSTEMS[0] else text.replace("The ", "A ", 1) + " Indeed."


def rows() -> list[SegmentRow]:
    numbers: dict[str, int] = {}
    out = []
    for doc, src, ref in SEGMENTS:
        numbers[doc] = numbers.get(doc, 0) + 1
        line = numbers[doc]
        out.append(
            SegmentRow(
                doc_id=doc,
                src_ids=[line],
                ref_ids=[line],
                src=src,
                ref=ref,
                hyp={system: translation(system, ref) for system in SYSTEMS},
                scores={},
            )
        )
    return out


def write_judge_run(results_dir: Path, run_id: str = "20260101-000000-judge-0001") -> RunRecord:
    """Store the run in `results_dir` and return its record."""
    docs = sorted({doc for doc, _, _ in SEGMENTS})
    record = RunRecord(
        run_id=run_id,
        name="judge",
        command=["evalkit", "run"],
        unit="line",
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:00:01+00:00",
        duration_s=1.0,
        test_set=TestSetInfo(
            name="judge-test",
            origin="test",
            hash="sha256:0",
            tgt_lang="en",
            documents=[
                DocumentInfo(
                    id=doc,
                    src_lang="ar",
                    source_segments=4,
                    reference_segments=4,
                    aligned=False,
                    scored_as="aligned",
                )
                for doc in docs
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
                units=len(SEGMENTS),
            )
            for label in SYSTEMS
        ],
        metrics=[],
        scores={},
        notes=[],
        environment={},
    )
    write_run(results_dir, record, rows())
    return record


ROOT = Path(__file__).resolve().parents[1]


def start_judge(results_dir: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """`evalkit judge ARGS --port 0` as a real process, and the URL it printed."""
    code = "from evalkit.cli import app; app(prog_name='evalkit')"
    env = dict(os.environ, PYTHONPATH=str(ROOT), EVALKIT_RESULTS=str(results_dir), COLUMNS="200")
    server = subprocess.Popen(
        [sys.executable, "-c", code, "judge", *args, "--port", "0"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    printed: list[str] = []
    found = None
    while not found and len(printed) < 4:  # a line or two about the items, then the URL
        printed.append(server.stdout.readline().decode())  # type: ignore[union-attr]
        found = re.search(r"http://127\.0\.0\.1:\d+/", printed[-1])
    if not found:
        server.kill()
        _, stderr = server.communicate(timeout=30)
        raise AssertionError(f"no URL printed: {printed} {stderr.decode()[-2000:]}")
    return server, found.group(0)
