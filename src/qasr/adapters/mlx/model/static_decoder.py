"""A decode step whose shapes never change, so that `mx.compile` traces it once per decode.

`PrefilledDecoder` slices the cache to the filled positions, so every step has new shapes and
MLX rebuilds the graph (hundreds of primitives, each some microseconds of host time). Here the
cache is copied once into buffers of a fixed capacity; a step writes its keys and values at
`position` (an array, not a Python int) and attends to the whole capacity, a mask hiding the
positions not written yet. The step's inputs and outputs then have the same shapes every token,
and `mx.compile` fuses its element-wise work into few kernels and skips the graph rebuild.
Masked positions weigh exactly zero in the softmax, so greedy picks do not change (tested
against the plain step in tests/parity/test_static_decoding.py).
"""

from __future__ import annotations

import os
from typing import Any

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.kv_cache import KVCache
from qasr.errors import InvalidInputError

CAPACITY_STEP = 256  # capacities are rounded up to this, so one trace serves similar lengths
DECODE_STEPS = ("dynamic", "static", "compiled")
DECODE_STEP_VARIABLE = "QASR_DECODE_STEP"


def default_decode_step() -> str:
    """QASR_DECODE_STEP if set, else `dynamic` (ADR 0021). `compiled` is as fast on this CPU at
    0.6B and 1.65x at batch 8 for tiny-en, but a function first traced on a worker thread aborts
    the process at exit in MLX 0.32 (tests/adapters/mlx/test_worker_threads.py), and the step is
    traced per (batch, capacity), so it cannot be traced ahead on the loading thread."""
    return check_decode_step(os.environ.get(DECODE_STEP_VARIABLE, "dynamic"))


def check_decode_step(name: str) -> str:
    if name not in DECODE_STEPS:
        choices = ", ".join(DECODE_STEPS)
        raise InvalidInputError(f"decode step must be one of {choices}, got {name!r}")
    return name


class StaticKVCache:
    """One layer's keys/values [B, H, capacity, D]; `update_and_fetch` writes at `position`."""

    def __init__(self, keys: mx.array, values: mx.array, position: mx.array) -> None:
        self.keys, self.values, self.position = keys, values, position

    def update_and_fetch(self, keys: mx.array, values: mx.array) -> tuple[mx.array, mx.array]:
        start = mx.reshape(self.position, (1,))
        self.keys = mx.slice_update(self.keys, keys, start, axes=(2,))
        self.values = mx.slice_update(self.values, values, start, axes=(2,))
        return self.keys, self.values


def _step(thinker: Any, tokens: mx.array, position: mx.array, starts: mx.array,
          key_mask: mx.array, *buffers: mx.array) -> tuple[mx.array, ...]:  # fmt: skip
    """Logits [B, 1, V] after tokens [B, 1] at `position`, and the updated buffers."""
    caches = [
        StaticKVCache(buffers[i], buffers[i + 1], position) for i in range(0, len(buffers), 2)
    ]
    capacity = buffers[0].shape[2]
    written = mx.arange(capacity) <= position
    mask = key_mask & written[None, None, None, :]
    embeds = thinker.model.embed_tokens(tokens)
    hidden = thinker.model(embeds, starts + position, caches, mask)
    updated = [buffer for cache in caches for buffer in (cache.keys, cache.values)]
    return (thinker.logits(hidden), *updated)


def _compiled_step(thinker: Any) -> Any:
    """One compiled step per model, kept on it: a new function each decode would retrace."""
    compiled = getattr(thinker, "_qasr_compiled_step", None)
    if compiled is None:
        compiled = mx.compile(lambda *arrays: _step(thinker, *arrays))
        thinker._qasr_compiled_step = compiled
    return compiled


class StaticDecoder:
    """Greedy decoding after a prefill in `cache`, one token a step, with fixed shapes.

    `key_mask` [B, P] marks the prompt's real columns; `room` bounds the tokens that follow.
    """

    def __init__(
        self,
        thinker: Any,
        cache: list[KVCache],
        starts: mx.array,
        key_mask: mx.array | None,
        room: int,
        *,
        compiled: bool,
    ) -> None:
        self.thinker = thinker
        self.starts = starts
        self.position = cache[0].offset
        capacity = -(-(self.position + room) // CAPACITY_STEP) * CAPACITY_STEP
        self.buffers: list[mx.array] = []
        for layer_cache in cache:
            assert layer_cache.keys is not None and layer_cache.values is not None
            for buffer in (layer_cache.keys, layer_cache.values):
                filled = buffer[..., : self.position, :]
                extra = capacity - self.position
                self.buffers.append(mx.pad(filled, [(0, 0), (0, 0), (0, extra), (0, 0)]))
        batch = starts.shape[0]
        real = mx.ones((batch, capacity), dtype=mx.bool_)
        if key_mask is not None:
            real = mx.concatenate([key_mask.astype(mx.bool_), real[:, self.position :]], axis=1)
        self.key_mask = real[:, None, None, :]
        mx.eval(self.buffers, self.key_mask)
        self._step = _compiled_step(thinker) if compiled else (lambda *a: _step(thinker, *a))

    def feed(self, tokens: mx.array) -> mx.array:
        """Logits [B, 1, V] after tokens [B, 1]."""
        if tokens.shape[1] != 1:
            raise InvalidInputError("the static decode step reads one token per row at a time")
        position = mx.array(self.position, dtype=mx.int32)
        logits, *self.buffers = self._step(
            tokens, position, self.starts, self.key_mask, *self.buffers
        )
        self.position += 1
        return logits


__all__ = [
    "DECODE_STEPS",
    "DECODE_STEP_VARIABLE",
    "StaticDecoder",
    "StaticKVCache",
    "check_decode_step",
    "default_decode_step",
]
