"""Decoding rules shared by every model engine."""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.engines.base import DecodingOptions


def unit_budget(max_new_tokens: int, max_length_ratio: float, source_length: int) -> int:
    """Tokens one unit may generate: `max_length_ratio` times its source length plus 16,
    so a looping model stops early, never more than `max_new_tokens`. The cap is per unit,
    never per batch, so a unit's text does not depend on what it was batched with, and a
    server answering one request per unit (max_tokens = this budget) gives the same text."""
    return max(1, min(max_new_tokens, int(source_length * max_length_ratio) + 16))


def unit_budgets(options: DecodingOptions, source_lengths: Sequence[int]) -> list[int]:
    return [
        unit_budget(options.max_new_tokens, options.max_length_ratio, n) for n in source_lengths
    ]


def cut_to_budgets(sequences: Sequence[Sequence[int]], budgets: Sequence[int]) -> list[list[int]]:
    """Each generated sequence cut to its own unit's budget. A batch decodes up to its
    largest budget; greedy decoding makes the first tokens of a longer run the same as
    those of a run stopped earlier, so cutting afterwards equals capping each unit."""
    return [list(seq[:budget]) for seq, budget in zip(sequences, budgets, strict=True)]


def reached_budget(sequence: Sequence[int], budget: int) -> bool:
    """Whether a generation (stop token excluded) used its whole budget: cut off, as a
    server reports with finish_reason "length"."""
    return len(sequence) >= budget


def new_token_budget(options: DecodingOptions, source_lengths: Sequence[int]) -> int:
    """The largest unit budget of a batch: what a batch decoder is told to generate."""
    return max(unit_budgets(options, source_lengths), default=1)


def setup_torch(options: DecodingOptions) -> None:
    import torch
    from transformers.utils import logging

    logging.disable_progress_bar()  # evalkit shows its own progress
    if options.threads:
        torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
