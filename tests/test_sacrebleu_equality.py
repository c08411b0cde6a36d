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


def _second_translator(line: str, index: int) -> str:
    """Another reference of the same line, sharing other words with the hypothesis: other
    words dropped and swapped, clauses reordered on every third line."""
    words = _degrade(line, index + 1).split()
    half = len(words) // 2
    return " ".join(words[half:] + words[:half] if index % 3 == 1 else words)


@pytest.mark.parametrize("count", [2, 3])
def test_several_references_equal_the_sacrebleu_cli(cli, file_pair, tmp_path, count):
    ref, hyp = file_pair
    refs = [ref]
    for k in range(1, count):
        extra = tmp_path / f"ref{k + 1}.en"
        lines = ref.read_text(encoding="utf-8").splitlines()
        extra.write_text(
            "\n".join(_second_translator(line, i + k) for i, line in enumerate(lines)) + "\n",
            encoding="utf-8",
        )
        refs.append(extra)
    command = [sys.executable, "-m", "sacrebleu", *map(str, refs), "-i", str(hyp), "-w", "4"]
    out = subprocess.run(
        [*command, "-m", "bleu", "chrf", "ter"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    bleu, chrf, ter = json.loads(out)
    options = [arg for r in refs for arg in ("--ref", r)]
    metrics = ("--metric", "bleu", "--metric", "chrf", "--metric", "ter")
    result = cli("score", *options, "--hyp", hyp, *metrics, "--json")
    assert result.exit_code == 0, result.output
    ours = json.loads(result.stdout)["systems"]["hyp.en"]
    one_ref = json.loads(cli("score", "--ref", ref, "--hyp", hyp, *metrics, "--json").stdout)
    assert ours["bleu"]["score"] != one_ref["systems"]["hyp.en"]["bleu"]["score"]
    for name, theirs in {"bleu": bleu, "chrf": chrf, "ter": ter}.items():
        assert round(ours[name]["score"], 4) == pytest.approx(theirs["score"], abs=1e-9), name
        assert ours[name]["signature"] == theirs["signature"], name
        assert f"nrefs:{count}" in ours[name]["signature"]


def test_a_reference_missing_on_some_lines_scores_as_sacrebleu_with_none(cli, tmp_path):
    """A blank line in a further reference file: no second reference for that line, as
    sacrebleu's API scores None, and the signature says nrefs:var."""
    from sacrebleu.metrics import BLEU, CHRF

    first = ["the cat sat on the mat", "it is raining in the city today", "hello world"]
    second = ["a cat was sitting on the mat", "", "hello there, world"]
    hyps = ["the cat is on the mat", "it rains in town today", "hello world"]
    paths = {}
    for name, lines in (("a", first), ("b", second), ("h", hyps)):
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli(
        "score", "--ref", paths["a"], "--ref", paths["b"], "--hyp", paths["h"],
        "--metric", "bleu", "--metric", "chrf", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ours = json.loads(result.stdout)["systems"]["h.txt"]
    streams = [first, [line or None for line in second]]
    assert ours["bleu"]["score"] == pytest.approx(BLEU().corpus_score(hyps, streams).score)
    assert ours["chrf"]["score"] == pytest.approx(CHRF().corpus_score(hyps, streams).score)
    assert "nrefs:var" in ours["bleu"]["signature"]
