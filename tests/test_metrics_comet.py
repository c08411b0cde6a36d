"""COMET: which checkpoint is used, and the skip path when it cannot run.

The native loader's equality with unbabel-comet is tested in tests/test_comet_native.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import UserInputError
from evalkit.metrics import MetricUnavailable, available_metrics, create_metrics
from evalkit.metrics.comet import DEFAULT_CHECKPOINT, Comet, resolve_checkpoint
from evalkit.record import read_record


def fake_hub_cache(root: Path, repo: str) -> Path:
    """A Hugging Face cache folder holding `repo` with a checkpoint, as the hub lays it out."""
    folder = root / f"models--{repo.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    checkpoint = folder / "snapshots" / commit / "checkpoints" / "model.ckpt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"not really a model")
    return checkpoint


def test_checkpoint_from_a_file_a_model_folder_or_the_hub_cache(tmp_path: Path):
    file = tmp_path / "mine.ckpt"
    file.write_bytes(b"x")
    assert resolve_checkpoint(str(file)) == file
    cached = fake_hub_cache(tmp_path / "hub", "Unbabel/wmt22-comet-da")
    model_folder = cached.parents[1]
    assert resolve_checkpoint(str(model_folder)) == cached
    assert resolve_checkpoint(DEFAULT_CHECKPOINT, cache_dir=tmp_path / "hub") == cached


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test here reaches the hub (CI has no network; evalkit then does not try)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_checkpoints_that_are_not_here_say_how_to_get_them(tmp_path: Path):
    with pytest.raises(MetricUnavailable, match="huggingface-cli download Unbabel/wmt22-cometkiwi"):
        resolve_checkpoint("Unbabel/wmt22-cometkiwi-da", cache_dir=tmp_path)
    with pytest.raises(MetricUnavailable, match=r"no checkpoints/model\.ckpt"):
        resolve_checkpoint(str(tmp_path))
    with pytest.raises(MetricUnavailable, match="no checkpoint at"):
        resolve_checkpoint(str(tmp_path / "missing.ckpt"))


def test_checkpoint_and_batch_size_from_arguments_or_environment(monkeypatch):
    monkeypatch.delenv("EVALKIT_COMET_MODEL", raising=False)
    monkeypatch.delenv("EVALKIT_COMET_BATCH_SIZE", raising=False)
    default = Comet()
    assert default.checkpoint == DEFAULT_CHECKPOINT and default.needs_reference
    assert default.batch_size == 8
    monkeypatch.setenv("EVALKIT_COMET_MODEL", "Unbabel/wmt22-cometkiwi-da")
    monkeypatch.setenv("EVALKIT_COMET_BATCH_SIZE", "32")
    (kiwi,) = create_metrics(["comet"])
    assert kiwi.checkpoint == "Unbabel/wmt22-cometkiwi-da" and kiwi.batch_size == 32
    assert not kiwi.needs_reference  # a quality-estimation checkpoint
    assert Comet("/models/x.ckpt", batch_size=4).checkpoint == "/models/x.ckpt"


def test_comet_without_a_checkpoint_is_skipped_saying_where_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    ready, (reason,) = available_metrics([Comet()])
    assert ready == [] and "huggingface-cli download Unbabel/wmt22-comet-da" in str(reason)
    assert "--metric comet:PATH" in str(reason)
    (kiwi,) = create_metrics(["cometkiwi"])
    ready, (reason,) = available_metrics([kiwi])
    assert "Unbabel/wmt22-cometkiwi-da" in str(reason) and not kiwi.needs_reference


def test_cli_run_with_comet_unavailable_prints_why_and_exits_0(
    cli, results_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("EVALKIT_COMET_MODEL", str(tmp_path / "absent.ckpt"))
    args = ("--system", "copy", "--metric", "comet", "--metric", "chrf", "--align", "length")
    result = cli("run", *args)
    assert result.exit_code == 0, result.output
    assert "metric 'comet' skipped:" in result.stdout
    assert "absent.ckpt" in result.stdout
    (folder,) = results_dir.iterdir()
    record = read_record(folder)
    assert [m.name for m in record.metrics] == ["chrf"]
    assert "comet" not in record.scores["copy"].corpus
    assert any(note.startswith("metric 'comet' skipped:") for note in record.notes)


def test_a_bad_batch_size_is_a_user_error(cli, monkeypatch):
    monkeypatch.setenv("EVALKIT_COMET_BATCH_SIZE", "lots")
    with pytest.raises(UserInputError, match="EVALKIT_COMET_BATCH_SIZE must be a positive"):
        Comet()
    result = cli("run", "--system", "copy", "--metric", "comet", "--align", "length")
    assert result.exit_code == 2 and "EVALKIT_COMET_BATCH_SIZE" in result.stderr
