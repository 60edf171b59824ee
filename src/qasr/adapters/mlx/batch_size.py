"""How many chunks decode together when nobody says: a few on a CPU, as many as fit on a GPU.

A decode step costs a GPU about the same whether it carries 1 row or 64 (4.5 vs 8.8 ms for the
0.6B on the H200, docs/benchmarks/decode-step-h200.json): the step is many small kernels, not
arithmetic. So a long recording decodes fastest in as few batches as memory allows: its 132
chunks of an hour in one batch take 105 steps, in batches of 64 they take 315. On a CPU the
step is arithmetic and grows with the rows, and a small batch keeps memory modest.

A row's memory is its KV cache (prompt plus token budget, every layer) and the encoder's
convolution stem over its 30 s of mel; a batch may use half of what MLX may allocate, minus what
is already in use (the weights).
"""

from __future__ import annotations

import attrs

CPU_BATCH_SIZE = 8
MAX_BATCH_SIZE = 256
MEMORY_SHARE = 0.5
CHUNK_FRAMES = 3000  # 30 s of mel frames
AUDIO_TOKENS_PER_CHUNK = 390  # 30 s at 13 audio tokens per second
PROMPT_TOKENS = 32  # the chat template, context and language around the audio
TOKEN_BUDGET = 600  # default_max_new_tokens(30 s)


@attrs.frozen
class RowShape:
    """What one 30 s row holds, from the checkpoint's config."""

    layers: int
    kv_heads: int
    head_dim: int
    n_mels: int
    stem_channels: int
    itemsize: int

    def row_bytes(self) -> int:
        tokens = AUDIO_TOKENS_PER_CHUNK + PROMPT_TOKENS + TOKEN_BUDGET
        kv_cache = 2 * self.layers * self.kv_heads * self.head_dim * tokens
        # The stem's first convolution (stride 2 in time and frequency) and its activation.
        stem = 2 * self.stem_channels * (self.n_mels // 2) * (CHUNK_FRAMES // 2)
        return (kv_cache + stem) * self.itemsize


def rows_that_fit(limit_bytes: int, used_bytes: int, row_bytes: int) -> int:
    """Rows whose memory fits in `MEMORY_SHARE` of `limit_bytes` beyond `used_bytes`, from 1
    (a batch always makes progress) to `MAX_BATCH_SIZE`."""
    if row_bytes <= 0:
        raise ValueError(f"a row needs a positive number of bytes, got {row_bytes}")
    free = max(0, int(limit_bytes * MEMORY_SHARE) - used_bytes)
    return max(1, min(MAX_BATCH_SIZE, free // row_bytes))


def auto_batch_size(shape: RowShape) -> int:
    """`CPU_BATCH_SIZE` on a CPU; on a GPU, the rows that fit in its memory now."""
    from qasr.adapters.mlx.backend import mx

    if mx.default_device() == mx.cpu:
        return CPU_BATCH_SIZE
    return rows_that_fit(mx.get_memory_limit(), mx.get_active_memory(), shape.row_bytes())
