"""The batch size a recognizer picks when nobody gives one (adapters/mlx/batch_size.py)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.batch_size import (
    CPU_BATCH_SIZE,
    MAX_BATCH_SIZE,
    MEMORY_SHARE,
    RowShape,
    auto_batch_size,
    rows_that_fit,
)

QWEN3_ASR_06B = RowShape(
    layers=28, kv_heads=8, head_dim=128, n_mels=128, stem_channels=480, itemsize=2
)
GIB = 1 << 30


@given(
    limit=st.integers(0, 1 << 40),
    used=st.integers(0, 1 << 40),
    row=st.integers(1, 1 << 32),
)
def test_the_rows_fit_in_the_share_of_memory_left(limit: int, used: int, row: int) -> None:
    rows = rows_that_fit(limit, used, row)
    assert 1 <= rows <= MAX_BATCH_SIZE
    free = limit * MEMORY_SHARE - used
    if rows > 1:  # beyond the one row that always runs, every row fits
        assert rows * row <= free
    if rows < MAX_BATCH_SIZE:  # and one more would not
        assert (rows + 1) * row > free


@given(st.integers(1, 1 << 36), st.integers(0, 1 << 36), st.integers(1, 1 << 36))
def test_more_memory_in_use_never_gives_more_rows(limit: int, used: int, row: int) -> None:
    assert rows_that_fit(limit, used + row, row) <= rows_that_fit(limit, used, row)


def test_an_h200_decodes_an_hour_of_chunks_in_one_batch() -> None:
    # 139 GiB of GPU memory, 1.2 GiB of 0.6B weights in bf16: an hour is 120 chunks.
    assert rows_that_fit(139 * GIB, 2 * GIB, QWEN3_ASR_06B.row_bytes()) >= 120


def test_a_row_counts_its_cache_and_its_stem() -> None:
    base = QWEN3_ASR_06B.row_bytes()
    assert attrs.evolve(QWEN3_ASR_06B, stem_channels=960).row_bytes() > base
    assert attrs.evolve(QWEN3_ASR_06B, layers=56).row_bytes() > base
    assert attrs.evolve(QWEN3_ASR_06B, itemsize=4).row_bytes() == 2 * base


def test_a_row_of_no_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        rows_that_fit(GIB, 0, 0)


@pytest.mark.skipif(mx.default_device() != mx.cpu, reason="the CPU's batch size")
def test_a_cpu_decodes_a_few_chunks_at_a_time() -> None:
    assert auto_batch_size(QWEN3_ASR_06B) == CPU_BATCH_SIZE
