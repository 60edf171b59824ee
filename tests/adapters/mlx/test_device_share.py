"""Processes sharing one GPU bound their MLX memory to their share (`share_device_memory`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qasr.adapters.mlx.backend import mx, share_device_memory


@pytest.fixture
def limits() -> Iterator[int]:
    memory = mx.get_memory_limit()
    cache = mx.set_cache_limit(memory)  # returns the previous cache limit
    mx.set_cache_limit(cache)
    yield memory
    mx.set_memory_limit(memory)
    mx.set_cache_limit(cache)


@pytest.mark.parametrize("share", [0.5, 0.25])
def test_a_share_bounds_memory_and_cache(limits: int, share: float) -> None:
    share_device_memory(share)
    assert mx.get_memory_limit() == int(limits * share)
    assert mx.set_cache_limit(0) == int(limits * share)  # the cache limit it had set


@pytest.mark.parametrize("share", [1.0, 2.0, 0.0])
def test_a_whole_device_or_no_share_changes_nothing(limits: int, share: float) -> None:
    share_device_memory(share)
    assert mx.get_memory_limit() == limits
