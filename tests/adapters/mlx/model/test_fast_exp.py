"""`fast_exp` and what runs on it on a CPU (the SwiGLU and the attention's softmax) against float64
references and MLX's own kernels: the bounds activations.py and attention.py state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx, nn
from qasr.adapters.mlx.model.activations import (
    fast_exp,
    fast_logsumexp,
    fast_softmax,
    logsumexp_for,
    swiglu_for,
)
from qasr.adapters.mlx.model.attention import attention, softmax_attention

EXP_ULPS = 2.0
LOW, HIGH = -87.33, 88.37  # exp of these is a normal float32; fast_exp clamps beyond
CPU_SWIGLU = swiglu_for(mx.Device(mx.cpu))
compiled_exp = mx.compile(fast_exp)


def ulps_off(ours: np.ndarray, exact: np.ndarray) -> np.ndarray:
    # float32's ulp at `exact`, from its exponent: np.spacing would step into subnormals near
    # exp(-87), which a process with flush-to-zero set reads as 0 (the official qwen-asr imports
    # nagisa, whose fast-math build sets it for the whole process).
    _, exponent = np.frexp(exact)
    return np.abs(ours - exact) / np.ldexp(1.0, exponent - 24)


def test_fast_exp_is_within_two_ulps_across_the_normal_range() -> None:
    x = np.linspace(LOW, HIGH, 1_000_001, dtype=np.float32)
    for form in (fast_exp, compiled_exp):  # eager and fused give the same arithmetic
        ours = np.array(form(mx.array(x))).astype(np.float64)
        assert ulps_off(ours, np.exp(x.astype(np.float64))).max() <= EXP_ULPS


@settings(max_examples=200, deadline=None)
@given(st.floats(-87.0, 88.0, width=32, allow_subnormal=False))
def test_fast_exp_of_any_float32_in_range(value: float) -> None:
    ours = float(np.array(fast_exp(mx.array([value], dtype=mx.float32)))[0])
    assert ulps_off(np.array(ours), np.exp(np.float64(value))) <= EXP_ULPS


def test_fast_exp_clamps_past_the_normal_range_instead_of_overflowing() -> None:
    x = mx.array([-1e30, -100.0, -mx.inf, 100.0, 1e30, mx.inf])
    ours = np.array(fast_exp(x)).astype(np.float64)
    assert np.all(np.isfinite(ours))
    low, high = (np.exp(np.float64(np.float32(bound))) for bound in (LOW, HIGH))
    assert np.allclose(ours[:3], low, rtol=1e-6) and np.allclose(ours[3:], high, rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-60, 60, width=32, allow_subnormal=False), min_size=1, max_size=64),
    st.lists(st.floats(-8, 8, width=32, allow_subnormal=False), min_size=64, max_size=64),
)
def test_the_cpu_swiglu_is_silu_of_the_gate_times_up(gate: list[float], up: list[float]) -> None:
    g = np.array(gate, dtype=np.float32)
    u = np.array(up[: len(gate)], dtype=np.float32)
    wide = g.astype(np.float64)
    exact = wide / (1.0 + np.exp(-wide)) * u
    ours = np.array(CPU_SWIGLU(mx.array(g), mx.array(u))).astype(np.float64)
    # A few roundings of each factor: silu's quotient and the product.
    assert np.all(np.abs(ours - exact) <= 4 * np.finfo(np.float32).eps * np.abs(exact) + 1e-37)


def test_the_cpu_swiglu_returns_the_inputs_dtype() -> None:
    gate = mx.array([[-3.0, 0.5, 2.0]], dtype=mx.bfloat16)
    out = CPU_SWIGLU(gate, mx.ones_like(gate))
    assert out.dtype == mx.bfloat16
    assert np.allclose(np.array(out.astype(mx.float32)), np.array(nn.silu(gate).astype(mx.float32)))


def test_softmax_gives_masked_scores_no_weight_and_a_masked_row_nan_as_mlx_does() -> None:
    scores = mx.array([[0.5, -mx.inf, 2.0, -mx.inf], [-mx.inf] * 4])
    ours = np.array(fast_softmax(scores))
    theirs = np.array(mx.softmax(scores, axis=-1))
    assert ours[0, 1] == ours[0, 3] == 0.0
    assert np.allclose(ours[0], theirs[0], rtol=1e-6)
    assert np.all(np.isnan(ours[1])) and np.all(np.isnan(theirs[1]))


shapes = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 2),
        "kv_heads": st.integers(1, 3),
        "groups": st.sampled_from([1, 2, 4]),
        "queries": st.integers(2, 9),
        "extra_keys": st.integers(0, 6),
        "head_dim": st.sampled_from([8, 16]),
        "mask": st.sampled_from(["none", "causal", "boolean", "additive", "per-head"]),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_softmax_attention_equals_mlx_attention(shape: dict) -> None:
    rng = np.random.default_rng(shape["seed"])
    heads = shape["kv_heads"] * shape["groups"]
    L, T, D = shape["queries"], shape["queries"] + shape["extra_keys"], shape["head_dim"]
    B = shape["batch"]
    q = mx.array(rng.standard_normal((B, heads, L, D)), dtype=mx.float32)
    k = mx.array(rng.standard_normal((B, shape["kv_heads"], T, D)), dtype=mx.float32)
    v = mx.array(rng.standard_normal((B, shape["kv_heads"], T, D)), dtype=mx.float32)
    mask = {
        "none": None,
        "causal": "causal",
        # Every row keeps its last key, so that no row is masked whole (NaN on both sides).
        "boolean": mx.array(
            np.concatenate([rng.random((B, 1, L, T - 1)) < 0.6, np.ones((B, 1, L, 1), bool)], -1)
        ),
        "additive": mx.array(rng.standard_normal((B, 1, L, T)) * 3, dtype=mx.float32),
        "per-head": mx.array(rng.standard_normal((B, heads, L, T)), dtype=mx.float32),
    }[shape["mask"]]
    ours = np.array(softmax_attention(q, k, v, scale=D**-0.5, mask=mask))
    theirs = np.array(mx.fast.scaled_dot_product_attention(q, k, v, scale=D**-0.5, mask=mask))
    assert ours.shape == theirs.shape
    assert np.allclose(ours, theirs, rtol=1e-5, atol=2e-6)


def test_attention_on_a_cpu_takes_the_softmax_form_for_several_queries_only(monkeypatch) -> None:
    import qasr.adapters.mlx.model.attention as module

    calls: list[int] = []
    monkeypatch.setattr(
        module, "softmax_attention", lambda q, *a, **k: calls.append(q.shape[2]) or q
    )
    if mx.default_device().type != mx.cpu:
        pytest.skip("the GPU takes MLX's kernel for every shape")
    q = mx.zeros((1, 2, 3, 8))
    attention(q, q, q, scale=1.0)
    attention(q[:, :, :1], q, q, scale=1.0)  # one query: MLX's kernel
    assert calls == [3]


def test_an_unknown_mask_name_is_refused() -> None:
    q = mx.zeros((1, 1, 2, 8))
    with pytest.raises(ValueError, match="unknown attention mask"):
        softmax_attention(q, q, q, scale=1.0, mask="sliding")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 300),
    st.floats(0.1, 30.0),
    st.integers(0, 2**16),
    st.booleans(),
)
def test_fast_logsumexp_and_its_gradient_equal_mlx(
    rows: int, classes: int, spread: float, seed: int, keepdims: bool
) -> None:
    scores = mx.array(
        np.random.default_rng(seed).standard_normal((rows, classes)) * spread, dtype=mx.float32
    )
    weights = mx.array(np.random.default_rng(seed + 1).standard_normal(rows), dtype=mx.float32)
    if keepdims:
        weights = weights[:, None]

    def loss(form):
        return lambda s: (form(s, axis=-1, keepdims=keepdims) * weights).sum()

    ours, our_grad = mx.value_and_grad(loss(fast_logsumexp))(scores)
    theirs, their_grad = mx.value_and_grad(loss(mx.logsumexp))(scores)
    assert np.allclose(np.array(ours), np.array(theirs), rtol=1e-5, atol=1e-5)
    assert np.allclose(np.array(our_grad), np.array(their_grad), rtol=1e-5, atol=1e-7)
    assert logsumexp_for(mx.Device(mx.cpu)) is fast_logsumexp
    assert logsumexp_for(mx.Device(mx.gpu)) is mx.logsumexp
