"""evalkit's BLEU, chrF, chrF++ and TER equal the sacrebleu command line on the same files."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.synthetic_parallel import make_pair


def _degrade(line: str, index: int) -> str:
    """A plausible imperfect translation: drop, swap and re-case words, line by line."""
    words = line.split()
    words = [w for i, w in enumerate(words) if (i + index) % 7 != 3]
    if index % 2 and len(words) > 3:
        words[1], words[2] = words[2], words[1]
    text = " ".join(words)
    return text.lower() if index % 3 == 0 else text


@pytest.fixture
def file_pair(tmp_path: Path) -> tuple[Path, Path]:
    # real English prose, paragraph-long lines: verses of a synthetic document
    reference = make_pair(random.Random(4), paragraphs=15).ref
    ref = tmp_path / "ref.en"
    hyp = tmp_path / "hyp.en"
    ref.write_text("\n".join(reference) + "\n", encoding="utf-8")
    hyp.write_text("\n".join(_degrade(line, i) for i, line in enumerate(reference)) + "\n", "utf-8")
    return ref, hyp


def _sacrebleu_cli(ref: Path, hyp: Path, *args: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "sacrebleu", str(ref), "-i", str(hyp), "-w", "4", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    parsed = json.loads(out)
    return parsed if isinstance(parsed, list) else [parsed]


def test_all_four_metrics_equal_the_sacrebleu_cli(cli, file_pair):
    ref, hyp = file_pair
    bleu, chrf, ter = _sacrebleu_cli(ref, hyp, "-m", "bleu", "chrf", "ter")
    (chrf_pp,) = _sacrebleu_cli(ref, hyp, "-m", "chrf", "--chrf-word-order", "2")
    metrics = ("--metric", "bleu", "--metric", "chrf", "--metric", "chrf++", "--metric", "ter")
    result = cli("score", "--ref", ref, "--hyp", hyp, *metrics, "--json")
    assert result.exit_code == 0, result.output
    ours = json.loads(result.stdout)["systems"]["hyp.en"]
    expected = {"bleu": bleu, "chrf": chrf, "chrf++": chrf_pp, "ter": ter}
    assert set(ours) == set(expected)
    assert 0 < bleu["score"] < 100  # a real, imperfect pair
    for name, theirs in expected.items():
        assert round(ours[name]["score"], 4) == pytest.approx(theirs["score"], abs=1e-9), name
        assert ours[name]["signature"] == theirs["signature"], name
