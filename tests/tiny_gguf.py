"""A two-layer Qwen2 GGUF with random weights (matrices Q8_0-quantized), written the way
llama.cpp lays one out: what the GGUF streaming tests and the tiny packaged model build."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def write_tiny_qwen2_gguf(
    path: Path,
    tokens: Sequence[str],
    tied: bool = False,
    matrix_scale: float = 1.0,
    norms_near_one: bool = False,
    tokenizer: Callable[[Any], None] | None = None,
) -> None:
    """`tokens` is the vocabulary; `tied` leaves out the output matrix (the embedding is
    reused); `norms_near_one` draws norm weights around 1, as trained models have them, so
    a generation stays readable; `tokenizer` adds further tokenizer fields to the writer."""
    import gguf

    hidden, ffn, heads, kv_heads, layers = 64, 128, 4, 2, 2
    vocab = len(tokens)
    rng = np.random.default_rng(0)
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_block_count(layers)
    writer.add_context_length(256)
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(list(tokens))
    if tokenizer is not None:
        tokenizer(writer)

    def matrix(name: str, rows: int, cols: int) -> None:
        data = (rng.standard_normal((rows, cols)) * matrix_scale).astype(np.float32)
        quantized = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
        writer.add_tensor(name, quantized, raw_dtype=gguf.GGMLQuantizationType.Q8_0)

    def vector(name: str, size: int) -> None:
        values = 1 + rng.normal(0, 0.1, size) if norms_near_one else rng.standard_normal(size)
        writer.add_tensor(name, values.astype(np.float32))

    head_dim = hidden // heads
    matrix("token_embd.weight", vocab, hidden)
    for i in range(layers):
        matrix(f"blk.{i}.attn_q.weight", hidden, hidden)
        matrix(f"blk.{i}.attn_k.weight", kv_heads * head_dim, hidden)
        matrix(f"blk.{i}.attn_v.weight", kv_heads * head_dim, hidden)
        vector(f"blk.{i}.attn_q.bias", hidden)
        vector(f"blk.{i}.attn_k.bias", kv_heads * head_dim)
        vector(f"blk.{i}.attn_v.bias", kv_heads * head_dim)
        matrix(f"blk.{i}.attn_output.weight", hidden, hidden)
        matrix(f"blk.{i}.ffn_gate.weight", ffn, hidden)
        matrix(f"blk.{i}.ffn_up.weight", ffn, hidden)
        matrix(f"blk.{i}.ffn_down.weight", hidden, ffn)
        vector(f"blk.{i}.attn_norm.weight", hidden)
        vector(f"blk.{i}.ffn_norm.weight", hidden)
    vector("output_norm.weight", hidden)
    if not tied:
        matrix("output.weight", vocab, hidden)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
