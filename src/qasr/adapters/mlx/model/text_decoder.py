"""The Qwen3 text decoder of Qwen3-ASR (the thinker's `model`), in MLX.

A standard Qwen3 stack: pre-norm decoder layers with RMSNorm, grouped-query attention with a
per-head RMSNorm on queries and keys, interleaved MRoPE (plain RoPE for ASR positions, see
`mrope.py`) and a SwiGLU MLP. Attribute names are the checkpoint's after `thinker.model.`,
except that `sanitize` fuses q/k/v into `qkv_proj` and gate/up into `gate_up_proj`: one matmul
instead of three (two) per layer, because decode speed on a GPU tracks the number of ops per
token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from qasr.adapters.mlx.backend import mx, nn
from qasr.adapters.mlx.checkpoint.config import known_fields
from qasr.adapters.mlx.checkpoint.weights import FUSED_INTO, FUSED_PROJECTIONS
from qasr.adapters.mlx.model.activations import swiglu_for
from qasr.adapters.mlx.model.attention import attention
from qasr.adapters.mlx.model.fused_decoder import can_fuse, fused_decode_hidden
from qasr.adapters.mlx.model.kv_cache import DEFAULT_STEP, KVCache, make_cache
from qasr.adapters.mlx.model.mrope import (
    apply_rotary,
    inverse_frequencies,
    mrope_cos_sin,
    rope_from_start,
)
from qasr.errors import CheckpointError

Rotary = Callable[[mx.array], mx.array]


def _section(value: Any) -> tuple[int, int, int]:
    section = tuple(int(v) for v in value)
    if len(section) != 3:
        raise CheckpointError(f"rope_scaling.mrope_section must have 3 entries, got {value!r}")
    return section[0], section[1], section[2]


@attrs.frozen
class RopeScaling:
    """`text_config.rope_scaling`. The reference interleaves whatever `interleaved` says."""

    mrope_section: tuple[int, int, int] = attrs.field(default=(24, 20, 20), converter=_section)
    interleaved: bool = True
    rope_type: str = "default"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RopeScaling:
        data = dict(data or {})
        if "type" in data:  # transformers' backward-compatible spelling
            data.setdefault("rope_type", data["type"])
        return cls(**known_fields(cls, data))


def _rope_scaling(value: RopeScaling | Mapping[str, Any] | None) -> RopeScaling:
    return value if isinstance(value, RopeScaling) else RopeScaling.from_dict(value)


@attrs.frozen
class TextConfig:
    """`thinker_config.text_config` of config.json; defaults are the reference's."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int = 128
    rms_norm_eps: float = 1e-6
    rope_theta: float = 5_000_000.0
    rope_scaling: RopeScaling = attrs.field(factory=RopeScaling, converter=_rope_scaling)
    vocab_size: int = 151_936
    tie_word_embeddings: bool = False
    attention_bias: bool = False
    hidden_act: str = "silu"

    def __attrs_post_init__(self) -> None:
        if self.hidden_act != "silu":
            raise CheckpointError(f"text decoder activation {self.hidden_act!r} is not supported")
        if self.rope_scaling.rope_type != "default":
            raise CheckpointError(
                f"rope_type {self.rope_scaling.rope_type!r} is not supported (only 'default')"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise CheckpointError(
                f"num_attention_heads ({self.num_attention_heads}) is not a multiple of "
                f"num_key_value_heads ({self.num_key_value_heads})"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextConfig:
        """Build from a `text_config` dict, ignoring keys the decoder does not use."""
        values = known_fields(cls, data)
        missing = sorted(
            field.name
            for field in attrs.fields(cls)
            if field.default is attrs.NOTHING and field.name not in values
        )
        if missing:
            raise CheckpointError(f"text_config lacks {', '.join(missing)}: is config.json whole?")
        return cls(**values)


class Attention(nn.Module):
    def __init__(self, config: TextConfig) -> None:
        super().__init__()
        self.n_heads = config.num_attention_heads
        self.n_kv_heads = config.num_key_value_heads
        self.head_dim = config.head_dim
        self.scale = config.head_dim**-0.5
        self.q_dim = self.n_heads * self.head_dim
        self.kv_dim = self.n_kv_heads * self.head_dim
        bias = config.attention_bias
        self.qkv_proj = nn.Linear(config.hidden_size, self.q_dim + 2 * self.kv_dim, bias=bias)
        self.o_proj = nn.Linear(self.q_dim, config.hidden_size, bias=bias)
        self.q_norm = nn.RMSNorm(config.head_dim, eps=config.rms_norm_eps)
        self.k_norm = nn.RMSNorm(config.head_dim, eps=config.rms_norm_eps)

    def __call__(
        self, x: mx.array, rotary: Rotary, cache: KVCache | None, mask: mx.array | str | None
    ) -> mx.array:
        B, L, _ = x.shape
        qkv = self.qkv_proj(x)
        queries, keys, values = mx.split(qkv, [self.q_dim, self.q_dim + self.kv_dim], axis=-1)
        queries = self.q_norm(queries.reshape(B, L, self.n_heads, -1)).transpose(0, 2, 1, 3)
        keys = self.k_norm(keys.reshape(B, L, self.n_kv_heads, -1)).transpose(0, 2, 1, 3)
        values = values.reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        queries, keys = rotary(queries), rotary(keys)
        if cache is not None:
            keys, values = cache.update_and_fetch(keys, values)
        out = attention(queries, keys, values, scale=self.scale, mask=mask)
        # One token: [B, H, 1, D] is already [B, 1, H * D] in memory, so no transpose copy.
        out = out.reshape(B, 1, -1) if L == 1 else out.transpose(0, 2, 1, 3).reshape(B, L, -1)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, config: TextConfig) -> None:
        super().__init__()
        self.gate_up_proj = nn.Linear(config.hidden_size, 2 * config.intermediate_size, bias=False)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)

    def __call__(self, x: mx.array) -> mx.array:
        gate, up = mx.split(self.gate_up_proj(x), 2, axis=-1)
        return self.down_proj(swiglu_for(mx.default_device())(gate, up))


