"""The fused decode kernels (cuda_decode_kernels.py) equal their MLX meaning, on MLX's CUDA backend.

Skipped elsewhere: CI has no GPU. Run on the lent GPU with `MLX_ENABLE_TF32=0 python -m pytest
tests/gpu` (MLX's CUDA matmuls round float32 to TF32 unless told not to). The norm and rope
kernels are compared with the MLX ops they replace, on the GPU; attention with its float32
meaning on the CPU stream (MLX's CPU rope rounds sin and cos to the dtype, its CUDA rope does
not, so the CPU is no reference for that one). In float32 a kernel matches its reference to
float32 rounding; in bfloat16 to one rounding of the output (the kernels sum in another order).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model import cuda_decode_kernels as kernels
from qasr.adapters.mlx.model.mrope import inverse_frequencies
from qasr.adapters.mlx.model.text_decoder import TextConfig, TextModel, padded_causal_mask

pytestmark = pytest.mark.skipif(
    not (mx.cuda.is_available() and mx.default_device() == mx.gpu),
    reason="the fused decode kernels run on MLX's CUDA backend",
)

HEADS = [(16, 8, 128), (4, 2, 64), (8, 1, 128), (2, 2, 32)]  # (query heads, kv heads, head dim)
DTYPES = {"float32": mx.float32, "bfloat16": mx.bfloat16}


def on_cpu(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    with mx.stream(mx.cpu):
        result = function(*args, **kwargs)
        mx.eval(result)
    return result


def assert_close(ours: mx.array, reference: mx.array, dtype: mx.Dtype) -> None:
    a = np.array(ours.astype(mx.float32), dtype=np.float64)
    b = np.array(reference.astype(mx.float32), dtype=np.float64)
    scale = max(float(np.abs(b).max()), 1e-6)
    if dtype == mx.float32:
        assert float(np.abs(a - b).max()) <= 2e-6 * scale
    else:  # one bfloat16 rounding of the largest values, and most elements bit-equal
        assert float(np.abs(a - b).max()) <= 2**-7 * scale
        assert float(np.mean(a == b)) >= 0.97


@settings(max_examples=20, deadline=None)
@given(
    heads=st.sampled_from(HEADS),
    dtype=st.sampled_from(sorted(DTYPES)),
    batch=st.integers(1, 9),
    seed=st.integers(0, 2**16),
)
def test_qk_norm_rope_is_the_attention_layers_norm_and_rope(
    heads: tuple[int, int, int], dtype: str, batch: int, seed: int
) -> None:
    n_heads, n_kv_heads, head_dim = heads
    mx.random.seed(seed)
    width = (n_heads + 2 * n_kv_heads) * head_dim
    qkv = (3 * mx.random.normal((batch, 1, width))).astype(DTYPES[dtype])
    q_weight = (1 + 0.3 * mx.random.normal((head_dim,))).astype(DTYPES[dtype])
    k_weight = (1 + 0.3 * mx.random.normal((head_dim,))).astype(DTYPES[dtype])
    # Decode positions are never negative (a padded row's start is minus its padding, and it
    # decodes after its prompt); MLX's CUDA rope reads negative offsets differently from its CPU
    # rope and from this kernel, which agree.
    positions = mx.random.randint(0, 4000, (batch,)).astype(mx.int32)
    wavelengths = 1.0 / inverse_frequencies(head_dim, 1_000_000.0)
    args = (qkv, q_weight, k_weight, positions, wavelengths)
    shape = {"n_heads": n_heads, "n_kv_heads": n_kv_heads, "eps": 1e-6}
    for ours, reference in zip(
        kernels.qk_norm_rope(*args, **shape),
        kernels.reference_qk_norm_rope(*args, **shape),
        strict=True,
    ):
        assert ours.shape == reference.shape
        assert_close(ours, reference, DTYPES[dtype])


@settings(max_examples=20, deadline=None)
@given(
    heads=st.sampled_from(HEADS),
    dtype=st.sampled_from(sorted(DTYPES)),
    batch=st.integers(1, 9),
    length=st.integers(1, 700),
    seed=st.integers(0, 2**16),
)
def test_masked_attention_over_a_cache_view_is_sdpa_with_the_mask(
    heads: tuple[int, int, int], dtype: str, batch: int, length: int, seed: int
) -> None:
    n_heads, n_kv_heads, head_dim = heads
    mx.random.seed(seed)
    capacity = length + 37  # the cache's buffer is longer than its filled part
    queries = mx.random.normal((batch, n_heads, 1, head_dim)).astype(DTYPES[dtype])
    keys = mx.random.normal((batch, n_kv_heads, capacity, head_dim)).astype(DTYPES[dtype])
    values = mx.random.normal((batch, n_kv_heads, capacity, head_dim)).astype(DTYPES[dtype])
    mask = mx.random.uniform(shape=(batch, 1, 1, length)) < 0.7
    mask[..., -1] = True  # the query sees itself
    keys, values = keys[..., :length, :], values[..., :length, :]
    scale = head_dim**-0.5
    ours = kernels.masked_decode_attention(queries, keys, values, mask, scale=scale)
    reference = on_cpu(
        kernels.reference_masked_decode_attention, queries, keys, values, mask, scale=scale
    )
    assert ours.shape == (batch, 1, n_heads * head_dim)
    assert_close(ours, reference, DTYPES[dtype])


def test_a_row_with_every_key_masked_gives_zeros() -> None:
    queries = mx.ones((2, 4, 1, 64))
    keys = values = mx.ones((2, 2, 10, 64))
    mask = mx.array([[True] * 10, [False] * 10])[:, None, None, :]
    out = np.array(kernels.masked_decode_attention(queries, keys, values, mask, scale=0.125))
    assert np.all(out[1] == 0) and np.allclose(out[0], 1.0)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("width", [1024, 2048, 32, 100])
def test_add_rms_norm_is_the_add_then_the_norm(dtype: str, width: int) -> None:
    mx.random.seed(width)
    x, y = (mx.random.normal((5, 1, width)).astype(DTYPES[dtype]) for _ in range(2))
    weight = (1 + 0.3 * mx.random.normal((width,))).astype(DTYPES[dtype])
    total, normed = kernels.add_rms_norm(x, y, weight, 1e-6)
    reference_total, reference_normed = kernels.reference_add_rms_norm(x, y, weight, 1e-6)
    np.testing.assert_array_equal(
        np.array(total.astype(mx.float32)), np.array(reference_total.astype(mx.float32))
    )
    assert_close(normed, reference_normed, DTYPES[dtype])


def _greedy(model: TextModel, embeds: mx.array, padding: list[int], steps: int) -> list[list]:
    batch, prompt = embeds.shape[:2]
    key_mask = (mx.arange(prompt)[None, :] >= mx.array(padding)[:, None]).astype(mx.int32)
    starts = -mx.array(padding, dtype=mx.int32)
    cache = model.make_cache()
    hidden = model(embeds, starts, cache, padded_causal_mask(key_mask, prompt))
    tokens = mx.argmax(model.as_logits(hidden[:, -1:]), axis=-1)
    picked = [tokens[:, 0].tolist()]
    for step in range(steps):
        columns = mx.concatenate([key_mask, mx.ones((batch, step + 1), mx.int32)], axis=1)
        mask = columns.astype(mx.bool_)[:, None, None, :]
        hidden = model(model.embed_tokens(tokens), starts + prompt + step, cache, mask)
        tokens = mx.argmax(model.as_logits(hidden), axis=-1)
        picked.append(tokens[:, 0].tolist())
    return picked


def test_greedy_decoding_picks_the_same_tokens_with_and_without_the_kernels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = TextConfig.from_dict(
        dict(
            hidden_size=256,
            intermediate_size=512,
            num_hidden_layers=3,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=128,
            vocab_size=300,
        )
    )
    mx.random.seed(0)
    model = TextModel(config)
    embeds = mx.random.normal((4, 30, 256))
    padding = [0, 3, 11, 29]
    fused = _greedy(model, embeds, padding, 24)
    monkeypatch.setenv(kernels.FUSED_DECODE_VARIABLE, "0")
    plain = _greedy(model, embeds, padding, 24)
    assert os.environ[kernels.FUSED_DECODE_VARIABLE] == "0"
    assert fused == plain
