"""Three CUDA kernels that do a decode step's small work in fewer launches; their meaning in MLX.

On MLX's CUDA backend a decode step is launch-bound: each op costs ~5-10 µs of host time
whatever its size, and a text-decoder layer is 16 ops (docs/benchmarks/decode-breakdown-h200.json).
These kernels fuse what MLX runs as separate ops:

- `qk_norm_rope`: from the qkv projection of one token per row, the per-head RMSNorm and RoPE of
  queries and keys, and the values laid out per head: one launch for four (MLX: two rms_norms,
  two ropes, and the copies their strided inputs need).
- `masked_decode_attention`: grouped-query attention of one query per row over the cached keys,
  with a boolean key mask [B, 1, 1, T]. MLX's fused attention takes no array mask on CUDA and
  falls back to five ops (two matmuls, scale, select, softmax) whenever a batch has padding; the
  result comes out as [B, 1, H * D], the layout `o_proj` reads, so no transpose copy follows.
- `add_rms_norm`: the residual add and the next RMSNorm, returning both: one launch for two.

Each kernel rounds where MLX's ops round (the RMSNorm to the dtype before the weight, the sum
before the norm), so the fused step is within one rounding of the plain one; attention keeps its
scores and probabilities in float32 where the fallback rounds them to the dtype, so it is at
least as accurate. The `reference_*` functions state each kernel's meaning in MLX ops: the CUDA
tests compare the kernels with them (tests/gpu), the CPU tests compare them with the decoder's
own layers. `QASR_FUSED_DECODE=0` turns the kernels off (for side-by-side measurements).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.mrope import rope_from_start

FUSED_DECODE_VARIABLE = "QASR_FUSED_DECODE"
_FLOAT_TYPES = (mx.float32, mx.bfloat16, mx.float16)


def fused_decode_available(x: mx.array) -> bool:
    """Whether a decode step on `x` can use the kernels: a CUDA GPU is the default device, the
    dtype is a float one, and QASR_FUSED_DECODE is not 0."""
    if os.environ.get(FUSED_DECODE_VARIABLE, "1") == "0" or x.dtype not in _FLOAT_TYPES:
        return False
    cuda = getattr(mx, "cuda", None)
    return bool(cuda is not None and cuda.is_available() and mx.default_device() == mx.gpu)


def _int32(positions: mx.array) -> mx.array:
    return positions if positions.dtype == mx.int32 else positions.astype(mx.int32)


def _float_literal(value: float) -> str:
    """`value` as a C++ float the way MLX takes it: the double rounded to float."""
    return f"static_cast<float>({float(value)!r})"


_QK_NORM_ROPE = """
    // One warp per (row, head); lane i holds the rotary pairs (i, i + D/2), (i + 32, ...), ...
    constexpr int HALF = D / 2;
    constexpr int PAIRS = (HALF + 31) / 32;
    const int lane = threadIdx.x;
    const int head = blockIdx.y * blockDim.y + threadIdx.y;
    const int row = blockIdx.z;
    if (head >= HQ + 2 * HKV) return;
    const T* x = qkv + (static_cast<size_t>(row) * (HQ + 2 * HKV) + head) * D;
    if (head >= HQ + HKV) {
        T* out = values + (static_cast<size_t>(row) * HKV + (head - HQ - HKV)) * D;
        for (int i = lane; i < D; i += 32) out[i] = x[i];
        return;
    }
    const bool query = head < HQ;
    const T* w = query ? q_weight : k_weight;
    T* out = query ? queries + (static_cast<size_t>(row) * HQ + head) * D
                   : keys + (static_cast<size_t>(row) * HKV + (head - HQ)) * D;
    float a[PAIRS], b[PAIRS];
    float sumsq = 0.0f;
#pragma unroll
    for (int p = 0; p < PAIRS; ++p) {
        const int i = lane + 32 * p;
        a[p] = i < HALF ? static_cast<float>(x[i]) : 0.0f;
        b[p] = i < HALF ? static_cast<float>(x[i + HALF]) : 0.0f;
        sumsq += a[p] * a[p] + b[p] * b[p];
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) {
        sumsq += __shfl_xor_sync(0xffffffff, sumsq, offset);
    }
    const float normalizer = rsqrtf(sumsq / D + EPS);
    const float position = static_cast<float>(positions[row]);