class DecoderLayer(nn.Module):
    def __init__(self, config: TextConfig) -> None:
        super().__init__()
        self.self_attn = Attention(config)
        self.mlp = MLP(config)
        self.input_layernorm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def __call__(
        self, x: mx.array, rotary: Rotary, cache: KVCache | None, mask: mx.array | str | None
    ) -> mx.array:
        h = x + self.self_attn(self.input_layernorm(x), rotary, cache, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


class TextModel(nn.Module):
    """`thinker.model`: input embeddings in, final-normed hidden states out."""

    def __init__(self, config: TextConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = [DecoderLayer(config) for _ in range(config.num_hidden_layers)]
        self.norm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self._inv_freq = inverse_frequencies(config.head_dim, config.rope_theta)
        self._wavelengths = 1.0 / self._inv_freq
        # Computed now: MLX streams are thread-local (>= 0.31.2) and a lazy array keeps the
        # stream of the thread that made it, so a model first used on a worker thread (a
        # server, asyncio.to_thread) would fail with "There is no Stream(cpu, 0) in current thread".
        mx.eval(self._inv_freq, self._wavelengths)

    def __call__(
        self,
        inputs_embeds: mx.array,
        position_ids: mx.array | int,
        cache: list[KVCache] | None = None,
        mask: mx.array | str | None = None,
    ) -> mx.array:
        """Hidden states [B, L, D] for `inputs_embeds` [B, L, D].

        `position_ids` is either the 3-axis MRoPE ids [3, B, L], or, for ASR where the axes
        are equal and consecutive, the first position per row ([B] or an int): the fast path.
        `mask` defaults to causal; a left-padded batch needs `padded_causal_mask`. One token a
        row on CUDA goes through the fused kernels (`fused_decoder`).
        """
        if can_fuse(inputs_embeds, position_ids, mask, self.config.head_dim):
            return fused_decode_hidden(self, inputs_embeds, position_ids, cache, mask)
        L = inputs_embeds.shape[1]
        if mask is None and L > 1:
            mask = "causal"
        rotary = self._rotary(position_ids)
        layer_caches = cache if cache is not None else [None] * len(self.layers)
        hidden = inputs_embeds
        for layer, layer_cache in zip(self.layers, layer_caches, strict=True):
            hidden = layer(hidden, rotary, layer_cache, mask)
        return self.norm(hidden)

    def _rotary(self, position_ids: mx.array | int) -> Rotary:
        if isinstance(position_ids, int) or position_ids.ndim <= 1:
            start = position_ids
            return lambda heads: rope_from_start(heads, self._wavelengths, start)
        section = self.config.rope_scaling.mrope_section
        cos, sin = mrope_cos_sin(position_ids, self._inv_freq, section)
        return lambda heads: apply_rotary(heads, cos, sin)

    def as_logits(self, hidden: mx.array) -> mx.array:
        """Logits through the tied embedding (`tie_word_embeddings`); else use `lm_head`."""
        return self.embed_tokens.as_linear(hidden)

    def make_cache(self, step: int = DEFAULT_STEP) -> list[KVCache]:
        return make_cache(len(self.layers), step)

    @staticmethod
    def sanitize(weights: Mapping[str, mx.array]) -> dict[str, mx.array]:
        """Checkpoint names (without `thinker.model.`) to this module's: fuse q/k/v, gate/up."""
        fused: dict[str, mx.array] = {}
        parts: dict[str, dict[str, mx.array]] = {}
        for name, value in weights.items():
            prefix, _, leaf = name.rpartition(".")
            module, _, proj = prefix.rpartition(".")
            if proj in FUSED_INTO and leaf in ("weight", "bias"):
                parts.setdefault(f"{module}.{FUSED_INTO[proj]}.{leaf}", {})[proj] = value
            else:
                fused[name] = value
        for name, pieces in parts.items():
            target = name.rsplit(".", 2)[1]
            order = FUSED_PROJECTIONS[target]
            if set(pieces) != set(order):
                raise CheckpointError(f"{name}: checkpoint has {sorted(pieces)}, needs {order}")
            fused[name] = mx.concatenate([pieces[proj] for proj in order], axis=0)
        return fused

    def load_checkpoint_weights(self, weights: Mapping[str, mx.array]) -> None:
        """Load checkpoint-named weights (prefix `thinker.model.` stripped), strictly."""
        try:
            self.load_weights(list(self.sanitize(weights).items()), strict=True)
        except ValueError as error:
            raise CheckpointError(f"text decoder weights do not fit the config: {error}") from error


def padded_causal_mask(attention_mask: mx.array, query_length: int) -> mx.array:
    """Boolean mask [B, 1, L, T] for the last `query_length` of T positions, where
    `attention_mask` [B, T] is 1 for real tokens and 0 for (left) padding.

    A query sees earlier real keys. A padding query also sees itself, so no row is empty:
    an empty row would make NaNs that reach real rows through the cache (0 * NaN).
    """
    total = attention_mask.shape[-1]
    query_positions = mx.arange(total - query_length, total)[:, None]
    key_positions = mx.arange(total)[None, :]
    causal = key_positions <= query_positions
    real_keys = attention_mask.astype(mx.bool_)[:, None, None, :]
    itself = (key_positions == query_positions)[None, None]
    return causal[None, None] & (real_keys | itself)


__all__ = [
    "MLP",
    "Attention",
    "DecoderLayer",
    "RopeScaling",
    "TextConfig",
    "TextModel",
    "padded_causal_mask",
]
