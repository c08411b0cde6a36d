"""A tiny packaged model built on the spot: a two-layer Qwen2 GGUF with random weights and
a real byte-level BPE tokenizer and chat template, split into two "part packages" that
importlib.metadata finds the way it finds the real ones (a `.dist-info` folder on
sys.path listing the part files). Registered under `tiny-packaged`, it goes through the
same code as the shipped models: joined, dequantized, converted, slimmed.

Also the driver of the processes the concurrency tests start:
`python -m tests.tiny_packaged SPEC.json TASK...` registers the model from SPEC and runs
each task (`ct2`, `int8`, `transformers`: translate one sentence and print it; `hold
SECONDS`: hold the model's weights, shared, as a loading engine does, for that long).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from evalkit.engines.packaged_models import PackagedModel, Part
from tests.tiny_causal import CHATML, SPECIALS, TEXT
from tests.tiny_gguf import write_tiny_qwen2_gguf

NAME = "tiny-packaged"
GGUF_NAME = "tiny-packaged.gguf"
SENTENCE = "زار رئيس الوزراء المدينة بعد مقتل ناشطين."


def _tokenizer_fields() -> tuple[list[str], list[str], dict[str, int]]:
    """Tokens, merges and special ids of a byte-level BPE trained on a few lines."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    raw.train_from_iterator(TEXT * 4, trainer)
    model = json.loads(raw.to_str())["model"]
    vocab: dict[str, int] = model["vocab"]
    tokens = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    return tokens, merges, {token: vocab[token] for token in SPECIALS}


def write_tiny_gguf(path: Path) -> None:
    """A two-layer Qwen2 GGUF (Q8_0 matrices, random weights) with its tokenizer."""
    tokens, merges, special = _tokenizer_fields()

    def tokenizer(writer) -> None:
        writer.add_tokenizer_pre("qwen2")
        writer.add_token_types([3 if t in special else 1 for t in tokens])
        writer.add_token_merges(merges)
        writer.add_eos_token_id(special["<|im_end|>"])
        writer.add_pad_token_id(special["<|endoftext|>"])
        writer.add_chat_template(CHATML)

    write_tiny_qwen2_gguf(path, tokens, matrix_scale=0.5, norms_near_one=True, tokenizer=tokenizer)


def build_tiny_packaged(folder: Path) -> tuple[PackagedModel, Path]:
    """The tiny model's GGUF split over two installed-looking part packages under
    `folder`; (the model, the folder to put on sys.path)."""
    site = folder / "site"
    site.mkdir(parents=True, exist_ok=True)
    whole = folder / GGUF_NAME
    write_tiny_gguf(whole)
    data = whole.read_bytes()
    halves = [data[: len(data) // 2], data[len(data) // 2 :]]
    parts = []
    for i, chunk in enumerate(halves, start=1):
        distribution, module = f"tiny-packaged-part{i}", f"tiny_packaged_part{i}"
        file = f"{module}/data/part{i:02d}.bin"
        (site / file).parent.mkdir(parents=True, exist_ok=True)
        (site / file).write_bytes(chunk)
        info = site / f"{module}-1.0.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n", encoding="utf-8"
        )
        (info / "RECORD").write_text(
            f"{file},,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n", encoding="utf-8"
        )
        parts.append(Part(distribution, "1.0", file))
    model = PackagedModel(
        name=NAME,
        family="qwen2",
        parameters="tiny",
        description="a test model",
        parts=tuple(parts),
        gguf_name=GGUF_NAME,
        sha256=hashlib.sha256(data).hexdigest(),
        chat=True,
        default=False,
    )
    whole.unlink()
    return model, site


def write_spec(model: PackagedModel, site: Path, path: Path) -> Path:
    """What a driver process needs to register the model (see `main`)."""
    spec = {
        "site": str(site),
        "sha256": model.sha256,
        "parts": [[p.distribution, p.version, p.file] for p in model.parts],
    }
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def register(spec_file: Path) -> PackagedModel:
    """Register the model of a spec file in this process (a driver's first step)."""
    from evalkit.engines.packaged_models import PACKAGED_MODELS

    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    sys.path.insert(0, spec["site"])
    model = PackagedModel(
        name=NAME,
        family="qwen2",
        parameters="tiny",
        description="a test model",
        parts=tuple(Part(*p) for p in spec["parts"]),
        gguf_name=GGUF_NAME,
        sha256=spec["sha256"],
        chat=True,
        default=False,
    )
    PACKAGED_MODELS[NAME] = model
    return model


TASKS = {
    "ct2": f"packaged:{NAME},max_new_tokens=6",
    "int8": f"packaged:{NAME},max_new_tokens=6,compute_type=int8",
    "transformers": f"packaged:{NAME},max_new_tokens=6,engine=transformers",
}


def main(argv: list[str]) -> None:
    from evalkit.engines import create_system
    from evalkit.engines.packaged_models import prepare_float_checkpoint, using_weights

    model = register(Path(argv[0]))
    tasks = iter(argv[1:])
    for task in tasks:
        if task == "hold":
            prepare_float_checkpoint(model)  # made first: then held shared, as readers do
            with using_weights(model) as folder:
                print(f"holding {folder}", flush=True)
                time.sleep(float(next(tasks)))
            continue
        engine = create_system(TASKS[task]).system
        (output,) = engine.translate([SENTENCE], "ar", "en")
        engine.close()
        print(json.dumps({task: output}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
