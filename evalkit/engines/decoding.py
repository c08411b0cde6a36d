"""Decoding rules shared by every model engine."""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.engines.base import DecodingOptions


def new_token_budget(options: DecodingOptions, source_lengths: Sequence[int]) -> int:
    """Tokens a batch may generate: bounded by its longest source, so a looping model
    stops after `max_length_ratio` times the source length (plus 16), never later than
    `max_new_tokens`."""
    longest = max(source_lengths, default=0)
    return max(1, min(options.max_new_tokens, int(longest * options.max_length_ratio) + 16))


def setup_torch(options: DecodingOptions) -> None:
    import torch
    from transformers.utils import logging

    logging.disable_progress_bar()  # evalkit shows its own progress
    if options.threads:
        torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
