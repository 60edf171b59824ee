"""The fused decode step's wiring, on any device: with each CUDA kernel replaced by its MLX
`reference_*` meaning, `fused_decode_hidden` equals the text decoder's plain step (the residual
carried into the next layer's norm, the cache updates, the masks, the rope positions). That the
kernels equal their references is tests/gpu/test_cuda_decode_kernels.py, on CUDA."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model import cuda_decode_kernels as kernels
from qasr.adapters.mlx.model import fused_decoder
from qasr.adapters.mlx.model.text_decoder import TextConfig, TextModel, padded_causal_mask

CONFIG = TextConfig.from_dict(
    dict(
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        vocab_size=50,
        rope_theta=1_000_000.0,
    )
)


@pytest.fixture
def reference_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fused_decoder, "qk_norm_rope", kernels.reference_qk_norm_rope)
    monkeypatch.setattr(fused_decoder, "add_rms_norm", kernels.reference_add_rms_norm)
    monkeypatch.setattr(
        fused_decoder, "masked_decode_attention", kernels.reference_masked_decode_attention
    )


def _prefilled(model: TextModel, embeds: mx.array, padding: list[int]) -> tuple:
    prompt = embeds.shape[1]
    key_mask = (mx.arange(prompt)[None, :] >= mx.array(padding)[:, None]).astype(mx.int32)
    starts = -mx.array(padding, dtype=mx.int32)
    cache = model.make_cache(step=4)
    mask = padded_causal_mask(key_mask, prompt) if any(padding) else None
    mx.eval(model(embeds, starts, cache, mask))
    return cache, starts, key_mask


@pytest.mark.usefixtures("reference_kernels")
@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    prompt=st.integers(1, 7),
    steps=st.integers(1, 3),
    pad_step=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_the_fused_step_is_the_plain_step(
    batch: int, prompt: int, steps: int, pad_step: int, seed: int
) -> None:
    mx.random.seed(seed)
    model = TextModel(CONFIG)
    embeds = mx.random.normal((batch, prompt, CONFIG.hidden_size))
    padding = [(row * pad_step) % prompt for row in range(batch)]
    plain_cache, starts, key_mask = _prefilled(model, embeds, padding)
    fused_cache, _, _ = _prefilled(model, embeds, padding)
    for step in range(steps):
        token = mx.random.normal((batch, 1, CONFIG.hidden_size))
        offset = prompt + step
        columns = mx.concatenate([key_mask, mx.ones((batch, step + 1), mx.int32)], axis=1)
        mask = columns.astype(mx.bool_)[:, None, None, :] if any(padding) else None
        plain = model(token, starts + offset, plain_cache, mask)
        fused = fused_decoder.fused_decode_hidden(model, token, starts + offset, fused_cache, mask)
        np.testing.assert_allclose(np.array(fused), np.array(plain), rtol=1e-5, atol=1e-5)
    for plain_layer, fused_layer in zip(plain_cache, fused_cache, strict=True):
        np.testing.assert_allclose(
            np.array(fused_layer.state[0]), np.array(plain_layer.state[0]), atol=1e-6
        )


@pytest.mark.usefixtures("reference_kernels")
def test_an_int_start_and_no_cache_work_as_in_the_plain_step() -> None:
    mx.random.seed(1)
    model = TextModel(CONFIG)
    token = mx.random.normal((2, 1, CONFIG.hidden_size))
    plain = model(token, 5, None, None)
    fused = fused_decoder.fused_decode_hidden(model, token, 5, None, None)
    np.testing.assert_allclose(np.array(fused), np.array(plain), rtol=1e-5, atol=1e-5)


def test_only_one_token_steps_with_start_positions_and_boolean_masks_fuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fused_decoder, "fused_decode_available", lambda x: True)
    one = mx.zeros((2, 1, 8))
    starts = mx.array([0, -2])
    bool_mask = mx.ones((2, 1, 1, 5), dtype=mx.bool_)
    assert fused_decoder.can_fuse(one, starts, None, 128)
    assert fused_decoder.can_fuse(one, 4, bool_mask, 64)
    assert not fused_decoder.can_fuse(mx.zeros((2, 3, 8)), starts, None, 128)  # a prefill
    assert not fused_decoder.can_fuse(one, mx.zeros((3, 2, 1), mx.int32), None, 128)  # MRoPE
    assert not fused_decoder.can_fuse(one, starts, "causal", 128)
    assert not fused_decoder.can_fuse(one, starts, bool_mask.astype(mx.float32), 128)
    assert not fused_decoder.can_fuse(one, starts, None, 12)  # 16 lanes cannot share 12 dims


def test_the_variable_or_a_cpu_keeps_the_kernels_off(monkeypatch: pytest.MonkeyPatch) -> None:
    x = mx.zeros((1, 1, 8))
    monkeypatch.setenv(kernels.FUSED_DECODE_VARIABLE, "0")
    assert not kernels.fused_decode_available(x)
    monkeypatch.delenv(kernels.FUSED_DECODE_VARIABLE)
    on_cuda = mx.cuda.is_available() and mx.default_device() == mx.gpu
    assert kernels.fused_decode_available(x) == on_cuda
    assert not kernels.fused_decode_available(x.astype(mx.int32))
