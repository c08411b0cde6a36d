"""A small line-aligned Arabic→English test set with three systems of known quality.

`good` is the reference with light word noise, `near` is `good` with two segments changed
trivially (a full stop, a capital), `worse` is the reference with heavy word noise, `alt` is
the reference with light noise drawn independently of `good` (a genuinely different system
of about the same quality).
"""

from __future__ import annotations

import random
from pathlib import Path

ARABIC = [
    "قال",
    "الوزير",
    "إن",
    "الحكومة",
    "ستعمل",
    "على",
    "حماية",
    "المواطنين",
    "في",
    "البصرة",
    "بعد",
    "الهجمات",
    "الأخيرة",
]
ENGLISH = [
    "the",
    "minister",
    "said",
    "government",
    "will",
    "work",
    "to",
    "protect",
    "citizens",
    "in",
    "basra",
    "after",
    "recent",
    "attacks",
    "police",
    "security",
    "forces",
    "city",
    "officials",
    "news",
    "agency",
    "reported",
    "on",
    "monday",
]
SEGMENTS = 40


def _noisy(rng: random.Random, words: list[str], p: float) -> str:
    return " ".join(w if rng.random() > p else rng.choice(ENGLISH) for w in words)


def write_systems(folder: Path) -> dict[str, Path]:
    """Source, reference and three system outputs, one segment per line."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    src, ref, good, worse = [], [], [], []
    for _ in range(SEGMENTS):
        n = rng.randint(6, 18)
        src.append(" ".join(rng.choice(ARABIC) for _ in range(n)))
        words = [rng.choice(ENGLISH) for _ in range(n)]
        ref.append(" ".join(words))
        good.append(_noisy(rng, words, 0.2))
        worse.append(_noisy(rng, words, 0.7))
    near = list(good)
    near[3] += " ."
    near[25] = near[25].capitalize()
    other_rng = random.Random(8)
    alt = [_noisy(other_rng, line.split(), 0.22) for line in ref]
    files = {"src": src, "ref": ref, "good": good, "near": near, "worse": worse, "alt": alt}
    paths = {}
    for name, lines in files.items():
        paths[name] = folder / f"{name}.txt"
        paths[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def run_args(paths: dict[str, Path], *systems: str) -> list[str]:
    """`evalkit run` arguments for the test set and the named systems."""
    args = ["run", "--src", str(paths["src"]), "--ref", str(paths["ref"]), "--json"]
    args += ["--metric", "bleu", "--metric", "chrf", "--metric", "chrf++", "--metric", "ter"]
    args += ["--align", "length"]  # line-aligned: no alignment runs, and no encoder loads
    for name in systems:
        args += ["--system", f"{name}=files:{paths[name]}"]
    return args
