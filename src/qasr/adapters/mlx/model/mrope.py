"""Interleaved multimodal RoPE (MRoPE) of the Qwen3-ASR text decoder, and its position ids.

Each rotary frequency reads its angle from one of three position axes (time, height, width).
The official `apply_interleaved_mrope` assigns frequency i to height when i % 3 == 1 and
i < 3 * mrope_section[1], to width when i % 3 == 2 and i < 3 * mrope_section[2], and to time
otherwise. Qwen3-ASR's position ids are the same on all three axes (`get_rope_index`: cumulative
sum of the attention mask, minus one), so for ASR the interleaving selects equal angles and
MRoPE is plain RoPE (the rotate-half, non-traditional kind). `rope_from_start` is that fast
path; `mrope_cos_sin` + `apply_rotary` is the general one, kept for three distinct axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qasr.adapters.mlx.backend import mx


def inverse_frequencies(head_dim: int, rope_theta: float) -> mx.array:
    """`1 / theta^(2i / head_dim)` in float32, computed as transformers' default RoPE does."""
    exponents = mx.arange(0, head_dim, 2).astype(mx.float32) / head_dim
    return 1.0 / (rope_theta**exponents)


def frequency_axes(mrope_section: Sequence[int], n_frequencies: int) -> np.ndarray:
    """For each rotary frequency, the position axis (0 time, 1 height, 2 width) it reads."""
    index = np.arange(n_frequencies)
    axes = np.zeros(n_frequencies, dtype=np.int32)
    for axis in (1, 2):
        axes[(index % 3 == axis) & (index < 3 * mrope_section[axis])] = axis
    return axes


def mrope_angles(
    position_ids: mx.array, inv_freq: mx.array, mrope_section: Sequence[int]
) -> mx.array:
    """Rotation angles [B, L, head_dim / 2] from 3-axis position ids [3, B, L]."""
    axes = mx.array(frequency_axes(mrope_section, inv_freq.shape[0]))
    positions = position_ids.astype(mx.float32)[axes]  # [F, B, L]: each frequency's axis
    return mx.moveaxis(positions, 0, -1) * inv_freq


def mrope_cos_sin(
    position_ids: mx.array, inv_freq: mx.array, mrope_section: Sequence[int]
) -> tuple[mx.array, mx.array]:
    """cos and sin [B, L, head_dim], both halves repeating the angles (rotate-half layout)."""
    angles = mrope_angles(position_ids, inv_freq, mrope_section)
    angles = mx.concatenate([angles, angles], axis=-1)
    return mx.cos(angles), mx.sin(angles)


def apply_rotary(x: mx.array, cos: mx.array, sin: mx.array) -> mx.array:
    """Rotate heads x [B, H, L, D] by per-position cos/sin [B, L, D]."""
    half = x.shape[-1] // 2
    rotated_half = mx.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    cos, sin = cos[:, None].astype(x.dtype), sin[:, None].astype(x.dtype)
    return x * cos + rotated_half * sin


def rope_from_start(x: mx.array, wavelengths: mx.array, start: int | mx.array) -> mx.array:
    """Plain RoPE of heads x [B, H, L, D] at positions start + 0..L-1 (start: int or [B]).

    `wavelengths` is `1 / inverse_frequencies(...)`, computed once by the caller: MLX then
    multiplies positions by the same float32 inverse frequencies as the reference, whereas
    `base=` would differ by up to 4e-4 at position 2000 because MLX derives its own.
    """
    return mx.fast.rope(
        x,
        x.shape[-1],
        traditional=False,
        base=None,
        scale=1.0,
        offset=start,
        freqs=wavelengths,
    )


def position_ids_from_mask(attention_mask: mx.array) -> tuple[mx.array, mx.array]:
    """Position ids [3, B, L] and rope deltas [B, 1] from a 0/1 attention mask [B, L].

    Equal to the official `get_rope_index` (padding positions get 1) and to the `rope_deltas`
    the official thinker stores after prefill: decode positions are `cache offset + deltas`.
    Deltas are `max position + 1 - L`, which is minus the left padding, except for a row with
    one real token and padding: its padded 1s make the max 1, so its decode positions run one
    ahead. That is the reference's behaviour and is kept.
    """
    mask = attention_mask.astype(mx.int32)
    positions = mx.cumsum(mask, axis=-1) - 1
    positions = mx.where(mask == 0, 1, positions)
    rope_deltas = positions.max(axis=-1, keepdims=True) + 1 - mask.shape[-1]
    return mx.broadcast_to(positions[None], (3, *positions.shape)), rope_deltas


def start_positions_from_mask(attention_mask: mx.array) -> mx.array:
    """Per-row start [B] for `rope_from_start` in a left-padded prefill: minus the padding.

    Real tokens then get positions 0, 1, ... as in `position_ids_from_mask`; padding gets
    negative positions instead of 1, which is harmless because padding keys are masked out.
    """
    mask = attention_mask.astype(mx.int32)
    return mask.sum(axis=-1) - mask.shape[-1]


__all__ = [
    "apply_rotary",
    "frequency_axes",
    "inverse_frequencies",
    "mrope_angles",
    "mrope_cos_sin",
    "position_ids_from_mask",
    "rope_from_start",
    "start_positions_from_mask",
]
