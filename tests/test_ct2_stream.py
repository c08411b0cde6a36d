"""The streamed CTranslate2 conversion writes the same folder as TransformersConverter, byte
for byte, on tiny decoder models built here (tied and untied embeddings, float32 and
int8, weights that alias), and declines what it does not handle."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from evalkit.engines import ct2_stream
from evalkit.engines.ct2_stream import MappedCheckpoint, streamable, streamed_converter
from tests.tiny_causal import build_tiny_chat_model

torch = pytest.importorskip("torch")
ctranslate2 = pytest.importorskip("ctranslate2")

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


@pytest.fixture(scope="module")
def tiny_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny") / "qwen2")


def build_model(
    folder: Path, tokenizer_folder: Path, family: str, tied: bool, aliased: bool = False
) -> Path:
    """A tiny decoder of `family` saved in float32 with the tiny chat tokenizer. With
    `aliased`, two layers share an output matrix that differs only in the sign of its
    zeros, which CTranslate2 aliases (torch.equal holds)."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    config_class, model_class = {
        "qwen2": (Qwen2Config, Qwen2ForCausalLM),
        "llama": (LlamaConfig, LlamaForCausalLM),
    }[family]
    folder.mkdir(parents=True)
    for name in TOKENIZER_FILES:
        if (tokenizer_folder / name).exists():
            shutil.copy(tokenizer_folder / name, folder / name)
    vocab_size = json.loads((tokenizer_folder / "config.json").read_text())["vocab_size"]
    config = config_class(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=160,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=tied,
        eos_token_id=2,
        pad_token_id=0,
    )
    torch.manual_seed(1)
    model = model_class(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.3)
        if aliased:
            first = model.model.layers[0].self_attn.o_proj.weight
            first[0, :8] = 0.0
            second = model.model.layers[2].self_attn.o_proj.weight
            second.copy_(first)
            second[0, :8] = -0.0
    model.save_pretrained(folder)
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def convert_both(model: Path, out: Path, quantization: str) -> tuple[Path, Path]:
    plain = out / "plain"
    ctranslate2.converters.TransformersConverter(str(model), low_cpu_mem_usage=True).convert(
        str(plain), quantization=quantization, force=True
    )
    streamed = out / "streamed"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="streamed conversion not possible")
        converter = streamed_converter(model)
        converter.convert(str(streamed), quantization=quantization, force=True)
    assert converter.mapped and converter.checkpoint is not None  # no fallback happened
    return plain, streamed


@pytest.mark.parametrize("quantization", ["float32", "int8", "int8_float32", "float16"])
@pytest.mark.parametrize("family", ["qwen2", "llama"])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_streamed_output_is_byte_identical(
    tmp_path: Path, tiny_tokenizer: Path, family: str, tied: bool, quantization: str
) -> None:
    model = build_model(tmp_path / "model", tiny_tokenizer, family, tied)
    assert streamable(model)
    plain, streamed = convert_both(model, tmp_path, quantization)
    assert set(files_of(plain)) >= {"model.bin", "config.json", "vocabulary.json"}
    assert files_of(streamed) == files_of(plain)


@pytest.mark.parametrize("quantization", ["float32", "int8"])
def test_aliases_found_with_small_chunks(
    tmp_path: Path, tiny_tokenizer: Path, quantization: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chunks far smaller than a weight, so digests and comparisons span several chunks
    monkeypatch.setattr(ct2_stream, "_CHUNK_ELEMENTS", 100)
    monkeypatch.setattr(ct2_stream, "_QUICK_ELEMENTS", 4)
    model = build_model(tmp_path / "model", tiny_tokenizer, "qwen2", tied=False, aliased=True)
    plain, streamed = convert_both(model, tmp_path, quantization)
    assert files_of(streamed) == files_of(plain)
    # the aliased matrix is stored once: the model is smaller than one without the alias
    unaliased = build_model(tmp_path / "other", tiny_tokenizer, "qwen2", tied=False)
    other, _ = convert_both(unaliased, tmp_path / "x", quantization)
    assert len(files_of(plain)["model.bin"]) < len(files_of(other)["model.bin"])


def test_mapped_tensors_equal_the_checkpoint(tmp_path: Path, tiny_tokenizer: Path) -> None:
    from safetensors.torch import load_file

    model = build_model(tmp_path / "model", tiny_tokenizer, "qwen2", tied=False)
    checkpoint = MappedCheckpoint(model / "model.safetensors")
    loaded = load_file(model / "model.safetensors")
    assert set(checkpoint.tensors) == set(loaded)
    for name, tensor in checkpoint.tensors.items():
        assert checkpoint.region_of(tensor) is not None
        assert torch.equal(tensor, loaded[name])
    checkpoint.release()  # pages handed back are read again from the file
    for name, tensor in checkpoint.tensors.items():
        assert torch.equal(tensor, loaded[name])
    assert checkpoint.written_bytes() == 0
    checkpoint.file.close()


def test_unhandled_checkpoints_are_not_streamed(tmp_path: Path, tiny_tokenizer: Path) -> None:
    model = build_model(tmp_path / "model", tiny_tokenizer, "qwen2", tied=False)
    config = json.loads((model / "config.json").read_text())

    def variant(name: str, **changes: object) -> Path:
        folder = tmp_path / name
        shutil.copytree(model, folder)
        (folder / "config.json").write_text(json.dumps({**config, **changes}))
        return folder

    assert streamable(model)
    assert not streamable(variant("seq2seq", architectures=["MarianMTModel"]))
    assert not streamable(variant("bf16", dtype="bfloat16"))
    sharded = variant("sharded")
    (sharded / "model.safetensors.index.json").write_text("{}")
    assert not streamable(sharded)
    missing = variant("bin")
    (missing / "model.safetensors").unlink()
    assert not streamable(missing)
