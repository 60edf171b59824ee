"""GELU in its exact erf form, `x * Phi(x)`, and `exp` from multiply-adds (ADR 0022).

MLX's `erf` costs ~60-100 ns an element on a Linux CPU, which made GELU a large share of the audio
encoder's time there; this rational form is ~3x cheaper and as accurate as `nn.gelu` in float32
(tests/adapters/mlx/model/test_activations.py proves the bound against a float64 erf). MLX's
`exp` there costs ~13 ns an element (one element at a time, and 3e-6 off): the SwiGLU's sigmoid
and the attention's softmax run on `fast_exp`, ~2.5x cheaper and within 2 ulps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from qasr.adapters.mlx.backend import mx, nn

# erf(z) = z * P(z^2) / Q(z^2) on |z| <= 4: a minimax-relative fit (Lawson's iteration on a dense
# float64 grid) made for this module; its relative error is 1.2e-8 (0.1 float32 eps) before
# float32 rounding, so the float32 result's error is rounding alone.
_P = (
    1.128379153650597,
    0.14449414800440605,
    0.044615741356267495,
    0.001703355294373482,
    0.00013544081862329455,
    -3.558213290857224e-06,
    7.669188321549722e-08,
    -7.736357629864014e-10,
)
_Q = (1.0, 0.46138752655123866, 0.09333783396216705, 0.01028778934551476, 0.0005773430814824493)
# GELU's form below is 0.5 x + u P'(u) / Q'(u) with u = x^2: the same fit, its constants folded.
_P_U = tuple(p / (2.0**i * 2.0 * math.sqrt(2.0)) for i, p in enumerate(_P))
_Q_U = tuple(q / 2.0**i for i, q in enumerate(_Q))
# Past |x| = 3.92 sqrt 2, Phi(x) is 1 or 0 to float32 rounding (1 - Phi = 1.5e-8 < eps / 2), and
# below it the fit's quotient stays inside erf's range.
_TAIL = 2.0 * 3.92**2


def _estrin(c: tuple[float, ...], u: mx.array, u2: mx.array, u4: mx.array) -> mx.array:
    """sum c[i] u^i for up to 8 coefficients, by Estrin's scheme: MLX's compiler fuses a graph
    only to a limited depth (~11 ops), and Horner's 8 levels of multiply-add would split the
    kernel in pieces that each write a whole intermediate array."""
    c = c + (0.0,) * (8 - len(c))
    low = (c[0] + c[1] * u) + u2 * (c[2] + c[3] * u)
    high = (c[4] + c[5] * u) + u2 * (c[6] + c[7] * u)
    return low + u4 * high


def exact_gelu(x: mx.array) -> mx.array:
    """`nn.gelu` (0.5 x (1 + erf(x / sqrt 2))) from multiply-adds, as few levels deep as MLX
    fuses into one kernel.

    Computed in float32 whatever x's dtype (a bfloat16 polynomial would be far off), returned in
    x's dtype.
    """
    wide = x.astype(mx.float32)
    # Clamped so the polynomials stay finite where `where` discards them: a discarded inf would
    # still turn the gradient into NaN.
    u = mx.minimum(wide * wide, _TAIL)
    u2 = u * u
    u4 = u2 * u2
    body = 0.5 * wide + u * _estrin(_P_U, u, u2, u4) / _estrin(_Q_U, u, u2, u4)
    tail = mx.maximum(wide, 0.0)
    return mx.where(u < _TAIL, body, tail).astype(x.dtype)


_SQRT_HALF = math.sqrt(0.5)

# exp(x) = 2^k exp(r), k = round(x / ln 2), r = x - k ln 2 in [-ln 2 / 2, ln 2 / 2] (Cody and
# Waite: ln 2 in two parts, the first with few enough bits that k * _LN2_HIGH is exact).
_LOG2_E = 1.4426950408889634
_LN2_HIGH = 0.693145751953125
_LN2_LOW = 1.4286068203094173e-06
# exp(r)'s Taylor series to r^7: its truncation, r^8 / 8! <= 5.6e-9 relative, is under float32's
# rounding (6e-8), so the result is off by rounding alone.
_EXP_SERIES = tuple(1.0 / math.factorial(i) for i in range(8))
# The largest and smallest arguments whose exp is a normal float32 (2^k stays a normal's exponent).
_EXP_HIGH, _EXP_LOW = 88.37, -87.33


@mx.custom_function
def fast_exp(x: mx.array) -> mx.array:
    """`mx.exp` of float32 `x` from multiply-adds and an exponent built from bits; arguments past
    float32's normal range are clamped (exp(-88) and below gives 1.2e-38, not 0 or a subnormal;
    exp(89) and above 2.4e38, not inf)."""
    clamped = mx.clip(x, _EXP_LOW, _EXP_HIGH)
    k = mx.round(clamped * _LOG2_E)
    r = (clamped - k * _LN2_HIGH) - k * _LN2_LOW
    r2 = r * r
    series = _estrin(_EXP_SERIES, r, r2, r2 * r2)
    two_to_k = mx.left_shift(k.astype(mx.int32) + 127, 23).view(mx.float32)
    return series * two_to_k


@fast_exp.vjp
def _fast_exp_vjp(primals: mx.array, cotangent: mx.array, output: mx.array) -> mx.array:
    # exp's own derivative (autodiff cannot pass through the exponent's bits); zero where the
    # argument was clamped, as the clamp's derivative is.
    inside = (primals >= _EXP_LOW) & (primals <= _EXP_HIGH)
    return mx.where(inside, cotangent * output, 0.0)


def fast_swiglu(gate: mx.array, up: mx.array) -> mx.array:
    """silu(gate) * up = gate / (1 + exp(-gate)) * up, on `fast_exp`, in float32."""
    wide = gate.astype(mx.float32)
    return (wide / (1.0 + fast_exp(-wide)) * up.astype(mx.float32)).astype(up.dtype)


def fast_softmax(scores: mx.array) -> mx.array:
    """Softmax over the last axis of float32 `scores` on `fast_exp`; a score of -inf weighs
    exactly 0 (as in `mx.softmax`), and a row of -inf alone gives NaN (as there)."""
    top = mx.max(scores, axis=-1, keepdims=True)
    weights = _shifted_exp(scores, top)
    return weights * (1.0 / mx.sum(weights, axis=-1, keepdims=True))


def fast_logsumexp(scores: mx.array, axis: int = -1, keepdims: bool = False) -> mx.array:
    """log(sum(exp(scores))) over `axis` of float32 `scores` on `fast_exp`, its gradient the
    softmax (the shift by the maximum is held out of autodiff: its derivative cancels)."""
    top = mx.stop_gradient(mx.max(scores, axis=axis, keepdims=True))
    total = mx.sum(_shifted_exp(scores, top), axis=axis, keepdims=True)
    result = top + mx.log(total)
    return result if keepdims else mx.squeeze(result, axis=axis)


def logsumexp_for(device: mx.Device) -> Callable[..., mx.array]:
    """`mx.logsumexp`'s form fastest on `device`: on `fast_exp` on a CPU (the trainer's
    cross-entropy and CTC scores: thousands of classes a row), MLX's own on a GPU."""
    return fast_logsumexp if device.type == mx.cpu else mx.logsumexp


