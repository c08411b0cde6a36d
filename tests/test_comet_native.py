"""The native COMET loader gives unbabel-comet's numbers, without unbabel-comet.

tests/fixtures/comet/ holds tiny random checkpoints of every COMET model class, built and
scored by unbabel-comet 2.2.7 itself (scripts/make_comet_fixtures.py, `make
comet-fixtures`), on 36 Arabic-English triples and 3 long ones past the 512-token window.
Here they are loaded by evalkit alone and must give the same scores to 1e-5, and the same
error spans. Long units: unbabel-comet truncates them, which `long=truncate` reproduces;
the default reads them in pieces, checked against scoring the pieces by hand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from evalkit.errors import UserInputError
from evalkit.metrics import create_metrics
from evalkit.metrics.comet import load_comet, spans_of
from evalkit.metrics.comet_checkpoint import CometCheckpointError, load_state_dict
from evalkit.metrics.comet_embed import content_limit, embed
from evalkit.metrics.comet_score import regression_scores, unified_scores
from evalkit.record import read_record

FIXTURES = Path(__file__).parent / "fixtures" / "comet"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
TRIPLES = json.loads((FIXTURES / "triples.json").read_text(encoding="utf-8"))
ENCODER = {
    "regression": "encoder-xlmr",
    "referenceless": "encoder-xlmr",
    "kiwi": "encoder-xlmr",
    "xcomet": "encoder-xlmr-xl",
    "unified-spans": "encoder-xlmr",
}
CASES = [
    (kind, part)
    for kind in ENCODER
    for part in ("short", "long", "short_no_ref", "long_no_ref")
    if part in EXPECTED[kind]
]


def model(kind: str):
    return load_comet(str(FIXTURES / kind), encoder=str(FIXTURES / ENCODER[kind]))


def columns(part: str) -> tuple[list[str], list[str], list[str] | None]:
    triples = TRIPLES[part.split("_")[0]]
    refs = None if part.endswith("no_ref") else [t["ref"] for t in triples]
    return [t["src"] for t in triples], [t["mt"] for t in triples], refs


def spans_as_tuples(spans) -> list[list[tuple]]:
    return [[(s["start"], s["end"], s["severity"], s["text"]) for s in row] for row in spans]


@pytest.mark.parametrize(("kind", "part"), CASES)
def test_native_scores_and_spans_equal_unbabel_comets(kind: str, part: str):
    net = model(kind)
    src, mt, ref = columns(part)
    # unbabel-comet cut the long units at 512 tokens: compared with that rule
    long = "truncate" if part.startswith("long") else "pieces"
    expected = EXPECTED[kind][part]
    if net.unified:
        scored = unified_scores(net, src, mt, ref, batch_size=5, long=long)
        scores = [one.score for one in scored]
    else:
        scores = regression_scores(net, src, mt, ref, f"test-{kind}", batch_size=5, long=long)
    assert scores == pytest.approx(expected["scores"], abs=1e-5)
    assert max(expected["scores"]) - min(expected["scores"]) > 0.05  # not a flat model
    if "spans" in expected:
        got = [[(s.start, s.end, s.severity, s.text) for s in one.spans] for one in scored]
        assert got == spans_as_tuples(expected["spans"])
        confidences = [s.confidence for one in scored for s in one.spans]
        wanted = [s["confidence"] for row in expected["spans"] for s in row]
        assert confidences == pytest.approx(wanted, abs=1e-5)
        if part == "short":
            assert sum(map(len, got)) >= 10  # the spans are really compared


def test_the_fixtures_cover_every_class_and_old_buffers():
    classes = {EXPECTED[kind]["comet_class"] for kind in ENCODER}
    assert classes == {
        "RegressionMetric",
        "ReferencelessRegression",
        "UnifiedMetric",
        "XCOMETMetric",
    }
    state = load_state_dict(FIXTURES / "regression" / "checkpoints" / "model.ckpt")
    assert "encoder.model.embeddings.position_ids" in state  # tolerated, as published ones
    xcomet = load_state_dict(FIXTURES / "xcomet" / "checkpoints" / "model.ckpt")
    assert "wordloss.weight" in xcomet and "hidden2tag.weight" in xcomet


def metric(spec: str, kind: str):
    (found,) = create_metrics([f"{spec}:{FIXTURES / kind},encoder={FIXTURES / ENCODER[kind]}"])
    return found


def test_comet_metric_from_a_folder_scores_as_unbabel_comet_and_signs_what_it_used():
    comet = metric("comet", "regression")
    src, mt, ref = columns("short")
    assert comet.needs_reference
    stats = comet.segment_statistics(mt, ref, src)
    assert [row[0] for row in stats] == pytest.approx(
        EXPECTED["regression"]["short"]["scores"], abs=1e-5
    )
    signature = comet.signature()
    for part in (
        "checkpoint:regression",
        "|sha256:",
        "class:regression_metric",
        "encoder:evalkit-tiny/xlm-roberta (local copy, sha256:",
        "long units:pieces at sentence ends of <=508 tokens",
    ):
        assert part in signature
    truncating = create_metrics(
        [f"comet:{FIXTURES / 'regression'},encoder={FIXTURES / 'encoder-xlmr'},long=truncate"]
    )[0]
    assert "long units:truncated at 512 tokens" in truncating.signature()


def test_cometkiwi_reads_no_reference_and_xcomet_keeps_its_spans():
    kiwi = metric("cometkiwi", "kiwi")
    src, mt, ref = columns("short")
    assert not kiwi.needs_reference
    stats = kiwi.segment_statistics(mt, None, src)
    assert [row[0] for row in stats] == pytest.approx(
        EXPECTED["kiwi"]["short_no_ref"]["scores"], abs=1e-5
    )
    xcomet = metric("xcomet", "xcomet")
    assert xcomet.needs_reference
    stats = xcomet.segment_statistics(mt, ref, src)
    expected = EXPECTED["xcomet"]["short"]
    assert [row[0] for row in stats] == pytest.approx(expected["scores"], abs=1e-5)
    spans = [
        [(s.start, s.end, s.severity) for s in spans_of(row, hyp)]
        for row, hyp in zip(stats, mt, strict=True)
    ]
    assert spans == [
        [(s["start"], s["end"], s["severity"]) for s in row] for row in expected["spans"]
    ]


def test_a_model_that_needs_references_is_not_a_reference_free_metric():
    kiwi = metric("cometkiwi", "regression")
    with pytest.raises(CometCheckpointError, match="cannot score without references"):
        kiwi.check_available()
    spans = metric("xcomet", "kiwi")
    with pytest.raises(CometCheckpointError, match="predicts no error spans"):
        spans.check_available()
    assert not metric("comet", "referenceless").needs_reference  # read from its hparams


def test_long_texts_are_embedded_in_pieces_not_cut():
    net = model("regression")
    (long,) = [t["ref"] for t in TRIPLES["long"][:1]]
    limit = content_limit(net)
    assert net.encoder.tokenizer.count([long])[0] > 2 * limit  # several windows long
    pieces_vector = embed(net, [long], "pieces-test", 4, "pieces")[long]
    cut_vector = embed(net, [long], "cut-test", 4, "truncate")[long]
    assert not torch.allclose(pieces_vector, cut_vector, atol=1e-4)
    # by hand: the token-weighted mean of the pieces' own embeddings
    from evalkit.metrics.comet_embed import _embed_batch, pieces_of

    parts = pieces_of(net, long, limit)
    assert len(parts) >= 3 and all(net.encoder.tokenizer.count([p])[0] <= limit for p in parts)
    embedded = _embed_batch(net, parts)
    weights = torch.tensor([float(n) for _, n in embedded])
    by_hand = (torch.stack([v for v, _ in embedded]) * weights[:, None]).sum(0) / weights.sum()
    assert torch.allclose(pieces_vector, by_hand, atol=1e-6)
    # a text within the window is read whole either way
    short = TRIPLES["short"][0]["ref"]
    both = [
        embed(net, [short], key, 4, rule)[short]
        for key, rule in (("a", "pieces"), ("b", "truncate"))
    ]
    assert torch.allclose(*both, atol=1e-7)


def test_long_units_of_a_unified_model_are_scored_in_aligned_pieces():
    net = model("unified-spans")
    src, mt, ref = columns("long")
    pieces = unified_scores(net, src, mt, ref, long="pieces")
    cut = unified_scores(net, src, mt, ref, long="truncate")
    assert [p.score for p in pieces] != pytest.approx([c.score for c in cut], abs=1e-4)
    for one, hypothesis in zip(pieces, mt, strict=True):
        starts = [s.start for s in one.spans]
        assert starts == sorted(starts) and all(
            0 <= s.start <= s.end <= len(hypothesis) for s in one.spans
        )
    # spans past the window that truncation never reads
    window_chars = max(s.end for one in cut for s in one.spans)
    assert any(s.start > window_chars for one in pieces for s in one.spans)
    # the score is the weighted mean of its pieces' scores
    from evalkit.metrics.comet_score import _unit_pieces

    parts = _unit_pieces(net, mt[0], src[0], ref[0], "pieces")
    assert len(parts) >= 3
    alone = unified_scores(
        net,
        [p[1][1] for p in parts],
        [p[1][0] for p in parts],
        [p[1][2] for p in parts],
        long="truncate",
    )
    total = sum(w for w, _ in parts)
    assert pieces[0].score == pytest.approx(
        sum(w * a.score for (w, _), a in zip(parts, alone, strict=True)) / total, abs=1e-6
    )


def broken_copy(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(FIXTURES / "regression", folder)
    checkpoint = folder / "checkpoints" / "model.ckpt"
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    edit(saved["state_dict"])
    torch.save(saved, checkpoint)
    return folder


def test_a_checkpoint_with_a_missing_or_unexpected_key_is_refused_by_name(tmp_path: Path):
    def edit(state):
        del state["estimator.ff.0.bias"]
        state["estimator.extra.weight"] = torch.zeros(2)

    folder = broken_copy(tmp_path, edit)
    with pytest.raises(CometCheckpointError) as error:
        load_comet(str(folder), encoder=str(FIXTURES / "encoder-xlmr"))
    message = str(error.value)
    assert "missing 1 key(s): estimator.ff.0.bias" in message
    assert "unexpected 1 key(s): estimator.extra.weight" in message
    assert isinstance(error.value, UserInputError)


def test_a_folder_without_hparams_or_with_an_unknown_class_says_so(tmp_path: Path):
    folder = tmp_path / "no-hparams"
    shutil.copytree(FIXTURES / "regression", folder)
    (folder / "hparams.yaml").unlink()
    with pytest.raises(CometCheckpointError, match=r"hparams\.yaml is missing"):
        load_comet(str(folder), encoder=str(FIXTURES / "encoder-xlmr"))
    (folder / "hparams.yaml").write_text("class_identifier: ranking_metric\n")
    with pytest.raises(
        CometCheckpointError, match=r"unsupported COMET model class 'ranking_metric'"
    ):
        load_comet(str(folder), encoder=str(FIXTURES / "encoder-xlmr"))


def test_cli_run_with_a_comet_folder(cli, results_dir: Path, synthetic_set):
    spec = f"comet:{FIXTURES / 'regression'},encoder={FIXTURES / 'encoder-xlmr'}"
    args = ("--data", synthetic_set.folder, "--system", "copy", "--align", "length")
    result = cli("run", *args, "--metric", spec, "--metric", "chrf")
    assert result.exit_code == 0, result.output
    (folder,) = results_dir.iterdir()
    record = read_record(folder)
    assert [m.name for m in record.metrics] == ["comet", "chrf"]
    assert isinstance(record.scores["copy"].corpus["comet"], float)


def test_lightning_dicts_are_read_as_dicts_and_other_objects_refused(tmp_path: Path, monkeypatch):
    """Older checkpoints pickle their hyperparameters as Lightning's AttributeDict: read
    as a plain dict, without Lightning; any other object is refused, never run."""
    import sys
    import types

    def pickled_as(module: str, name: str) -> type:
        parts = module.split(".")
        for n in range(1, len(parts) + 1):  # the package and its parents, all made up
            monkeypatch.setitem(sys.modules, ".".join(parts[:n]), types.ModuleType(module))
        cls = type(name, (dict,), {"__module__": module})
        setattr(sys.modules[module], name, cls)
        return cls

    attribute_dict = pickled_as("pytorch_lightning.utilities.parsing", "AttributeDict")
    stranger = pickled_as("somebody.elses", "Thing")
    state = load_state_dict(FIXTURES / "regression" / "checkpoints" / "model.ckpt")
    old = tmp_path / "old.ckpt"
    torch.save({"state_dict": state, "hyper_parameters": attribute_dict(pool="avg")}, old)
    assert load_state_dict(old).keys() == state.keys()
    odd = tmp_path / "odd.ckpt"
    torch.save({"state_dict": state, "callbacks": stranger(x=1)}, odd)
    with pytest.raises(CometCheckpointError, match="objects other than weights"):
        load_state_dict(odd)
