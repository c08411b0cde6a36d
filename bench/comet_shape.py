"""A COMET checkpoint of wmt22-comet-da's shape with random weights, to time COMET here.

No real COMET checkpoint can be had on this machine (they come from the Hugging Face hub),
but speed does not depend on what the weights are: this builds unbabel-comet's regression
model around an XLM-R large encoder (24 layers, 1,024 wide, 16 heads, 4,096 inner; the
estimator 3,072 then 1,024 wide) with random weights, and the tokenizer of the test
fixtures (tests/fixtures/comet/encoder-xlmr: 602 pieces, so texts are read as more, shorter
tokens than XLM-R's own 250,000 would make; the efficiency figure counts the tokens read).
The scores mean nothing; `bench/growth.py` times them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "comet"
#: XLM-R large, as wmt22-comet-da reads it
LARGE = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "layer_norm_eps": 1e-5,
}
ESTIMATOR = [3072, 1024]


def build(folder: Path) -> tuple[Path, Path]:
    """(checkpoint folder, encoder folder) under `folder`, built once."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    model_dir, encoder_dir = folder / "comet-shape", folder / "encoder-xlmr-large"
    checkpoint = model_dir / "checkpoints" / "model.ckpt"
    if checkpoint.is_file():
        return model_dir, encoder_dir
    shutil.copytree(FIXTURES / "encoder-xlmr", encoder_dir, dirs_exist_ok=True)
    config = json.loads((encoder_dir / "config.json").read_text(encoding="utf-8")) | LARGE
    (encoder_dir / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    torch.manual_seed(0)
    encoder = XLMRobertaModel(XLMRobertaConfig(**config), add_pooling_layer=False)
    state = {f"encoder.model.{k}": v for k, v in encoder.state_dict().items()}
    layers = config["num_hidden_layers"] + 1  # the embeddings' output counts as a layer
    state["layerwise_attention.gamma"] = torch.ones(1)
    state["layerwise_attention.dropout_mask"] = torch.zeros(layers)  # as COMET's buffers
    state["layerwise_attention.dropout_fill"] = torch.full((layers,), -1e20)
    for k in range(layers):
        state[f"layerwise_attention.scalar_parameters.{k}"] = torch.zeros(1)
    width = 6 * config["hidden_size"]  # mt, ref, |mt-ref|, mt*ref, |mt-src|, mt*src
    for n, (fan_in, fan_out) in enumerate(zip([width, *ESTIMATOR], [*ESTIMATOR, 1], strict=True)):
        layer = torch.nn.Linear(fan_in, fan_out)
        state[f"estimator.ff.{3 * n}.weight"] = layer.weight.detach()
        state[f"estimator.ff.{3 * n}.bias"] = layer.bias.detach()
    checkpoint.parent.mkdir(parents=True)
    torch.save({"state_dict": state}, checkpoint)
    hparams = yaml.safe_load((FIXTURES / "regression" / "hparams.yaml").read_text("utf-8"))
    hparams |= {"hidden_sizes": ESTIMATOR, "pretrained_model": "xlm-roberta-large"}
    (model_dir / "hparams.yaml").write_text(yaml.safe_dump(hparams), encoding="utf-8")
    return model_dir, encoder_dir


def non_embedding_weights(encoder_dir: Path) -> int:
    """2-D weights of the encoder's layers: what each token is multiplied by."""
    config = json.loads((encoder_dir / "config.json").read_text(encoding="utf-8"))
    h, inner = config["hidden_size"], config["intermediate_size"]
    return config["num_hidden_layers"] * (4 * h * h + 2 * h * inner)
