"""Work that a stream's re-decodes of its growing window share, reused exactly (ADR 0020).

The streaming engine decodes the open window again every step. Two parts of that work repeat:
- the audio encoder attends within windows of `n_window_infer` log-mel frames (8 s) and its
  conv stem works chunk by chunk, so a complete window's output is a function of that
  window's log-mel alone; and
- the decoder's prompt starts with the same rows each time (the text before the audio, then
  the audio tokens of the complete windows), whose keys and values are then the same.

"The same" must hold to the bit, or reuse could change the text. A BLAS matmul rounds a row
differently depending on how many rows it multiplies together (OpenBLAS on this CPU), so a
window encoded alone is not bitwise that window encoded inside its clip (the sizes of such
differences: docs/benchmarks/streaming-reuse-exactness.json). Stream decoding therefore always
computes in the same pieces, with reuse on or off: the log-mel in window-sized blocks, each
complete window encoded alone, the tail after them alone (its short last chunk padded as
inside the whole clip), and the prompt prefilled segment by segment (the text head, each
window's audio tokens, the tail's, the rest). A piece's result then depends only on its own
inputs, so a cached piece is exactly the piece recomputed.

Keys are contents, not positions: a window is keyed by a digest of its log-mel after the
dynamic-range clamp (whose floor is the whole clip's maximum minus 8), so a window whose floor
moved because louder audio came later is a new key, never a stale hit; a prompt's KV entry is
keyed by its segments' keys in order, and a later prompt reuses the longest run of them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable, Sequence

import attrs
import numpy as np

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.audio_encoder import AudioEncoder
from qasr.adapters.mlx.model.kv_cache import KVCache
from qasr.adapters.mlx.model.text_decoder import TextModel
from qasr.adapters.mlx.sequences import common_prefix_length

WINDOW_ENTRIES = 64  # ~27 MB of 0.6B encoder output: the complete windows of ~20 open streams
PROMPT_ENTRIES = 4  # KV of a 30 s window's shared rows: ~90 MB each for 0.6B in float32


@attrs.frozen
class Segment:
    """Consecutive prompt rows: `key` says what they are (equal keys, equal rows)."""

    key: Hashable
    rows: int


@attrs.define
class ReuseCounters:
    """Work done and skipped so far (tests and benchmarks read the differences)."""

    frames_encoded: int = 0
    windows_encoded: int = 0
    windows_reused: int = 0
    rows_prefilled: int = 0
    rows_reused: int = 0


@attrs.frozen
class _PromptEntry:
    keys: tuple[Hashable, ...]
    rows: int
    states: list[tuple[mx.array, mx.array]]  # per layer: keys, values [1, heads, rows, dim]


def _digest(block: mx.array) -> str:
    return hashlib.blake2b(np.asarray(block).tobytes(), digest_size=16).hexdigest()


class StreamWork:
    """The caches of one model: encoder outputs of complete windows, and prompt KV entries.

    Callers hold the model's lock (the recognizer's prefill does), so this is not locked.
    """

    def __init__(
        self, window_entries: int = WINDOW_ENTRIES, prompt_entries: int = PROMPT_ENTRIES
    ) -> None:
        self.window_entries = window_entries
        self.prompt_entries = prompt_entries
        self._windows: OrderedDict[Hashable, mx.array] = OrderedDict()
        self._prompts: list[_PromptEntry] = []
        self.counters = ReuseCounters()

    def clear(self) -> None:
        """Forget the cached work (a benchmark's runs then do not share it)."""
        self._windows.clear()
        self._prompts = []

    def encode(
        self, encoder: AudioEncoder, mel: mx.array, dtype: mx.Dtype, reuse: bool
    ) -> tuple[mx.array, list[Segment]]:
        """Audio tokens of a float32 log-mel [bins, frames] (made with `frames_per_chunk` equal
        to `config.window_frames`) and the segments they form, window by window."""
        span, frames = encoder.config.window_frames, mel.shape[1]
        if not encoder.windowed_attention:
            # Every token attends to the whole clip: no part of it is independent of the rest.
            return self._encode_piece(encoder, mel, dtype, ("clip", _digest(mel)), False, False)
        outputs, segments = [], []
        complete = frames // span
        for index in range(complete):
            block = mel[:, index * span : (index + 1) * span]
            output, segment = self._encode_piece(
                encoder, block, dtype, ("window", _digest(block)), False, reuse
            )
            outputs.append(output)
            segments += segment
        if frames > complete * span:
            tail = mel[:, complete * span :]
            # Inside a longer clip a short last chunk is padded to a whole chunk.
            padded = complete > 0
            output, segment = self._encode_piece(
                encoder, tail, dtype, ("tail", padded, _digest(tail)), padded, False
            )
            outputs.append(output)
            segments += segment
        return mx.concatenate(outputs) if len(outputs) > 1 else outputs[0], segments

    def _encode_piece(
        self,
        encoder: AudioEncoder,
        mel: mx.array,
        dtype: mx.Dtype,
        key: Hashable,
        padded: bool,
        cached: bool,
    ) -> tuple[mx.array, list[Segment]]:
        output = self._windows.get(key) if cached else None
        if output is not None:
            self._windows.move_to_end(key)
            self.counters.windows_reused += 1
            return output, [Segment(key, output.shape[0])]
        (output,) = encoder.encode_batch([mel.astype(dtype)], whole_tail_chunks=padded)
        mx.eval(output)
        self.counters.frames_encoded += mel.shape[1]
        self.counters.windows_encoded += 1
        if cached:
            self._windows[key] = output
            while len(self._windows) > self.window_entries:
                self._windows.popitem(last=False)
        return output, [Segment(key, output.shape[0])]

    def prefill(
        self, model: TextModel, embeds: mx.array, segments: Sequence[Segment], reuse: bool
    ) -> tuple[list[KVCache], mx.array]:
        """Prefill one prompt's embeddings [L, D] segment by segment; return its cache and the
        hidden states of the last segment [1, rows, D]. With `reuse`, the KV of the longest
        run of leading segments an earlier prompt shared is copied instead of computed, and
        this prompt's rows but the last segment are kept for later prompts."""
        cache = model.make_cache()
        keys = tuple(segment.key for segment in segments)
        done, position = 0, 0
        found = self._best_entry(keys[:-1]) if reuse else None  # the last segment is computed
        if found is not None:
            entry, done = found
            position = sum(segment.rows for segment in segments[:done])
            for layer, (keys_, values) in zip(cache, entry.states, strict=True):
                layer.update_and_fetch(keys_[..., :position, :], values[..., :position, :])
            self.counters.rows_reused += position
        reused = position
        hidden = embeds[None, :0]
        for index in range(done, len(segments)):
            end = position + segments[index].rows
            hidden = model(embeds[None, position:end], position, cache)
            position = end
            if reuse and index == len(segments) - 2:
                self._keep(keys[: index + 1], position, cache)
        self.counters.rows_prefilled += embeds.shape[0] - reused
        return cache, hidden

    def _best_entry(self, keys: tuple[Hashable, ...]) -> tuple[_PromptEntry, int] | None:
        """The entry sharing the longest run of leading `keys`, and that run's length."""
        scored = [(common_prefix_length(entry.keys, keys), entry) for entry in self._prompts]
        shared, best = max(scored, key=lambda pair: pair[0], default=(0, None))
        if best is None or shared == 0:
            return None
        self._prompts.remove(best)
        self._prompts.append(best)  # most recently used last
        return best, shared

    def _keep(self, keys: tuple[Hashable, ...], rows: int, cache: list[KVCache]) -> None:
        states = []
        for layer in cache:
            assert layer.keys is not None and layer.values is not None
            # Copies (x * 1 is exact): a view would share the cache's buffer, which then could
            # not be updated in place, so every decode step would copy it whole.
            one = mx.array(1, layer.keys.dtype)
            states.append((layer.keys[..., :rows, :] * one, layer.values[..., :rows, :] * one))
        mx.eval(states)
        # An entry whose keys this one extends can only match less than this one.
        self._prompts = [entry for entry in self._prompts if keys[: len(entry.keys)] != entry.keys]
        self._prompts.append(_PromptEntry(keys, rows, states))
        del self._prompts[: max(0, len(self._prompts) - self.prompt_entries)]


def prompt_segments(
    prompt: Sequence[int], audio_token_id: int, audio: Sequence[Segment]
) -> list[Segment]:
    """The segments of a prompt: the text before the audio, the audio's, the rest."""
    first = list(prompt).index(audio_token_id)
    after = first + sum(segment.rows for segment in audio)
    return [
        Segment(("text", tuple(prompt[:first])), first),
        *audio,
        Segment(("rest", tuple(prompt[after:])), len(prompt) - after),
    ]


__all__ = ["ReuseCounters", "Segment", "StreamWork", "prompt_segments"]
