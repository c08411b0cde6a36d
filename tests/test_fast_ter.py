"""The compiled TER (`evalkit.metrics.fast_ter`) gives sacrebleu's TER statistics exactly.

Real English text: Yusuf Ali's translation of the Quran, verse by verse (the
`TheQuranModule` package, as in tests/synthetic_parallel.py), and the built-in seed test
set. Hypotheses are real verses changed the ways translations differ from references
(words dropped, inserted, swapped, blocks moved, re-cased, a different verse altogether),
sentence-length and paragraph-length (several verses joined); the paragraphs reach
sacrebleu's limits: its 1,000 shift candidates per segment and its 25-cell beam.
sacrebleu's side of each comparison is computed here, by sacrebleu, on the same strings.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from sacrebleu.metrics import TER, lib_ter

from evalkit.corpus.resolve import load_test_set
from evalkit.metrics import fast_ter
from evalkit.metrics.fast_ter import FastTER
from evalkit.metrics.registry import create_metrics
from tests.synthetic_parallel import verse_pairs

Pair = tuple[str, str]  # (hypothesis, reference)


def _verses() -> list[str]:
    return [english for _, english in verse_pairs()]


def _drop(rng: random.Random, words: list[str]) -> list[str]:
    out = list(words)
    for _ in range(rng.randint(1, 3)):
        if out:
            del out[rng.randrange(len(out))]
    return out


def _swap(rng: random.Random, words: list[str]) -> list[str]:
    out = list(words)
    for _ in range(rng.randint(1, 2)):
        if len(out) > 1:
            i = rng.randrange(len(out) - 1)
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


def _move(rng: random.Random, words: list[str]) -> list[str]:
    out = list(words)
    for _ in range(rng.randint(1, 2)):
        if len(out) > 2:
            start = rng.randrange(len(out) - 1)
            block = out[start : start + rng.randint(1, 6)]
            del out[start : start + len(block)]
            at = rng.randrange(len(out) + 1)
            out[at:at] = block
    return out


def _blocks(rng: random.Random, words: list[str]) -> list[str]:
    size = rng.randint(2, 5)
    blocks = [words[i : i + size] for i in range(0, len(words), size)]
    rng.shuffle(blocks)
    return [w for block in blocks for w in block]


def _insert(rng: random.Random, words: list[str], other: list[str]) -> list[str]:
    out = list(words)
    for _ in range(rng.randint(1, 3)):
        if other:
            out.insert(rng.randrange(len(out) + 1), rng.choice(other))
    return out


def _recase(rng: random.Random, words: list[str]) -> list[str]:
    out = list(words)
    if out:
        i = rng.randrange(len(out))
        out[i] = out[i].upper() if rng.random() < 0.5 else out[i].lower()
    return out


def _variant(rng: random.Random, text: str, other: str, kind: int) -> str:
    """One of the ways a translation differs from its reference, by `kind`."""
    words, others = text.split(), other.split()
    changes: list[Callable[[], list[str]]] = [
        lambda: _drop(rng, words),
        lambda: _swap(rng, words),
        lambda: _move(rng, words),
        lambda: _insert(rng, words, others),
        lambda: _recase(rng, _move(rng, _drop(rng, words))),
        lambda: _insert(rng, _swap(rng, _drop(rng, words)), others),
        lambda: others,  # another real sentence: shared function words only
        lambda: _blocks(rng, words),
    ]
    return " ".join(changes[kind % len(changes)]())


def sentence_pairs(count: int, seed: int) -> list[Pair]:
    verses = _verses()
    rng = random.Random(seed)
    pairs = []
    for k in range(count):
        i = rng.randrange(len(verses) - 1)
        if k % 8 == 7:  # shuffled blocks cost sacrebleu most: shorter verses for these
            while len(verses[i].split()) > 16:
                i = rng.randrange(len(verses) - 1)
        pairs.append((_variant(rng, verses[i], verses[i + 1], k), verses[i]))
    return pairs


def paragraph_pairs(count: int, seed: int) -> list[Pair]:
    """Three to five consecutive verses joined (50 to 250 words), in many variants."""
    verses = _verses()
    rng = random.Random(seed)
    pairs = []
    for k in range(count):
        kind = k % 12
        # the kinds that make sacrebleu try hundreds of shifts get the shorter paragraphs
        longest = 90 if kind in (6, 7, 9) else 250
        shortest = 60 if kind == 10 else 50
        text = ""
        while not shortest <= len(text.split()) <= longest:
            size = rng.randint(3, 5)
            i = rng.randrange(len(verses) - 2 * size)
            text = " ".join(verses[i : i + size])
        other = " ".join(verses[i + size : i + 2 * size])
        words = text.split()
        if kind < 8:
            hyp = _variant(rng, text, other, kind)
        elif kind == 8:  # many small changes all over
            hyp = " ".join(_move(rng, _move(rng, _drop(rng, _swap(rng, words)))))
        elif kind == 9:  # the beginning moved to the end: far from the beam's diagonal
            cut = rng.randint(30, 40)
            hyp = " ".join(words[cut:] + words[:cut])
        elif kind == 10:  # over 50 times shorter than the reference: the beam widens
            hyp = words[0]
        else:  # much longer than the reference
            hyp = " ".join(words + other.split()[:30])
        pairs.append((hyp, text))
    return pairs


def _stats(metric: TER, pairs: list[Pair]) -> list[list[float]]:
    return metric._extract_corpus_statistics([h for h, _ in pairs], [[r for _, r in pairs]])


def _assert_identical(pairs: list[Pair], **options: bool) -> list[list[float]]:
    theirs = _stats(TER(**options), pairs)
    ours = _stats(FastTER(**options), pairs)
    assert len(ours) == len(theirs) == len(pairs)
    for (hyp, ref), a, b in zip(pairs, ours, theirs, strict=True):
        assert a == b, (options, hyp, ref)
        assert [type(x) for x in a] == [type(x) for x in b]
    return theirs


@pytest.mark.slow  # 3,000 pairs through sacrebleu's own TER: a minute on 2 cores
def test_sentences_identical_to_sacrebleu():
    pairs = sentence_pairs(3000, seed=1)
    pairs += [("", "a reference"), ("a hypothesis", ""), ("", ""), ("  ", "  ")]
    stats = _assert_identical(pairs)
    assert sum(1 for edits, _ in stats if edits > 0) > len(pairs) / 2  # real work, mostly


@pytest.mark.parametrize(
    "options",
    [
        {"case_sensitive": True},
        {"normalized": True},
        {"no_punct": True},
        {"normalized": True, "asian_support": True, "case_sensitive": True},
        {"no_punct": True, "asian_support": True},
    ],
    ids=["case", "normalized", "no_punct", "asian_normalized", "asian_no_punct"],
)
def test_options_identical_to_sacrebleu(options):
    pairs = sentence_pairs(64, seed=2)
    cjk = [  # CJK text, split into characters by asian_support
        ("我们今天去公园散步。", "今天我们去公园散步了。"),
        ("東京は日本の首都です", "日本の首都は東京です"),
        ("오늘 날씨가 좋아요", "날씨가 오늘 좋아요"),
    ]
    _assert_identical(pairs + cjk, **options)


@pytest.mark.slow  # sacrebleu at its shift and beam limits: slow by design
def test_paragraphs_identical_to_sacrebleu_at_its_limits(monkeypatch):
    pairs = paragraph_pairs(24, seed=3)
    most = 0
    capped = 0
    shift = lib_ter._shift

    def counting_shift(*args):  # sacrebleu's own search, watched: candidates per segment
        nonlocal most
        result = shift(*args)
        most = max(most, result[2])
        return result

    monkeypatch.setattr(lib_ter, "_shift", counting_shift)
    theirs = []
    ter = TER()
    for pair in pairs:
        most = 0
        theirs += _stats(ter, [pair])
        capped += most >= lib_ter._MAX_SHIFT_CANDIDATES
    monkeypatch.undo()
    assert _stats(FastTER(), pairs) == theirs
    assert capped > 0  # some segments stopped at 1,000 candidates

    # and the beam decided some results: the same search without it counts differently
    tok = ter._preprocess_segment
    pruned = 0
    for hyp, ref in pairs:
        h, r = tok(hyp).split(), tok(ref).split()
        if r and len(r) > 2 * lib_ter._BEAM_WIDTH:
            pruned += _unpruned_edits(h, r) != fast_ter.translation_edit_rate(h, r)[0]
    assert pruned > 0


def _unpruned_edits(hyp: list[str], ref: list[str]) -> int:
    """The edit count with every matrix cell computed (no beam)."""
    import numpy as np

    ids: dict[str, int] = {}
    r = np.array([ids.setdefault(w, len(ids)) for w in ref], dtype=np.int64)
    h = np.array([ids.setdefault(w, len(ids)) for w in hyp], dtype=np.int64)
    lo = np.zeros(len(hyp) + 1, dtype=np.int64)
    hi = np.full(len(hyp) + 1, len(ref) + 1, dtype=np.int64)
    return int(fast_ter._kernel()(h, r, lo, hi))


def test_seed_units_and_documents_identical_to_sacrebleu():
    rng = random.Random(4)
    pairs: list[Pair] = []
    for doc in load_test_set("seeds").documents:
        if doc.reference is None:
            continue
        refs = list(doc.reference.segments)
        sources = list(doc.source.segments)
        # paragraph units: the copy system's output, changed references, another paragraph
        for k, ref in enumerate(refs):
            pairs.append((sources[k % len(sources)], ref))
            pairs.append((_variant(rng, ref, refs[(k + 1) % len(refs)], k), ref))
            pairs.append((_variant(rng, ref, refs[(k + 1) % len(refs)], k + 3), ref))
        # whole documents: words dropped and inserted everywhere, words and blocks moved
        # in some paragraphs (more moves would take sacrebleu minutes)
        whole = " ".join(refs)
        changed = [
            _variant(rng, ref, whole, 4 if k % 7 == 0 else 3 * (k % 2))
            for k, ref in enumerate(refs)
        ]
        pairs.append((" ".join(sources), whole))
        pairs.append((" ".join(changed), whole))
    assert pairs
    _assert_identical(pairs)


def test_several_references_identical_to_sacrebleu():
    """The best edit count over the references, the mean reference length (sacrebleu's
    `_compute_segment_statistics`), with a second reference per segment."""
    pairs = sentence_pairs(60, seed=7)
    rng = random.Random(8)
    hyps = [h for h, _ in pairs]
    refs = [r for _, r in pairs]
    others = [_variant(rng, r, h, k) for k, (h, r) in enumerate(pairs)]
    theirs = TER()._extract_corpus_statistics(hyps, [refs, others])
    assert FastTER()._extract_corpus_statistics(hyps, [refs, others]) == theirs


def test_evalkit_ter_metric_is_sacrebleus():
    """The `ter` metric of a run: sacrebleu's statistics, corpus score, segment scores and
    signature."""
    pairs = sentence_pairs(80, seed=5) + paragraph_pairs(2, seed=6)
    hyps, refs = [h for h, _ in pairs], [r for _, r in pairs]
    (metric,) = create_metrics(["ter"])
    ours = metric.segment_statistics(hyps, refs, [""] * len(pairs))
    ter = TER()
    theirs = [list(row) for row in ter._extract_corpus_statistics(hyps, [refs])]
    assert ours == theirs
    assert metric.corpus_score(ours) == ter.corpus_score(hyps, [refs]).score
    for (hyp, ref), row in zip(pairs, ours, strict=True):
        assert metric.segment_score(row) == TER().sentence_score(hyp, [ref]).score
    assert metric.signature() == str(ter.get_signature().format())
