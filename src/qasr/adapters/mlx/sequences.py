"""Small sequence helpers the MLX adapters share."""

from __future__ import annotations

from collections.abc import Sequence


def common_prefix_length(first: Sequence[object], second: Sequence[object]) -> int:
    """How many leading items of `first` and `second` are equal (a draft's accepted tokens, a
    prompt's reusable segments)."""
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count
