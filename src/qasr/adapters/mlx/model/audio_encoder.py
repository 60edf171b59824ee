"""Qwen3-ASR's audio encoder (the thinker's `audio_tower`) in MLX.

Forward pass, as in the official `Qwen3ASRAudioEncoder`:
1. The log-mel [n_mels, frames] is cut into chunks of 2 * n_window frames (1 s); the last
   chunk is zero-padded to a full chunk when the clip has more than one. Each chunk goes through
   three stride-2 3x3 Conv2d + GELU over (mel bin, frame), then `conv_out` flattens channels and
   bins into d_model: 100 frames -> 13 tokens.
2. Each chunk gets sinusoidal positions 0..12 of its own; the padding's tokens are dropped.
3. Pre-norm transformer layers whose attention is block-diagonal: windows of
   n_window_infer // (2 * n_window) chunks (8 s, 104 tokens), the last window shorter.
4. ln_post, proj1, GELU, proj2 -> [audio tokens, output_dim].

Attribute names equal the checkpoint's names below `thinker.audio_tower.`, so loading is
`encoder.load_weights(list(AudioEncoder.sanitize(weights).items()))`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from qasr.adapters.mlx.backend import mx, nn
from qasr.adapters.mlx.checkpoint.config import known_fields
from qasr.adapters.mlx.checkpoint.weights import conv_to_mlx, is_conv_kernel
from qasr.adapters.mlx.model.activations import gelu
from qasr.adapters.mlx.model.attention import attention
from qasr.adapters.mlx.model.lengths import (
    audio_token_count,
    conv_output_length,
    tokens_per_chunk,
)
from qasr.errors import CheckpointError, InvalidInputError


@attrs.frozen(kw_only=True)
class AudioEncoderConfig:
    """`thinker_config.audio_config` of a Qwen3-ASR `config.json`; defaults are the official
    class's defaults (the real checkpoints override n_window to 50 and n_window_infer to 800)."""

    num_mel_bins: int = 128
    encoder_layers: int = 32
    encoder_attention_heads: int = 20
    encoder_ffn_dim: int = 5120
    d_model: int = 1280
    max_source_positions: int = 1500
    n_window: int = 100
    n_window_infer: int = 400
    output_dim: int = 3584
    downsample_hidden_size: int = 480
    conv_chunksize: int = 500
    activation_function: str = "gelu"

    def __attrs_post_init__(self) -> None:
        if self.d_model % self.encoder_attention_heads:
            raise CheckpointError(
                f"audio_config: d_model {self.d_model} is not a multiple of "
                f"encoder_attention_heads {self.encoder_attention_heads}; check config.json"
            )
        if self.n_window_infer < 2 * self.n_window:
            raise CheckpointError(
                f"audio_config: n_window_infer {self.n_window_infer} is shorter than one chunk "
                f"(2 * n_window = {2 * self.n_window}); check config.json"
            )
        if self.activation_function != "gelu":
            raise CheckpointError(
                f"audio_config: activation_function {self.activation_function!r} is not "
                "supported; Qwen3-ASR uses 'gelu'"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> AudioEncoderConfig:
        """Build from config.json's `audio_config`, ignoring keys the encoder does not use."""
        return cls(**known_fields(cls, values))

    @property
    def chunk_frames(self) -> int:
        return 2 * self.n_window

    @property
    def window_frames(self) -> int:
        """Log-mel frames per attention window: whole chunks, n_window_infer frames' worth."""
        return self.n_window_infer // self.chunk_frames * self.chunk_frames

    @property
    def window_tokens(self) -> int:
        """Tokens per attention window: whole chunks' tokens, n_window_infer frames' worth."""
        chunks_per_window = self.n_window_infer // self.chunk_frames
        return tokens_per_chunk(self.n_window) * chunks_per_window

    def token_count(self, mel_frames: int) -> int:
        return audio_token_count(mel_frames, self.n_window)


@functools.lru_cache(maxsize=8)
def sinusoids(length: int, channels: int, max_timescale: float = 10_000.0) -> mx.array:
    """[length, channels] float32: sines of all timescales, then cosines (Whisper's layout)."""
    # float32 steps in the official order, so the table equals its buffer to the last bit or two.
    increment = np.float32(np.log(max_timescale) / (channels // 2 - 1))
    inverse_timescales = np.exp(-increment * np.arange(channels // 2, dtype=np.float32))
    angles = np.arange(length, dtype=np.float32)[:, None] * inverse_timescales[None, :]
    return mx.array(np.concatenate([np.sin(angles), np.cos(angles)], axis=1))


@attrs.frozen
class _Windows:
    """Attention windows over the concatenated tokens, grouped by length to batch them.

    `groups` holds (length, starts); `restore` puts the grouped rows back in token order, or
    is None when grouping already keeps that order (one clip, windowed: the usual case).
    """

    groups: tuple[tuple[int, tuple[int, ...]], ...]
    restore: mx.array | None

    @classmethod
    def over(cls, lengths: Sequence[int]) -> _Windows:
        starts_by_length: dict[int, list[int]] = {}
        start = 0
        for length in lengths:
            starts_by_length.setdefault(length, []).append(start)
            start += length
        groups = tuple((length, tuple(starts)) for length, starts in starts_by_length.items())
        order = np.concatenate(
            [np.add.outer(np.array(starts), np.arange(length)).ravel() for length, starts in groups]
        )
        in_order = bool(np.array_equal(order, np.arange(order.size)))
        return cls(groups, None if in_order else mx.array(np.argsort(order).astype(np.int32)))

    def batches(self, rows: mx.array) -> list[mx.array]:
        """Split [tokens, ...] rows into one [windows, length, ...] batch per group."""
        batches = []
        for length, starts in self.groups:
            first, count = starts[0], len(starts)
            if starts == tuple(range(first, first + count * length, length)):
                batches.append(rows[first : first + count * length].reshape(count, length, -1))
            else:
                index = mx.array(np.add.outer(np.array(starts), np.arange(length)), mx.int32)
                batches.append(rows[index])
        return batches

    def merge(self, batches: Sequence[mx.array]) -> mx.array:
        rows = mx.concatenate([batch.reshape(-1, batch.shape[-1]) for batch in batches])
        return rows if self.restore is None else rows[self.restore]


class AudioAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.scale = (d_model // n_heads) ** -0.5
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def __call__(self, hidden: mx.array, windows: _Windows) -> mx.array:
        queries = windows.batches(self.q_proj(hidden))
        keys = windows.batches(self.k_proj(hidden))
        values = windows.batches(self.v_proj(hidden))
        outputs = []
        for q, k, v in zip(queries, keys, values, strict=True):
            B, L, D = q.shape
            q, k, v = (x.reshape(B, L, self.n_heads, -1).transpose(0, 2, 1, 3) for x in (q, k, v))
            attended = attention(q, k, v, scale=self.scale)
            outputs.append(attended.transpose(0, 2, 1, 3).reshape(B, L, D))
        return self.out_proj(windows.merge(outputs))


class AudioEncoderLayer(nn.Module):
    def __init__(self, config: AudioEncoderConfig) -> None:
        super().__init__()
        self.self_attn = AudioAttention(config.d_model, config.encoder_attention_heads)
        self.self_attn_layer_norm = nn.LayerNorm(config.d_model)
        self.fc1 = nn.Linear(config.d_model, config.encoder_ffn_dim)
        self.fc2 = nn.Linear(config.encoder_ffn_dim, config.d_model)
        self.final_layer_norm = nn.LayerNorm(config.d_model)

    def __call__(self, hidden: mx.array, windows: _Windows) -> mx.array:
        hidden = hidden + self.self_attn(self.self_attn_layer_norm(hidden), windows)
        # The exact erf form, as the official ACT2FN["gelu"] and F.gelu (see activations.py).
        return hidden + self.fc2(gelu(self.fc1(self.final_layer_norm(hidden))))


class AudioEncoder(nn.Module):
    """Log-mel [n_mels, frames] -> audio token embeddings [tokens, output_dim].

    `windowed_attention=True` attends within 8 s windows, as the model was built to run (the
    official flash-attention-2 and vLLM paths). The official transformers "eager"/"sdpa" paths
    never pass their window mask, so there every token attends to the whole clip; pass False to
    reproduce that. Both agree for clips of at most one window (n_window_infer frames).

    `whole_chunks=True` zero-pads a clip of one short chunk to a full chunk before the
    convolutions, as transformers' encoder does (its feature extractor pads the mel to whole
    chunks); qwen-asr's runs such a clip unpadded. Longer clips are the same either way.
    """

    def __init__(
        self,
        config: AudioEncoderConfig,
        *,
        windowed_attention: bool = True,
        whole_chunks: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self.windowed_attention = windowed_attention
        self.whole_chunks = whole_chunks
        hidden = config.downsample_hidden_size
        self.conv2d1 = nn.Conv2d(1, hidden, kernel_size=3, stride=2, padding=1)
        self.conv2d2 = nn.Conv2d(hidden, hidden, kernel_size=3, stride=2, padding=1)
        self.conv2d3 = nn.Conv2d(hidden, hidden, kernel_size=3, stride=2, padding=1)
        conv_bins = conv_output_length(config.num_mel_bins)
        self.conv_out = nn.Linear(hidden * conv_bins, config.d_model, bias=False)
        self.layers = [AudioEncoderLayer(config) for _ in range(config.encoder_layers)]
        self.ln_post = nn.LayerNorm(config.d_model)
        self.proj1 = nn.Linear(config.d_model, config.d_model)
        self.proj2 = nn.Linear(config.d_model, config.output_dim)

    @staticmethod
    def sanitize(weights: Mapping[str, mx.array]) -> dict[str, mx.array]:
        """Checkpoint (PyTorch layout, prefix stripped) -> MLX: conv kernels OIHW -> OHWI."""
        return {
            name: conv_to_mlx(weight) if is_conv_kernel(name, weight) else weight
            for name, weight in weights.items()
        }

    def __call__(self, mel: mx.array) -> mx.array:
        return self.encode_batch([mel])[0]

    def encode_batch(
        self, mels: Sequence[mx.array], *, whole_tail_chunks: bool = False
    ) -> list[mx.array]:
        """Encode several clips at once; each result equals that clip's own `__call__`.

        `whole_tail_chunks` pads a short last chunk to a whole chunk even in a clip of one
        chunk: a clip's tail encoded apart from its earlier windows is padded as it is inside
        the whole clip (stream_reuse.py).
        """
        if not mels:
            return []
        for mel in mels:
            self._check_mel(mel)
        token_counts = [self.config.token_count(mel.shape[1]) for mel in mels]
        hidden = mx.concatenate(self._embed(mels, whole_tail_chunks))
        if self.windowed_attention:
            window = self.config.window_tokens
            lengths = [
                size
                for count in token_counts
                for size in [window] * (count // window) + [count % window]
                if size
            ]
        else:
            lengths = token_counts
        windows = _Windows.over(lengths)
        for layer in self.layers:
            hidden = layer(hidden, windows)
        hidden = self.proj2(gelu(self.proj1(self.ln_post(hidden))))
        return list(mx.split(hidden, np.cumsum(token_counts)[:-1].tolist()))

    def _check_mel(self, mel: mx.array) -> None:
        bins = self.config.num_mel_bins
        if mel.ndim != 2 or mel.shape[0] != bins or mel.shape[1] < 1:
            raise InvalidInputError(
                f"the audio encoder needs a log-mel of shape [{bins}, frames >= 1], "
                f"got {tuple(mel.shape)}; use log_mel_spectrogram(samples, n_mels={bins})"
            )

    def _embed(self, mels: Sequence[mx.array], whole_tail_chunks: bool = False) -> list[mx.array]:
        """Conv stem per clip: [tokens, d_model], positions added, padding's tokens dropped."""
        chunk = self.config.chunk_frames
        dtype = self.conv2d1.weight.dtype  # conv kernels stay float when the model is quantized
        # The official encoder pads the tail chunk to the longest chunk of the same clip, and
        # that padding leaks into the tail's last token through the convolutions (GELU(bias) is
        # not 0). Clips of one short chunk are unpadded unless `whole_chunks`. Group chunks by
        # padded length.
        by_length: dict[int, list[int]] = {}
        chunked = []
        for index, mel in enumerate(mels):
            frames = mel.shape[1]
            length = chunk if self.whole_chunks or whole_tail_chunks else min(frames, chunk)
            count = math.ceil(frames / chunk)
            padded = mx.pad(mel.astype(dtype), [(0, 0), (0, count * length - frames)])
            chunked.append(padded.reshape(mel.shape[0], count, length).transpose(1, 0, 2))
            by_length.setdefault(length, []).append(index)
        embedded: list[mx.array] = [mx.array(0.0)] * len(mels)
        for indices in by_length.values():
            counts = [chunked[index].shape[0] for index in indices]
            outputs = self._stem(mx.concatenate([chunked[index] for index in indices]))
            per_clip = mx.split(outputs, np.cumsum(counts)[:-1].tolist())
            for index, chunks in zip(indices, per_clip, strict=True):
                tail_frames = mels[index].shape[1] - (chunks.shape[0] - 1) * chunk
                tail = chunks[-1, : conv_output_length(tail_frames)]
                embedded[index] = mx.concatenate([chunks[:-1].reshape(-1, chunks.shape[-1]), tail])
        return embedded

    def _stem(self, chunks: mx.array) -> mx.array:
        """[chunks, n_mels, frames] -> [chunks, tokens, d_model], with per-chunk positions."""
        outputs = []
        # conv_chunksize bounds the convolutions' memory, as in the official encoder.
        for first in range(0, chunks.shape[0], self.config.conv_chunksize):
            x = chunks[first : first + self.config.conv_chunksize, :, :, None]  # NHWC
            x = gelu(self.conv2d1(x))
            x = gelu(self.conv2d2(x))
            x = gelu(self.conv2d3(x))
            B, F, T, C = x.shape
            # The official flattens (channel, bin) with the channel major.
            outputs.append(self.conv_out(x.transpose(0, 2, 3, 1).reshape(B, T, C * F)))
        embedded = mx.concatenate(outputs)
        return embedded + sinusoids(embedded.shape[1], self.config.d_model).astype(embedded.dtype)
