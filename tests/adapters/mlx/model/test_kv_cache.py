"""The KV cache: appends and trims behave like a list of positions; decoding through it equals
recomputing the whole sequence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.kv_cache import KVCache, make_cache
from qasr.adapters.mlx.model.text_decoder import TextConfig, TextModel
from qasr.errors import InvalidInputError

B, HEADS, DIM = 2, 3, 4


def block(rng: np.random.Generator, length: int) -> np.ndarray:
    return rng.standard_normal((B, HEADS, length, DIM)).astype(np.float32)


# An operation is ("append", length) or ("trim", n).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 9)),
        st.tuples(st.just("trim"), st.integers(0, 12)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(ops=operations, step=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_cache_behaves_like_a_list_of_positions(
    ops: list[tuple[str, int]], step: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    cache = KVCache(step=step)
    expected_keys = np.zeros((B, HEADS, 0, DIM), np.float32)
    expected_values = expected_keys
    for op, size in ops:
        if op == "append":
            keys, values = block(rng, size), block(rng, size)
            expected_keys = np.concatenate([expected_keys, keys], axis=2)
            expected_values = np.concatenate([expected_values, values], axis=2)
            got_keys, got_values = cache.update_and_fetch(mx.array(keys), mx.array(values))
            np.testing.assert_array_equal(np.array(got_keys), expected_keys)
            np.testing.assert_array_equal(np.array(got_values), expected_values)
        else:
            kept = max(0, expected_keys.shape[2] - size)
            assert cache.trim(size) == expected_keys.shape[2] - kept
            expected_keys = expected_keys[:, :, :kept]
            expected_values = expected_values[:, :, :kept]
        assert cache.offset == expected_keys.shape[2]
        assert cache.capacity >= cache.offset


def test_cache_grows_in_whole_steps_only_when_full() -> None:
    rng = np.random.default_rng(0)
    cache = KVCache(step=4)
    assert cache.capacity == 0 and cache.state is None
    cache.update_and_fetch(mx.array(block(rng, 1)), mx.array(block(rng, 1)))
    assert cache.capacity == 4
    cache.update_and_fetch(mx.array(block(rng, 3)), mx.array(block(rng, 3)))
    assert cache.capacity == 4
    cache.update_and_fetch(mx.array(block(rng, 5)), mx.array(block(rng, 5)))
    assert cache.capacity == 12 and cache.offset == 9
    keys, values = cache.state  # type: ignore[misc]
    assert keys.shape == (B, HEADS, 9, DIM) and values.shape == (B, HEADS, 9, DIM)


def test_trim_forgets_positions_that_the_next_append_overwrites() -> None:
    rng = np.random.default_rng(1)
    cache = KVCache(step=8)
    first, second = block(rng, 5), block(rng, 2)
    cache.update_and_fetch(mx.array(first), mx.array(first))
    assert cache.trim(3) == 3
    keys, _ = cache.update_and_fetch(mx.array(second), mx.array(second))
    np.testing.assert_array_equal(np.array(keys), np.concatenate([first[:, :, :2], second], 2))
    assert cache.trim(100) == 4 and cache.offset == 0


def test_step_must_be_positive() -> None:
    with pytest.raises(InvalidInputError, match="step"):
        KVCache(step=0)
    assert len(make_cache(3)) == 3


TINY = TextConfig(
    hidden_size=32,
    intermediate_size=48,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=8,
    vocab_size=64,
    rope_theta=10_000.0,
    rope_scaling={"mrope_section": [2, 1, 1]},
)


@pytest.mark.parametrize("step", [1, 3, 256])
def test_decoding_through_the_cache_equals_recomputing(step: int) -> None:
    mx.random.seed(0)
    model = TextModel(TINY)
    embeds = mx.random.normal((2, 9, TINY.hidden_size))
    full = model(embeds, 0)
    cache = model.make_cache(step=step)
    # A prefill, a later chunk of several positions (causal mask offset by the cache), steps.
    pieces = [model(embeds[:, :4], 0, cache), model(embeds[:, 4:7], 4, cache)]
    pieces += [model(embeds[:, t : t + 1], t, cache) for t in range(7, 9)]
    incremental = mx.concatenate(pieces, axis=1)
    np.testing.assert_allclose(np.array(incremental), np.array(full), rtol=1e-5, atol=1e-5)
    assert all(layer.offset == 9 for layer in cache)
