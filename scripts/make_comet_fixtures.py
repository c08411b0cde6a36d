"""Build tiny random COMET checkpoints with unbabel-comet itself, and the scores it gives.

evalkit loads COMET checkpoints natively (evalkit.metrics.comet_*), without unbabel-comet,
which pins numpy<2 and transformers<5. Whether the native loader gives the same numbers can
only be shown against the reference implementation, so this script runs in two
environments:

1. evalkit's (`.venv`, `make comet-fixtures`): picks a few dozen Arabic-English triples
   (Quran verses from the dev extra's TheQuranModule, with made-up translations of several
   qualities, and a few long ones past the encoder's 512 tokens), then runs step 2, then the
   equality tests on what step 2 wrote.
2. unbabel-comet's (`.comet-venv`, made by the Makefile; never evalkit's): trains a tiny
   sentencepiece tokenizer on the verses, writes tiny XLM-R and XLM-R-XL encoder folders
   (config and tokenizer, as an offline copy of a hub encoder would be), builds one random
   checkpoint per model class with unbabel-comet's own classes (regression with reference,
   referenceless regression, CometKiwi-style unified, xCOMET and xCOMET-lite-style
   unified with error spans), saves each the way Lightning does, reloads it with
   `comet.load_from_checkpoint` and scores the triples with `model.predict`.

The fixtures (tests/fixtures/comet/, about 2.3 MB) are committed, so CI never installs
unbabel-comet. Weights are drawn wider than a fresh initialisation so that scores spread
and spans appear: an equality test on near-constant outputs would prove little.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "comet"
COMET_PYTHON = ROOT / ".comet-venv" / "bin" / "python"
SEED = 16
#: a fake hub id: published hparams name their encoder by hub id, and the tests point
#: `encoder=FOLDER` at the local copy, as an offline user would
ENCODER_IDS = {"xlmr": "evalkit-tiny/xlm-roberta", "xlmr-xl": "evalkit-tiny/xlm-roberta-xl"}

#: one checkpoint per model class and style: folder -> (class, encoder, hparams)
MODELS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # wmt22-comet-da: sparsemax layer mix, average pooling, an old position_ids buffer
    "regression": (
        "regression_metric",
        "xlmr",
        {"layer_transformation": "sparsemax", "layer_norm": False, "pool": "avg"},
    ),
    # wmt20/21-comet-qe-da: softmax mix with layer norm
    "referenceless": (
        "referenceless_regression_metric",
        "xlmr",
        {"layer_transformation": "softmax", "layer_norm": True, "pool": "avg"},
    ),
    # wmt22/23-cometkiwi-da: unified_metric reading [mt, src], no word level
    "kiwi": (
        "unified_metric",
        "xlmr",
        {
            "layer_transformation": "sparsemax",
            "layer_norm": False,
            "input_segments": ["mt", "src"],
            "word_level_training": False,
        },
    ),
    # XCOMET-XL/XXL: xcomet_metric on XLM-R-XL, spans and MQM-weighted score
    "xcomet": (
        "xcomet_metric",
        "xlmr-xl",
        {"layer_transformation": "sparsemax", "layer_norm": False, "word_layer": 2},
    ),
    # xCOMET-lite: unified_metric with word level, three inputs
    "unified-spans": (
        "unified_metric",
        "xlmr",
        {
            "layer_transformation": "softmax",
            "layer_norm": True,
            "input_segments": ["mt", "src", "ref"],
            "word_level_training": True,
            "error_labels": ["minor", "major", "critical"],
            "word_layer": 2,
        },
    ),
}


# --- step 1, evalkit's environment ------------------------------------------------------


def triples() -> dict[str, list[dict[str, str]]]:
    """Short triples of several qualities, and long ones past 512 tokens."""
    sys.path.insert(0, str(ROOT))
    from tests.synthetic_parallel import verse_pairs

    verses = verse_pairs()
    rng = random.Random(SEED)
    fitting = [i for i, (_, en) in enumerate(verses) if 40 <= len(en) <= 220]
    chosen = sorted(rng.sample(fitting, 36))
    short = []
    for n, i in enumerate(chosen):
        src, ref = verses[i]
        words = ref.split()
        kind = n % 6
        if kind == 0:
            mt = ref
        elif kind == 1:
            mt = " ".join(w for j, w in enumerate(words) if j % 3 != 1)
        elif kind == 2:
            mt = " ".join(rng.sample(words, len(words)))
        elif kind == 3:
            mt = verses[(i + 97) % len(verses)][1]
        elif kind == 4:
            mt = src if n % 12 == 4 else " ".join(words[: len(words) // 2])
        else:
            mt = ref.lower().replace(",", "").replace("thee", "you").replace("thy", "your")
        short.append({"src": src, "mt": mt, "ref": ref})
    short[7]["mt"] = ""  # an empty hypothesis is scored too
    long = []
    for start in (200, 1500, 3000):
        group = verses[start : start + 30]
        src = " ".join(a for a, _ in group)
        ref = " ".join(e for _, e in group)
        mt = " ".join(e for j, (_, e) in enumerate(group) if j % 5 != 2)
        long.append({"src": src, "mt": mt, "ref": ref})
    return {"short": short, "long": long}


def main_evalkit_side(check: bool) -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / "triples.json").write_text(
        json.dumps(triples(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    if not COMET_PYTHON.is_file():
        raise SystemExit(f"{COMET_PYTHON} is missing: run `make comet-fixtures`")
    subprocess.run([str(COMET_PYTHON), __file__, "--comet-side"], check=True, cwd=ROOT)
    if check:
        test = ["-m", "pytest", "-q", "tests/test_comet_native.py"]
        subprocess.run([sys.executable, *test], check=True, cwd=ROOT)


# --- step 2, unbabel-comet's environment ------------------------------------------------


def build_encoders(work: Path) -> dict[str, Path]:
    """Tiny XLM-R and XLM-R-XL folders (config + tokenizer) in FIXTURES, from a
    sentencepiece model trained on the verses."""
    import sentencepiece as spm
    from transformers import XLMRobertaConfig, XLMRobertaTokenizerFast, XLMRobertaXLConfig

    data = json.loads((FIXTURES / "triples.json").read_text(encoding="utf-8"))
    sys.path.insert(0, str(ROOT))
    corpus = work / "corpus.txt"
    lines = [t[k] for t in data["short"] + data["long"] for k in ("src", "mt", "ref")]
    corpus.write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(work / "spm"),
        vocab_size=600,
        model_type="unigram",
        character_coverage=1.0,
        minloglevel=2,
    )
    tokenizer = XLMRobertaTokenizerFast(vocab_file=str(work / "spm.model"))
    shape = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_position_embeddings": 514,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "type_vocab_size": 1,
    }
    folders = {}
    for name, config in (
        ("xlmr", XLMRobertaConfig(**shape)),
        ("xlmr-xl", XLMRobertaXLConfig(**shape)),
    ):
        folder = FIXTURES / f"encoder-{name}"
        tokenizer.save_pretrained(folder)
        config.save_pretrained(folder)
        (folder / "sentencepiece.bpe.model").unlink()  # tokenizer.json is all either reads
        folders[name] = folder
    return folders


def widen(model: Any) -> None:
    """Redraw every weight wider than an initialisation does, so that outputs vary."""
    import torch

    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() >= 2:
                fan_in = param.shape[-1]
                param.copy_(torch.randn(param.shape, generator=generator) * 1.5 / fan_in**0.5)
            elif "LayerNorm" in name or "layer_norm" in name:
                if name.endswith("weight"):
                    param.copy_(1 + 0.2 * torch.randn(param.shape, generator=generator))
                else:
                    param.copy_(0.1 * torch.randn(param.shape, generator=generator))
            elif "scalar_parameters" in name:
                param.copy_(torch.randn(param.shape, generator=generator))
            elif name.endswith("gamma"):
                param.fill_(1.3)
            else:
                param.copy_(0.1 * torch.randn(param.shape, generator=generator))
        if hasattr(model, "hidden2tag"):  # "O" more often than not: spans, not one span
            # (XL's unnormalised middle layer favours "O" by some 7 logits at this draw)
            xl = model.hparams.encoder_model == "XLM-RoBERTa-XL"
            model.hidden2tag.bias[0] += -6.5 if xl else 1.0


def save_checkpoint(model: Any, folder: Path, hparams: dict[str, Any], old_buffers: bool) -> Path:
    """`checkpoints/model.ckpt` as Lightning writes it, and the `hparams.yaml` beside it."""
    import pytorch_lightning as ptl
    import torch
    import yaml

    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    checkpoint = folder / "checkpoints" / "model.ckpt"
    trainer = ptl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(model)
    trainer.save_checkpoint(checkpoint, weights_only=True)
    if old_buffers:  # checkpoints made with transformers<4.31 carry position_ids
        saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
        positions = model.encoder.model.config.max_position_embeddings
        saved["state_dict"]["encoder.model.embeddings.position_ids"] = torch.arange(
            positions
        ).expand((1, -1))
        torch.save(saved, checkpoint)
    (folder / "hparams.yaml").write_text(yaml.safe_dump(hparams, sort_keys=True))
    return checkpoint


def predict(model: Any, samples: list[dict[str, str]]) -> dict[str, Any]:
    output = model.predict(samples, batch_size=8, gpus=0, progress_bar=False)
    result: dict[str, Any] = {"scores": [float(s) for s in output.scores]}
    metadata = output.get("metadata") or {}
    if "error_spans" in metadata:
        result["spans"] = [
            [
                {
                    "text": span["text"],
                    "start": int(span["start"]),
                    "end": int(span["end"]),
                    "severity": span["severity"],
                    "confidence": float(span["confidence"]),
                }
                for span in spans
            ]
            for spans in metadata["error_spans"]
        ]
    return result


def main_comet_side() -> None:
    import tempfile

    import torch
    from comet import load_from_checkpoint
    from comet.models import str2model

    torch.manual_seed(SEED)
    data = json.loads((FIXTURES / "triples.json").read_text(encoding="utf-8"))
    expected: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        encoders = build_encoders(Path(tmp))
        for folder_name, (class_name, encoder, extra) in MODELS.items():
            common = {
                "encoder_model": "XLM-RoBERTa-XL" if encoder == "xlmr-xl" else "XLM-RoBERTa",
                "pretrained_model": str(encoders[encoder]),
                "hidden_sizes": [48, 24],
                "load_pretrained_weights": False,
                "local_files_only": True,
            }
            if class_name.endswith("regression_metric"):
                common["layer"] = "mix"
            else:
                common["sent_layer"] = "mix"
            model = str2model[class_name](**common, **extra)
            widen(model)
            hparams = dict(model.hparams)
            for setting in ("load_pretrained_weights", "local_files_only"):
                hparams.pop(setting, None)
            hparams["class_identifier"] = class_name
            folder = FIXTURES / folder_name
            checkpoint = save_checkpoint(model, folder, hparams, folder_name == "regression")
            # score as a user would: reloaded from the folder by unbabel-comet
            loaded = load_from_checkpoint(str(checkpoint), local_files_only=True)
            kind: dict[str, Any] = {"comet_class": type(loaded).__name__}
            for part in ("short", "long"):
                kind[part] = predict(loaded, data[part])
                if class_name in ("unified_metric", "xcomet_metric"):
                    without_ref = [{"src": t["src"], "mt": t["mt"]} for t in data[part]]
                    kind[f"{part}_no_ref"] = predict(loaded, without_ref)
            expected[folder_name] = kind
            # the published hparams name the encoder by hub id; so do these
            hparams["pretrained_model"] = ENCODER_IDS[encoder]
            import yaml

            (folder / "hparams.yaml").write_text(yaml.safe_dump(hparams, sort_keys=True))
    from importlib.metadata import version

    expected["made_with"] = {
        p: version(p) for p in ("unbabel-comet", "torch", "transformers", "pytorch-lightning")
    }
    (FIXTURES / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comet-side", action="store_true", help="step 2 (in .comet-venv)")
    parser.add_argument("--no-check", action="store_true", help="skip the equality tests")
    arguments = parser.parse_args()
    if arguments.comet_side:
        main_comet_side()
    else:
        main_evalkit_side(check=not arguments.no_check)