def _exp_minus(scores: mx.array, top: mx.array) -> mx.array:
    # exp(-inf) must be 0, which the clamp would make 1.2e-38: -inf scores are masked keys.
    return mx.where(scores == -mx.inf, 0.0, fast_exp(scores - top))


def erf_gelu(x: mx.array) -> mx.array:
    """`nn.gelu` computed in float32 whatever x's dtype, returned in x's dtype."""
    wide = x.astype(mx.float32)
    return (0.5 * wide * (1.0 + mx.erf(wide * _SQRT_HALF))).astype(x.dtype)


# One fused kernel for eager callers too. Not shapeless (as `nn.gelu` is): on MLX 0.32's CPU a
# shapeless kernel runs ~6x slower than a shape-specialised one on a 15 M-element array, slower
# than the ops one by one (gelu-cpu.json); a new shape costs one re-trace, and the JIT-built
# kernel is shared across shapes of the same contiguity.
_multiply_add_gelu = mx.compile(exact_gelu)
_erf_gelu = mx.compile(erf_gelu)
_shifted_exp = mx.compile(_exp_minus)
_fast_swiglu = mx.compile(fast_swiglu)


@partial(mx.compile, shapeless=True)
def _silu_swiglu(gate: mx.array, up: mx.array) -> mx.array:
    """silu(gate) * up as one fused kernel on a GPU (three element-wise ops otherwise)."""
    return nn.silu(gate) * up


def swiglu_for(device: mx.Device) -> Callable[[mx.array, mx.array], mx.array]:
    """silu(gate) * up in the form fastest on `device`: on `fast_exp` on a CPU (2.1x MLX's
    `silu` there), MLX's own on a GPU, where `exp` is one instruction."""
    return _fast_swiglu if device.type == mx.cpu else _silu_swiglu


def gelu_for(device: mx.Device) -> Callable[[mx.array], mx.array]:
    """The GELU to run on `device` (ADR 0022): the multiply-add form on a CPU, where `erf` is
    slow; MLX's `erf` on a GPU, where it is one instruction. Inside `value_and_grad` nothing is
    fused (`mx.compile` only fuses as the outermost transform), and there the multiply-add form
    is ~30 kernels forward and ~60 backward against ~5 and ~10: on CUDA, where each costs ~10 us
    of host time, that was a quarter of a tiny-en training step's kernels."""
    return _multiply_add_gelu if device.type == mx.cpu else _erf_gelu


def gelu(x: mx.array) -> mx.array:
    """Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), in the form fastest on the default device."""
    return gelu_for(mx.default_device())(x)
