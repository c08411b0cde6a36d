"""COMET's network in plain torch: a transformers encoder and COMET's small heads.

unbabel-comet wraps these pieces in Lightning modules pinned to transformers<5; the
arithmetic is small, so it is re-implemented here, module for module, under the same
parameter names (`encoder.model.*`, `layerwise_attention.*`, `estimator.ff.*`,
`hidden2tag.*`) so a published state dict loads strictly: every key used, none missing.

- the encoder is built by transformers from the checkpoint's hparams (`encoder_model`
  picks the class, as COMET's `str2encoder` does) and a local config; its weights come
  from the checkpoint, never from the hub;
- the layer mix (COMET's `LayerwiseAttention`) is a softmax or sparsemax mixture of all
  hidden states, optionally after a masked layer norm of each;
- the estimator (COMET's `FeedForward`) is Linear, activation, (dropout)... Linear.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from evalkit.metrics.comet_checkpoint import (
    MODEL_CLASSES,
    REFERENCELESS,
    REGRESSION,
    UNIFIED,
    XCOMET,
    CometCheckpointError,
)
from evalkit.metrics.comet_tokenizer import JsonTokenizer, Tokenizer, TransformersTokenizer

#: keys old checkpoints carry that no module here owns: buffers transformers<4.31 saved
#: and that are recomputed now; tolerated, never used
_OLD_BUFFERS = ("embeddings.position_ids",)


@dataclass(frozen=True)
class EncoderKind:
    """How COMET builds each `encoder_model`: the transformers classes, whether the model
    keeps its pooler (then its weights are in the checkpoint), and the separator size."""

    model: str
    config: str
    tokenizer: str
    pooler: bool
    separator: int
    token_types: bool


ENCODERS = {
    "XLM-RoBERTa": EncoderKind(
        "XLMRobertaModel", "XLMRobertaConfig", "XLMRobertaTokenizerFast", False, 2, False
    ),
    "XLM-RoBERTa-XL": EncoderKind(
        "XLMRobertaXLModel", "XLMRobertaXLConfig", "XLMRobertaTokenizerFast", False, 2, False
    ),
    "BERT": EncoderKind("BertModel", "BertConfig", "BertTokenizerFast", False, 1, True),
    "MiniLM": EncoderKind("BertModel", "BertConfig", "XLMRobertaTokenizerFast", True, 2, False),
    "RemBERT": EncoderKind("RemBertModel", "RemBertConfig", "RemBertTokenizerFast", True, 1, True),
}


def _transformers_class(name: str) -> Any:
    """A transformers class by name; in transformers 5 the `...Fast` tokenizer names are
    the plain ones (every tokenizer is tokenizers-backed)."""
    import transformers

    found = getattr(transformers, name, None)
    if found is None and name.endswith("Fast"):
        found = getattr(transformers, name[: -len("Fast")], None)
    if found is None:
        raise CometCheckpointError(f"transformers {transformers.__version__} has no {name}")
    return found


class Encoder(nn.Module):
    """COMET's encoder wrapper: the transformers model as `.model`, its tokenizer, and
    all hidden states (embeddings first) as the layers the mix reads."""

    def __init__(self, encoder_model: str, folder: Path) -> None:
        super().__init__()
        kind = ENCODERS.get(encoder_model)
        if kind is None:
            raise CometCheckpointError(
                f"unknown encoder_model {encoder_model!r} (known: {', '.join(ENCODERS)})"
            )
        self.kind = kind
        config = _transformers_class(kind.config).from_pretrained(str(folder))
        self.model = _transformers_class(kind.model)(config, add_pooling_layer=kind.pooler)
        self.tokenizer: Tokenizer
        if (folder / "tokenizer.json").is_file():
            self.tokenizer = JsonTokenizer(folder, bert_like=kind.separator == 1)
        else:
            backend = _transformers_class(kind.tokenizer).from_pretrained(str(folder))
            self.tokenizer = TransformersTokenizer(backend)

    @property
    def num_layers(self) -> int:
        return int(self.model.config.num_hidden_layers) + 1

    @property
    def max_positions(self) -> int:
        """COMET's limit on one input: the position table less two."""
        return int(self.model.config.max_position_embeddings) - 2

    @property
    def output_units(self) -> int:
        return int(self.model.config.hidden_size)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        output = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            output_hidden_states=True,
        )
        layers = list(output.hidden_states)
        # the last hidden state is the one after any final layer norm (XLM-R XL's), as
        # COMET read it under transformers 4
        layers[-1] = output.last_hidden_state
        return layers


