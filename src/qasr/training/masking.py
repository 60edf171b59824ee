"""SpecAugment-style masking of the training features: stripes of frames and of mel bins.

A model trained from scratch on a fixed synthetic corpus memorises it: tiny-en's training loss
fell to ~0.05 while its validation loss rose (docs/adr/0014). Masking random stripes of each
clip's log-mel (Park et al., 2019) makes every pass over a clip a different input, so the
network has to use the context around a gap rather than recall the clip.

The stripes are a pure function of (seed, step): a resumed run masks as the original did. They
fall inside each clip's real frames (padding stays the zero row it is, so a clip's loss does not
depend on its bucket), and masked values are the clip's mean, which keeps its level. Validation
and the exported model never see a mask.
"""

from __future__ import annotations

import attrs

from qasr.adapters.mlx.backend import mx
from qasr.errors import InvalidInputError


def _not_negative(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise InvalidInputError(f"{attribute.name.replace('_', '-')} must be >= 0, got {value}")


@attrs.frozen
class Masking:
    """How many stripes of each kind a clip gets, and their widest (a width is uniform in
    0..widest). The defaults' widths follow SpecAugment's LibriSpeech policy scaled to clips of a
    few seconds: up to 0.3 s of frames, up to 20 of 128 mel bins."""

    time_masks: int = attrs.field(default=0, validator=_not_negative)
    time_width: int = attrs.field(default=30, validator=_not_negative)  # frames of 10 ms
    freq_masks: int = attrs.field(default=0, validator=_not_negative)
    freq_width: int = attrs.field(default=20, validator=_not_negative)  # mel bins

    @property
    def enabled(self) -> bool:
        return (self.time_masks > 0 and self.time_width > 0) or (
            self.freq_masks > 0 and self.freq_width > 0
        )


def step_key(seed: int, step: int) -> mx.array:
    """The random key of step `step` (0-based) of a run with `seed`."""
    return mx.random.key((seed % 2**31) * 2**32 + step)


def _stripes(key: mx.array, count: int, widest: int, room: mx.array, size: int) -> mx.array:
    """[B, size] bool: `count` stripes per row, each of width 0..widest, inside 0..room[b]."""
    width_key, start_key = mx.random.split(key)
    (B,) = room.shape
    widths = mx.floor(mx.random.uniform(shape=(B, count), key=width_key) * (widest + 1))
    widths = mx.minimum(widths, room[:, None].astype(widths.dtype))
    starts = mx.floor(
        mx.random.uniform(shape=(B, count), key=start_key) * (room[:, None] - widths + 1)
    )
    position = mx.arange(size)[None, None, :]
    inside = (position >= starts[..., None]) & (position < (starts + widths)[..., None])
    return mx.any(inside, axis=1)


def mask_features(mels: mx.array, frames: mx.array, key: mx.array, masking: Masking) -> mx.array:
    """`mels` [B, F, n_mels] with stripes masked inside each clip's `frames` [B] real frames."""
    if not masking.enabled:
        return mels
    B, F, n_mels = mels.shape
    time_key, freq_key = mx.random.split(key)
    real = mx.arange(F)[None, :] < frames[:, None]  # [B, F]
    masked = mx.zeros((B, F, n_mels), dtype=mx.bool_)
    if masking.time_masks and masking.time_width:
        stripes = _stripes(time_key, masking.time_masks, masking.time_width, frames, F)
        masked = masked | stripes[:, :, None]
    if masking.freq_masks and masking.freq_width:
        bins = mx.full((B,), n_mels)
        stripes = _stripes(freq_key, masking.freq_masks, masking.freq_width, bins, n_mels)
        masked = masked | stripes[:, None, :]
    masked = masked & real[:, :, None]
    counted = mx.maximum(frames, 1).astype(mels.dtype)[:, None, None] * n_mels
    mean = (mels * real[:, :, None]).sum(axis=(1, 2), keepdims=True) / counted
    return mx.where(masked, mean.astype(mels.dtype), mels)


__all__ = ["Masking", "mask_features", "step_key"]
