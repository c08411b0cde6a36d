"""`evalkit run --config FILE.toml`: a run as a reviewable file, the same run as its
command line, with the command line winning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.engines import create_system
from evalkit.errors import UserInputError
from evalkit.run_config import SystemEntry, load_run_config

RUN_FILE = """
data = "set"
name = "from-file"
metrics = ["chrf"]
align = "length"

[[systems]]
label = "echo"
kind = "copy"

[[systems]]
label = "theirs"
kind = "files"
argument = "outputs"
"""


def write_outputs(folder: Path, synthetic_set) -> Path:
    """One output file per document: each source line with its words reversed."""
    outputs = folder / "outputs"
    outputs.mkdir()
    for doc_id in ("a", "b"):
        lines = (synthetic_set.folder / synthetic_set.source_file(doc_id)).read_text("utf-8")
        reversed_lines = [" ".join(line.split()[::-1]) for line in lines.splitlines()]
        (outputs / f"{doc_id}.txt").write_text("\n".join(reversed_lines) + "\n", "utf-8")
    return outputs


@pytest.fixture
def run_folder(tmp_path: Path, synthetic_set) -> Path:
    folder = tmp_path / "experiment"
    folder.mkdir()
    synthetic_set.folder.rename(folder / "set")
    synthetic_set.folder = folder / "set"
    write_outputs(folder, synthetic_set)
    (folder / "run.toml").write_text(RUN_FILE, encoding="utf-8")
    return folder


def test_a_run_file_gives_the_run_its_command_line_gives(cli, run_folder: Path, monkeypatch):
    monkeypatch.chdir(run_folder.parent)  # the file's paths are relative to its own folder
    from_file = cli("run", "--config", run_folder / "run.toml", "--json")
    assert from_file.exit_code == 0, from_file.output
    by_file = json.loads(from_file.stdout)
    by_hand = json.loads(
        cli(
            "run", "--data", run_folder / "set", "--metric", "chrf", "--align", "length",
            "--system", "echo=copy", "--system", f"theirs=files:{run_folder / 'outputs'}",
            "--json",
        ).stdout
    )  # fmt: skip
    assert list(by_file["systems"]) == ["echo", "theirs"]
    for label in ("echo", "theirs"):
        assert by_file["systems"][label]["corpus"] == by_hand["systems"][label]["corpus"]
    assert "from-file" in by_file["run_id"]


def test_the_command_line_wins_and_adds(cli, run_folder: Path):
    done = cli(
        "run", "--config", run_folder / "run.toml", "--name", "override",
        "--system", "again=copy", "--metric", "bleu", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert "override" in summary["run_id"]
    assert list(summary["systems"]) == ["echo", "theirs", "again"]
    assert set(summary["metrics"]) == {"chrf", "bleu"}


def test_values_keep_their_commas_and_lists(tmp_path: Path):
    entry = SystemEntry(
        label="served",
        kind="openai",
        argument="some-model",
        options={"base_url": ["http://a:8000/v1", "http://b:8000/v1"], "stop": ["a,b", "\n"]},
    )
    system = create_system(entry).system
    assert system.options.base_url == ["http://a:8000/v1", "http://b:8000/v1"]
    assert system.options.stop == ["a,b", "\n"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("data = 'x'\nsystems = [\n", "not valid TOML"),
        ("colour = 'red'\n", "colour"),
        ("[[systems]]\nlabel = 'x'\n", "systems.0"),
        ("version = 9\n", "version 9"),
        ("align = 'sideways'\n", "align"),
    ],
)
def test_a_bad_run_file_is_refused_with_its_name_and_the_field(tmp_path, text, said):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserInputError) as caught:
        load_run_config(path)
    assert said in str(caught.value) and "bad.toml" in str(caught.value)


def test_a_credential_in_a_run_file_is_refused_without_repeating_it(tmp_path):
    entry = SystemEntry(kind="openai", argument="m", options={"api_key": "sk-abcdefabcdef12345678"})
    with pytest.raises(UserInputError) as caught:
        create_system(entry)
    assert "sk-abcdef" not in str(caught.value)
