"""The encoder's tokenizer exactly as unbabel-comet ran it: the folder's `tokenizer.json`.

Under transformers 4, COMET's `XLMRobertaTokenizerFast.from_pretrained` ran the pipeline
stored in `tokenizer.json` as it is. transformers 5 rebuilds that pipeline from the
vocabulary in its own way: the ids agree on ordinary text, but the character offsets do
not (a word's first token no longer covers the space before it), and error spans are
reported in those offsets. So `tokenizer.json` is run here with the `tokenizers` library
directly; a folder without one (a sentencepiece model only) falls back to transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_CLEANUPS = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


@dataclass
class Encoded:
    """Token ids (special tokens included) and character offsets, one row per text."""

    ids: list[list[int]]
    offsets: list[list[tuple[int, int]]]


class Tokenizer(Protocol):
    cls_id: int
    sep_id: int
    pad_id: int

    def encode(self, texts: list[str], max_length: int | None) -> Encoded: ...

    def count(self, texts: list[str]) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


def _special(settings: dict[str, Any], name: str, default: str) -> str:
    value = settings.get(name, default)
    return value["content"] if isinstance(value, dict) else str(value)


class JsonTokenizer:
    """A `tokenizer.json` pipeline, run by the tokenizers library."""

    def __init__(self, folder: Path, bert_like: bool) -> None:
        from tokenizers import Tokenizer as Backend

        self._backend = Backend.from_file(str(folder / "tokenizer.json"))
        self._backend.no_padding()
        self._backend.no_truncation()
        settings: dict[str, Any] = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):
            if (folder / name).is_file():
                settings.update(json.loads((folder / name).read_text(encoding="utf-8")))
        names = ("[CLS]", "[SEP]", "[PAD]") if bert_like else ("<s>", "</s>", "<pad>")
        self.cls_id = self._id(_special(settings, "cls_token", names[0]))
        self.sep_id = self._id(_special(settings, "sep_token", names[1]))
        self.pad_id = self._id(_special(settings, "pad_token", names[2]))
        self._cleanup = bool(settings.get("clean_up_tokenization_spaces", False))

    def _id(self, token: str) -> int:
        found = self._backend.token_to_id(token)
        if found is None:
            raise ValueError(f"the tokenizer has no {token!r}")
        return int(found)

    def encode(self, texts: list[str], max_length: int | None) -> Encoded:
        if max_length is not None:
            self._backend.enable_truncation(max_length)
        try:
            encodings = self._backend.encode_batch(texts)
        finally:
            self._backend.no_truncation()
        return Encoded(
            [list(e.ids) for e in encodings],
            [[(int(a), int(b)) for a, b in e.offsets] for e in encodings],
        )

    def count(self, texts: list[str]) -> list[int]:
        encodings = self._backend.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def decode(self, ids: list[int]) -> str:
        text = self._backend.decode(ids, skip_special_tokens=False)
        if self._cleanup:
            for before, after in _CLEANUPS:
                text = text.replace(before, after)
        return text


class TransformersTokenizer:
    """Fallback for a folder without tokenizer.json: the transformers class COMET used."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self.cls_id = int(tokenizer.cls_token_id)
        self.sep_id = int(tokenizer.sep_token_id)
        self.pad_id = int(tokenizer.pad_token_id)

    def encode(self, texts: list[str], max_length: int | None) -> Encoded:
        encoded = self._tokenizer(
            texts,
            truncation=max_length is not None,
            max_length=max_length,
            return_offsets_mapping=True,
        )
        return Encoded(
            [list(row) for row in encoded["input_ids"]],
            [[(int(a), int(b)) for a, b in row] for row in encoded["offset_mapping"]],
        )

    def count(self, texts: list[str]) -> list[int]:
        encoded = self._tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(row) for row in encoded]

    def decode(self, ids: list[int]) -> str:
        return str(self._tokenizer.decode(ids))