#pragma unroll
    for (int p = 0; p < PAIRS; ++p) {
        const int i = lane + 32 * p;
        if (i >= HALF) continue;
        // As MLX's rms_norm: the normalised value rounded to T, then times the weight in T.
        const float x1 = static_cast<float>(w[i] * static_cast<T>(a[p] * normalizer));
        const float x2 = static_cast<float>(w[i + HALF] * static_cast<T>(b[p] * normalizer));
        // As MLX's rope with `freqs`: the inverse frequency through a double division.
        const float inv_freq = 1.0 / wavelengths[i];
        const float theta = position * inv_freq;
        const float c = cosf(theta);
        const float s = sinf(theta);
        out[i] = static_cast<T>(x1 * c - x2 * s);
        out[i + HALF] = static_cast<T>(x1 * s + x2 * c);
    }
"""


@cache
def _qk_norm_rope_kernel(eps: float) -> Any:
    return mx.fast.cuda_kernel(
        name="qasr_qk_norm_rope",
        input_names=["qkv", "q_weight", "k_weight", "positions", "wavelengths"],
        output_names=["queries", "keys", "values"],
        source=f"constexpr float EPS = {_float_literal(eps)};\n{_QK_NORM_ROPE}",
    )


def qk_norm_rope(
    qkv: mx.array,
    q_weight: mx.array,
    k_weight: mx.array,
    positions: mx.array,
    wavelengths: mx.array,
    *,
    n_heads: int,
    n_kv_heads: int,
    eps: float,
) -> tuple[mx.array, mx.array, mx.array]:
    """Queries [B, H, 1, D], keys and values [B, Hkv, 1, D] from qkv [B, 1, (H + 2 Hkv) D] at
    rope `positions` [B] (see `reference_qk_norm_rope`)."""
    batch, heads = qkv.shape[0], n_heads + 2 * n_kv_heads
    head_dim = qkv.shape[-1] // heads
    dtype = qkv.dtype
    return tuple(  # type: ignore[return-value]
        _qk_norm_rope_kernel(float(eps))(
            inputs=[qkv, q_weight, k_weight, _int32(positions), wavelengths],
            template=[("T", dtype), ("HQ", n_heads), ("HKV", n_kv_heads), ("D", head_dim)],
            grid=(32, heads, batch),
            threadgroup=(32, min(heads, 8), 1),
            output_shapes=[
                (batch, n_heads, 1, head_dim),
                (batch, n_kv_heads, 1, head_dim),
                (batch, n_kv_heads, 1, head_dim),
            ],
            output_dtypes=[dtype, dtype, dtype],
        )
    )


def reference_qk_norm_rope(
    qkv: mx.array,
    q_weight: mx.array,
    k_weight: mx.array,
    positions: mx.array,
    wavelengths: mx.array,
    *,
    n_heads: int,
    n_kv_heads: int,
    eps: float,
) -> tuple[mx.array, mx.array, mx.array]:
    """`qk_norm_rope` in MLX ops: what `Attention` does to one token per row."""
    batch = qkv.shape[0]
    head_dim = qkv.shape[-1] // (n_heads + 2 * n_kv_heads)
    q_dim, kv_dim = n_heads * head_dim, n_kv_heads * head_dim
    queries, keys, values = mx.split(qkv, [q_dim, q_dim + kv_dim], axis=-1)
    queries = mx.fast.rms_norm(queries.reshape(batch, n_heads, 1, head_dim), q_weight, eps)
    keys = mx.fast.rms_norm(keys.reshape(batch, n_kv_heads, 1, head_dim), k_weight, eps)
    offsets = _int32(positions)
    return (
        rope_from_start(queries, wavelengths, offsets),
        rope_from_start(keys, wavelengths, offsets),
        values.reshape(batch, n_kv_heads, 1, head_dim),
    )


_MASKED_ATTENTION = """
    // A block per (row, kv head), NW warps splitting the keys; a half-warp reads one key, each
    // of its 16 lanes VEC = D / 16 dims, and keeps a running softmax for the G query heads.
    constexpr int G = HQ / HKV;
    constexpr int VEC = D / 16;
    const float NEG_INF = __int_as_float(0xff800000);
    const int warp = threadIdx.x / 32;
    const int half = (threadIdx.x % 32) / 16;
    const int sub = threadIdx.x % 16;
    const int kv_head = blockIdx.y;
    const int row = blockIdx.z;
    const int length = keys_shape[2];
    const T* key_base = keys + row * keys_strides[0] + kv_head * keys_strides[1] + sub * VEC;
    const T* value_base =
        values + row * values_strides[0] + kv_head * values_strides[1] + sub * VEC;
    const bool* mask_row = mask + row * mask_strides[0];
    float q[G][VEC], m[G], l[G], acc[G][VEC];
