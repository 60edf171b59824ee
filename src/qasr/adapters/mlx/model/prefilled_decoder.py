"""A thinker's text decoder after the prompt's prefill: feed it tokens, or rewind its cache.

Plain greedy decoding feeds one token a step; speculative decoding feeds a block of proposals
and rewinds what the target rejected. Both go through `feed`, so the masks and rope positions of
a left-padded batch are computed in one place.
"""

from __future__ import annotations

from typing import Protocol

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.kv_cache import KVCache
from qasr.adapters.mlx.model.text_decoder import TextModel


class _Thinker(Protocol):
    model: TextModel

    def logits(self, hidden: mx.array) -> mx.array: ...


class PrefilledDecoder:
    """`cache` holds a prompt of P columns; `key_mask` [B, P] marks its real (unpadded) ones.

    `room` bounds how many positions may follow the prompt (the mask is made that long once, so
    that a step only slices it).
    """

    def __init__(
        self,
        thinker: _Thinker,
        cache: list[KVCache],
        starts: mx.array,
        key_mask: mx.array | None,
        room: int,
    ) -> None:
        self.thinker = thinker
        self.cache = cache
        self.starts = starts  # [B] rope position of column 0: minus the row's left padding
        # Generated tokens are never padding: the key mask grows by ones.
        self.key_mask = (
            None
            if key_mask is None
            else mx.concatenate(
                [key_mask, mx.ones((key_mask.shape[0], room), dtype=key_mask.dtype)], axis=1
            ).astype(mx.bool_)[:, None, None, :]
        )

    @property
    def offset(self) -> int:
        return self.cache[0].offset

    def feed(self, tokens: mx.array) -> mx.array:
        """Logits [B, L, V] after each of tokens [B, L], which join the cache."""
        offset, length = self.offset, tokens.shape[1]
        embeds = self.thinker.model.embed_tokens(tokens)
        hidden = self.thinker.model(
            embeds, self.starts + offset, self.cache, self._mask(offset, length)
        )
        return self.thinker.logits(hidden)

    def rewind(self, positions: int) -> None:
        for layer_cache in self.cache:
            layer_cache.trim(positions)

    def _mask(self, offset: int, length: int) -> mx.array | None:
        if self.key_mask is None:
            return None  # the decoder then masks causally when length > 1
        real_keys = self.key_mask[..., : offset + length]
        if length == 1:
            return real_keys
        query_positions = mx.arange(offset, offset + length)[:, None]
        causal = mx.arange(offset + length)[None, :] <= query_positions
        return real_keys & causal


__all__ = ["PrefilledDecoder"]