def sparsemax(weights: torch.Tensor) -> torch.Tensor:
    """Sparsemax of a vector (Martins & Astudillo 2016), computed as entmax does."""
    shifted = weights - weights.max()
    ordered, _ = torch.sort(shifted, descending=True)
    cumsum = ordered.cumsum(0) - 1
    ranks = torch.arange(1, len(ordered) + 1, dtype=weights.dtype, device=weights.device)
    support = int((ranks * ordered > cumsum).sum())
    tau = cumsum[support - 1] / support
    return torch.clamp(shifted - tau, min=0)


class LayerMix(nn.Module):
    """COMET's `LayerwiseAttention` at inference: gamma × Σ w_k · layer_k, w = softmax or
    sparsemax of the scalar weights; with `layer_norm`, each layer is first normalised over
    its unmasked tokens and units together (one mean and variance per sentence)."""

    def __init__(self, num_layers: int, transform: str, layer_norm: bool, dropout: float) -> None:
        super().__init__()
        self.layer_norm = layer_norm
        # "sparsemax_patch" names checkpoints trained with softmax by mistake; COMET
        # 2.2.4+ (and this loader) read them with softmax
        self.sparse = transform == "sparsemax"
        self.scalar_parameters = nn.ParameterList(
            [nn.Parameter(torch.zeros(1)) for _ in range(num_layers)]
        )
        self.gamma = nn.Parameter(torch.ones(1))
        if dropout:  # training-time buffers, kept so the state dict loads strictly
            self.register_buffer("dropout_mask", torch.zeros(num_layers))
            self.register_buffer("dropout_fill", torch.empty(num_layers).fill_(-1e20))

    def forward(self, layers: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        weights = torch.cat(list(self.scalar_parameters))
        normed = sparsemax(weights) if self.sparse else torch.softmax(weights, dim=0)
        if self.layer_norm:
            mask_float = mask.float()
            layers = [_masked_layer_norm(layer, mask_float) for layer in layers]
        return self.gamma * sum(w * layer for w, layer in zip(normed.split(1), layers, strict=True))


def _masked_layer_norm(tensor: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    broadcast = mask.unsqueeze(-1)
    batch, _, dim = tensor.size()
    count = mask.sum(1) * dim
    masked = tensor * broadcast
    mean = (masked.view(batch, -1).sum(1) / count).view(batch, 1, 1)
    variance = (((masked - mean) * broadcast) ** 2).view(batch, -1).sum(1) / count
    return (tensor - mean) / torch.sqrt(variance + 1e-12).view(batch, 1, 1)


class FeedForward(nn.Module):
    """COMET's estimator: `ff` = Linear, activation, Dropout per hidden size, then Linear
    and an optional final activation (same indices, so the same state dict keys)."""

    def __init__(
        self,
        in_dim: int,
        hidden_sizes: list[int],
        activation: str,
        final_activation: str | None,
        out_dim: int = 1,
    ) -> None:
        super().__init__()
        modules: list[nn.Module] = []
        sizes = [in_dim, *hidden_sizes]
        for before, after in itertools.pairwise(sizes):
            modules += [nn.Linear(before, after), _activation(activation), nn.Dropout(0.0)]
        modules.append(nn.Linear(sizes[-1], out_dim))
        if final_activation is not None:
            modules.append(_activation(final_activation))
        self.ff = nn.Sequential(*modules)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.ff(features)


class _LossWeights(nn.Module):
    """Holds `weight`, the buffer of COMET's weighted cross-entropy loss: unused here, but
    in every word-level checkpoint, so the state dict still loads strictly."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.register_buffer("weight", torch.zeros(size))


def _activation(name: str) -> nn.Module:
    found = getattr(nn, name.title(), None)
    if found is None:
        raise CometCheckpointError(f"{name!r} is not a torch activation")
    return found()


class CometNet(nn.Module):
    """The whole model of one checkpoint class, named as COMET names its parts."""

    def __init__(self, hparams: dict[str, Any], encoder_folder: Path) -> None:
        super().__init__()
        model_class = hparams.get("class_identifier")
        if model_class not in MODEL_CLASSES:
            raise CometCheckpointError(
                f"unsupported COMET model class {model_class!r} "
                f"(supported: {', '.join(MODEL_CLASSES)})"
            )
        self.model_class = str(model_class)
        self.hparams = hparams
        self.encoder = Encoder(hparams.get("encoder_model", "XLM-RoBERTa"), encoder_folder)
        unified = self.unified
        layer = hparams.get("sent_layer" if unified else "layer", hparams.get("layer", "mix"))
        self.layer = layer
        self.layerwise_attention = (
            LayerMix(
                self.encoder.num_layers,
                str(hparams.get("layer_transformation", "softmax")),
                bool(hparams.get("layer_norm", True)),
                float(hparams.get("dropout", 0.1) or 0.0),
            )
            if layer == "mix"
            else None
        )
        units = self.encoder.output_units
        inputs = {REGRESSION: 6, REFERENCELESS: 4}.get(self.model_class, 1)
        self.estimator = FeedForward(
            units * inputs,
            list(hparams.get("hidden_sizes", [3072, 1024])),
            str(hparams.get("activations", "Tanh")),
            hparams.get("final_activation"),
        )
        self.labels: list[str] = []
        if self.word_level:
            default = ["minor", "major", "critical"] if self.model_class == XCOMET else None
            errors = list(hparams.get("error_labels") or default or ["minor", "major"])
            self.labels = ["O", *(f"I-{label}" for label in errors)]
            self.hidden2tag = nn.Linear(units, len(self.labels))
            weights = hparams.get("cross_entropy_weights")
            if weights:  # the training loss's class weights, saved with the model
                self.wordloss = _LossWeights(len(weights))
        self.eval()

    @property
    def device(self) -> torch.device:
        """Where the weights are (inputs are moved there)."""
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def unified(self) -> bool:
        return self.model_class in (UNIFIED, XCOMET)

    @property
    def word_level(self) -> bool:
        return self.model_class == XCOMET or (
            self.model_class == UNIFIED and bool(self.hparams.get("word_level_training"))
        )

    @property
    def input_segments(self) -> list[str]:
        if self.model_class == XCOMET:
            return ["mt", "src", "ref"]
        if self.model_class == UNIFIED:
            return list(self.hparams.get("input_segments") or ["mt", "src", "ref"])
        return ["mt", "src", "ref"] if self.model_class == REGRESSION else ["mt", "src"]

    def mixed(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(the mixed or chosen layer, all layers) of a batch."""
        layers = self.encoder(input_ids, attention_mask, token_type_ids)
        if self.layerwise_attention is not None:
            return self.layerwise_attention(layers, attention_mask), layers
        if isinstance(self.layer, int) and 0 <= self.layer < len(layers):
            return layers[self.layer], layers
        raise CometCheckpointError(f"invalid encoder layer {self.layer!r} in the hparams")

    def load_weights(self, state: dict[str, Any], source: str) -> None:
        """Load strictly: a key the model lacks or a weight the checkpoint lacks is an
        error naming them; only the old buffers in `_OLD_BUFFERS` are let through."""
        wanted = self.state_dict()
        state = {k: v for k, v in state.items() if not _old_buffer(k) or k in wanted}
        missing = sorted(set(wanted) - set(state))
        unexpected = sorted(set(state) - set(wanted))
        if missing or unexpected:
            raise CometCheckpointError(
                f"{source} does not fit a {self.model_class} on "
                f"{self.hparams.get('encoder_model')} as its hparams describe: "
                + "; ".join(
                    f"{what} {len(keys)} key(s): {', '.join(keys[:6])}"
                    + (", ..." if len(keys) > 6 else "")
                    for what, keys in (("missing", missing), ("unexpected", unexpected))
                    if keys
                )
            )
        try:
            self.load_state_dict(state, strict=True)
        except RuntimeError as exc:  # shapes that differ from the config
            raise CometCheckpointError(f"{source}: {exc}") from None


def _old_buffer(key: str) -> bool:
    return key.startswith("encoder.model.") and key.endswith(_OLD_BUFFERS)
