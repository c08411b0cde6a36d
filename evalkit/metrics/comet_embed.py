"""Sentence embeddings of a regression COMET model, long texts read in pieces.

Kept apart from the scores (`comet_score.py`) because embedding is the one step of a
regression model that reads text, and the one a long unit changes: unbabel-comet cuts a
text at the encoder's window, and here a longer one is cut at sentence ends into pieces
that each fit it (`pieces_of`, shared with the unified models' piece triples), each
piece embedded on its own, and the text's embedding combined from theirs, weighted by
their token counts (average pooling) or as their maximum (max pooling). The estimator on
top, and the unified models, which read the three texts together instead of embedding
each, are `comet_score.py`'s. Embeddings are kept in memory across calls, by the caller's
key (one per model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

from evalkit.allocator import release_free_memory
from evalkit.embeddings import BoundedCache, text_pieces
from evalkit.metrics.comet_model import CometNet

LongRule = Literal["pieces", "truncate"]
CACHE_SIZE = 20_000  # sentence embeddings (4 KB each for a large encoder)

_embeddings: BoundedCache[tuple[str, str], tuple[torch.Tensor, int]] = BoundedCache(CACHE_SIZE)


def content_limit(net: CometNet) -> int:
    """Tokens of one text that unbabel-comet reads: its limit less <s> and </s>."""
    return net.encoder.max_positions - 4


def token_counts(net: CometNet, texts: Sequence[str]) -> list[int]:
    """Tokens of each text, special tokens excluded."""
    return net.encoder.tokenizer.count(list(texts)) if texts else []


def pieces_of(net: CometNet, text: str, limit: int) -> list[str]:
    tokenizer = net.encoder.tokenizer
    return text_pieces(text, limit, lambda piece: tokenizer.count([piece])[0])


@torch.inference_mode()
def _embed_batch(net: CometNet, texts: list[str]) -> list[tuple[torch.Tensor, int]]:
    """(sentence embedding, token count) per text, as COMET's `get_sentence_embedding`."""
    pad = net.encoder.tokenizer.pad_id
    rows = net.encoder.tokenizer.encode(texts, net.encoder.max_positions - 2).ids
    longest = max(len(row) for row in rows)
    ids = torch.tensor([row + [pad] * (longest - len(row)) for row in rows], device=net.device)
    mask = torch.tensor(
        [[1] * len(row) + [0] * (longest - len(row)) for row in rows], device=net.device
    )
    mixed, layers = net.mixed(ids, mask)
    pool = net.hparams.get("pool", "avg")
    padding = ids.eq(pad).unsqueeze(-1)
    if pool == "avg":
        summed = mixed.float().masked_fill(padding, 0.0).sum(1)
        vectors = summed / mask.unsqueeze(-1).expand(mixed.size()).float().sum(1)
    elif pool == "max":
        vectors = mixed.float().masked_fill(padding, float("-inf")).max(dim=1)[0]
    elif pool == "cls":
        vectors = mixed[:, 0, :]
    elif pool == "default":
        vectors = layers[-1][:, 0, :]
    else:
        raise ValueError(f"invalid pooling {pool!r} in the hparams")
    counts = mask.sum(1).tolist()
    vectors = vectors.float().cpu()  # combined and cached on the CPU, in float32
    return [(vectors[i], int(counts[i])) for i in range(len(texts))]


def embed(
    net: CometNet, texts: Sequence[str], cache_key: str, batch_size: int, long: LongRule
) -> dict[str, torch.Tensor]:
    """The sentence embedding of each distinct text; long ones from their pieces."""
    distinct = list(dict.fromkeys(texts))
    limit = content_limit(net)
    counts = dict(zip(distinct, token_counts(net, distinct), strict=True))
    pieces = {
        text: pieces_of(net, text, limit) if long == "pieces" and counts[text] > limit else [text]
        for text in distinct
    }
    wanted = list(dict.fromkeys(p for parts in pieces.values() for p in parts))
    found = {p: v for p in wanted if (v := _embeddings.get((cache_key, p))) is not None}
    missing = [p for p in wanted if p not in found]
    # sorted by token count: a batch pads only to its own longest piece
    sizes = dict(zip(missing, token_counts(net, missing), strict=True))
    missing.sort(key=lambda p: (sizes[p], p))
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        for piece, result in zip(batch, _embed_batch(net, batch), strict=True):
            found[piece] = result
            _embeddings.put((cache_key, piece), result)
        release_free_memory()  # activations freed: their pages leave the process
    combined = {}
    for text, parts in pieces.items():
        if len(parts) == 1:
            combined[text] = found[parts[0]][0]
        elif net.hparams.get("pool", "avg") == "max":
            combined[text] = torch.stack([found[p][0] for p in parts]).max(dim=0)[0]
        else:
            weights = torch.tensor([float(found[p][1]) for p in parts])
            stacked = torch.stack([found[p][0] for p in parts])
            combined[text] = (stacked * weights[:, None]).sum(0) / weights.sum()
    return combined
