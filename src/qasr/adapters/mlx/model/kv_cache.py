"""The key/value cache of one attention layer: preallocated, grown in blocks, trimmable.

Keys and values live in buffers [B, n_kv_heads, capacity, head_dim] that grow by `step`
positions at a time, so a decode step writes one slice in place instead of concatenating the
whole history (which would copy it every token).
"""

from __future__ import annotations

from qasr.adapters.mlx.backend import mx
from qasr.errors import InvalidInputError

DEFAULT_STEP = 256  # positions per growth block: ~20 s of audio tokens or ~256 text tokens


class KVCache:
    """`offset` positions are filled; attention reads `[..., :offset, :]` of the buffers."""

    def __init__(self, step: int = DEFAULT_STEP) -> None:
        if step < 1:
            raise InvalidInputError(f"KV cache step must be at least 1 position, got {step}")
        self.step = step
        self.offset = 0
        self.keys: mx.array | None = None
        self.values: mx.array | None = None

    @property
    def capacity(self) -> int:
        return 0 if self.keys is None else self.keys.shape[2]

    def update_and_fetch(self, keys: mx.array, values: mx.array) -> tuple[mx.array, mx.array]:
        """Append keys/values [B, n_kv_heads, L, head_dim]; return all cached ones so far."""
        start, end = self.offset, self.offset + keys.shape[2]
        if self.keys is None or self.values is None or end > self.capacity:
            self._grow(keys, values, end)
        assert self.keys is not None and self.values is not None
        self.keys[..., start:end, :] = keys
        self.values[..., start:end, :] = values
        self.offset = end
        return self.keys[..., :end, :], self.values[..., :end, :]

    def _grow(self, keys: mx.array, values: mx.array, needed: int) -> None:
        batch, heads, _, key_dim = keys.shape
        kept = 0 if self.keys is None else self.offset
        extra = -(-(needed - kept) // self.step) * self.step
        new_keys = mx.zeros((batch, heads, extra, key_dim), keys.dtype)
        new_values = mx.zeros((batch, heads, extra, values.shape[-1]), values.dtype)
        if self.keys is None or self.values is None:
            self.keys, self.values = new_keys, new_values
        else:
            # Drop anything past offset (trimmed positions) before appending the new block.
            kept_keys = self.keys[..., : self.offset, :]
            kept_values = self.values[..., : self.offset, :]
            self.keys = mx.concatenate([kept_keys, new_keys], axis=2)
            self.values = mx.concatenate([kept_values, new_values], axis=2)

    def trim(self, n: int) -> int:
        """Forget the last `n` positions (at most `offset`); return how many were forgotten."""
        trimmed = max(0, min(n, self.offset))
        self.offset -= trimmed
        return trimmed

    @property
    def state(self) -> tuple[mx.array, mx.array] | None:
        """The filled part of the buffers (for `mx.eval`), or None while empty."""
        if self.keys is None or self.values is None:
            return None
        return self.keys[..., : self.offset, :], self.values[..., : self.offset, :]


def make_cache(num_layers: int, step: int = DEFAULT_STEP) -> list[KVCache]:
    """One empty cache per decoder layer."""
    return [KVCache(step) for _ in range(num_layers)]


__all__ = ["DEFAULT_STEP", "KVCache", "make_cache"]