#pragma unroll
    for (int g = 0; g < G; ++g) {
        const T* qp = queries + row * queries_strides[0] + (kv_head * G + g) * queries_strides[1]
            + sub * VEC;
        m[g] = NEG_INF;
        l[g] = 0.0f;
#pragma unroll
        for (int j = 0; j < VEC; ++j) {
            q[g][j] = static_cast<float>(qp[j]) * SCALE;
            acc[g][j] = 0.0f;
        }
    }
    for (int base = 2 * warp; base < length; base += 2 * NW) {
        // Every lane runs every iteration (the shuffles need the whole warp); `live` gates work.
        const int t = base + half;
        const bool live = t < length && mask_row[t * mask_strides[3]];
        float k[VEC], v[VEC];
#pragma unroll
        for (int j = 0; j < VEC; ++j) {
            k[j] = live ? static_cast<float>(key_base[t * keys_strides[2] + j]) : 0.0f;
            v[j] = live ? static_cast<float>(value_base[t * values_strides[2] + j]) : 0.0f;
        }
#pragma unroll
        for (int g = 0; g < G; ++g) {
            float s = 0.0f;
#pragma unroll
            for (int j = 0; j < VEC; ++j) s += q[g][j] * k[j];
#pragma unroll
            for (int offset = 8; offset > 0; offset /= 2) {
                s += __shfl_xor_sync(0xffffffff, s, offset);
            }
            if (live) {
                const float top = fmaxf(m[g], s);
                const float carry = expf(m[g] - top);
                const float p = expf(s - top);
                l[g] = l[g] * carry + p;
#pragma unroll
                for (int j = 0; j < VEC; ++j) acc[g][j] = acc[g][j] * carry + p * v[j];
                m[g] = top;
            }
        }
    }
    // The two half-warps' running softmaxes into one, then the warps' through shared memory.
    __shared__ float shared_m[NW][G], shared_l[NW][G], shared_acc[NW][G][D];
#pragma unroll
    for (int g = 0; g < G; ++g) {
        const float other_m = __shfl_xor_sync(0xffffffff, m[g], 16);
        const float other_l = __shfl_xor_sync(0xffffffff, l[g], 16);
        const float top = fmaxf(m[g], other_m);
        const float mine = m[g] == NEG_INF ? 0.0f : expf(m[g] - top);
        const float theirs = other_m == NEG_INF ? 0.0f : expf(other_m - top);
        l[g] = l[g] * mine + other_l * theirs;
#pragma unroll
        for (int j = 0; j < VEC; ++j) {
            const float other = __shfl_xor_sync(0xffffffff, acc[g][j], 16);
            acc[g][j] = acc[g][j] * mine + other * theirs;
        }
        if (half == 0) {
            if (sub == 0) {
                shared_m[warp][g] = top;
                shared_l[warp][g] = l[g];
            }
#pragma unroll
            for (int j = 0; j < VEC; ++j) shared_acc[warp][g][sub * VEC + j] = acc[g][j];
        }
    }
    __syncthreads();
    for (int index = threadIdx.x; index < G * D; index += 32 * NW) {
        const int g = index / D;
        const int d = index % D;
        float top = NEG_INF;
        for (int w = 0; w < NW; ++w) top = fmaxf(top, shared_m[w][g]);
        float total = 0.0f, value = 0.0f;
        for (int w = 0; w < NW; ++w) {
            if (shared_m[w][g] == NEG_INF) continue;
            const float factor = expf(shared_m[w][g] - top);
            total += shared_l[w][g] * factor;
            value += shared_acc[w][g][d] * factor;
        }
        // A row whose keys are all masked gives zeros (MLX's softmax would give NaNs).
        out[(static_cast<size_t>(row) * HQ + kv_head * G + g) * D + d] =
            static_cast<T>(total > 0.0f ? value / total : 0.0f);
    }
"""


@cache
def _masked_attention_kernel(scale: float) -> Any:
    return mx.fast.cuda_kernel(
        name="qasr_masked_decode_attention",
        input_names=["queries", "keys", "values", "mask"],
        output_names=["out"],
        source=f"constexpr float SCALE = {_float_literal(scale)};\n{_MASKED_ATTENTION}",
        ensure_row_contiguous=False,  # the cache is a strided view: copying it would cost more
    )


def masked_decode_attention(
    queries: mx.array, keys: mx.array, values: mx.array, mask: mx.array, *, scale: float
) -> mx.array:
    """Attention [B, 1, H * D] of queries [B, H, 1, D] over keys/values [B, Hkv, T, D] where
    `mask` [B, 1, 1, T] (bool) is True (see `reference_masked_decode_attention`). The inputs may
    be strided views (a cache's filled part) with a contiguous last axis."""
    batch, n_heads, _, head_dim = queries.shape
    n_kv_heads = keys.shape[1]
    warps = 8 if batch * n_kv_heads < 264 else 4  # fill the GPU's 132 multiprocessors
    # The warps' partial softmaxes meet in shared memory: keep them within 32 KB.
    warps = max(1, min(warps, 8192 // (n_heads // n_kv_heads * head_dim)))
    return _masked_attention_kernel(float(scale))(
        inputs=[queries, keys, values, mask],
        template=[
            ("T", queries.dtype),
            ("HQ", n_heads),
            ("HKV", n_kv_heads),
            ("D", head_dim),
            ("NW", warps),
        ],
        grid=(32 * warps, n_kv_heads, batch),
        threadgroup=(32 * warps, 1, 1),
        output_shapes=[(batch, 1, n_heads * head_dim)],
        output_dtypes=[queries.dtype],
    )[0]


def reference_masked_decode_attention(
    queries: mx.array, keys: mx.array, values: mx.array, mask: mx.array, *, scale: float
) -> mx.array:
    """`masked_decode_attention` in MLX ops, computed in float32."""
    batch, n_heads, _, head_dim = queries.shape
    out = mx.fast.scaled_dot_product_attention(
        queries.astype(mx.float32),
        keys.astype(mx.float32),
        values.astype(mx.float32),
        scale=scale,
        mask=mask,
    )
    return out.reshape(batch, 1, n_heads * head_dim).astype(queries.dtype)


_ADD_RMS_NORM = """
    // A block of 256 threads per row: the sum rounded to T (as MLX's add), then its RMSNorm.
    constexpr int PER = (N + 255) / 256;
    const int row = blockIdx.y;
    const int tid = threadIdx.x;
    const size_t start = static_cast<size_t>(row) * N;
    float h[PER];
    float sumsq = 0.0f;
#pragma unroll
    for (int p = 0; p < PER; ++p) {
        const int i = tid + 256 * p;
        h[p] = 0.0f;
        if (i < N) {
            const T value = x[start + i] + y[start + i];
            total[start + i] = value;
            h[p] = static_cast<float>(value);
        }
        sumsq += h[p] * h[p];
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) {
        sumsq += __shfl_xor_sync(0xffffffff, sumsq, offset);
    }
    __shared__ float partial[8];
    if (tid % 32 == 0) partial[tid / 32] = sumsq;
    __syncthreads();
    float sum = 0.0f;
#pragma unroll
    for (int w = 0; w < 8; ++w) sum += partial[w];
    const float normalizer = rsqrtf(sum / N + EPS);
#pragma unroll
    for (int p = 0; p < PER; ++p) {
        const int i = tid + 256 * p;
        if (i < N) normed[start + i] = weight[i] * static_cast<T>(h[p] * normalizer);
    }
"""


@cache
def _add_rms_norm_kernel(eps: float) -> Any:
    return mx.fast.cuda_kernel(
        name="qasr_add_rms_norm",
        input_names=["x", "y", "weight"],
        output_names=["total", "normed"],
        source=f"constexpr float EPS = {_float_literal(eps)};\n{_ADD_RMS_NORM}",
    )


def add_rms_norm(
    x: mx.array, y: mx.array, weight: mx.array, eps: float
) -> tuple[mx.array, mx.array]:
    """`x + y` and its RMSNorm with `weight`, for x, y [..., N] of one dtype."""
    width = x.shape[-1]
    rows = x.size // width
    total, normed = _add_rms_norm_kernel(float(eps))(
        inputs=[x, y, weight],
        template=[("T", x.dtype), ("N", width)],
        grid=(256, rows, 1),
        threadgroup=(256, 1, 1),
        output_shapes=[x.shape, x.shape],
        output_dtypes=[x.dtype, x.dtype],
    )
    return total, normed


def reference_add_rms_norm(
    x: mx.array, y: mx.array, weight: mx.array, eps: float
) -> tuple[mx.array, mx.array]:
    """`add_rms_norm` in MLX ops."""
    total = x + y
    return total, mx.fast.rms_norm(total, weight, eps)


__all__ = [
    "FUSED_DECODE_VARIABLE",
    "add_rms_norm",
    "fused_decode_available",
    "masked_decode_attention",
    "qk_norm_rope",
    "reference_add_rms_norm",
    "reference_masked_decode_attention",
    "reference_qk_norm_rope",
]
