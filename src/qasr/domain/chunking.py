"""Plan where long audio is cut into chunks the model decodes one by one.

Qwen3-ASR decodes a bounded stretch of audio well; longer recordings are cut at quiet points so a
cut rarely splits a word. The official `qwen_asr.inference.utils.split_audio_into_chunks` searches
+-5 s around each boundary (so its chunks can exceed the maximum); here the search looks only
backwards, so every chunk is at most `max_seconds` long, which a model with a hard input limit
needs.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

from qasr.domain.audio import SAMPLE_RATE
from qasr.errors import InvalidInputError


def _non_negative(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0 samples, got {value}")


def _after_start(instance: ChunkSpan, attribute: attrs.Attribute[int], value: int) -> None:
    if value <= instance.start:
        raise ValueError(f"a chunk must not be empty: end ({value}) <= start ({instance.start})")


@attrs.frozen
class ChunkSpan:
    """Samples [start, end) of the input: `end` is exclusive, like a Python slice."""

    start: int = attrs.field(converter=int, validator=_non_negative)
    end: int = attrs.field(converter=int, validator=_after_start)

    @property
    def num_samples(self) -> int:
        return self.end - self.start

    def as_slice(self) -> slice:
        return slice(self.start, self.end)


def plan_chunks(
    samples: npt.ArrayLike,
    sample_rate: int = SAMPLE_RATE,
    max_seconds: float = 30.0,
    *,
    search_seconds: float = 5.0,
    window_seconds: float = 0.1,
) -> tuple[ChunkSpan, ...]:
    """Cut `samples` into contiguous, non-empty chunks of at most `max_seconds` each.

    Each cut lies in the last `search_seconds` (at most half the limit) before the length limit,
    at the middle of the quietest stretch there (mean |sample| over a `window_seconds` window),
    so a pause is preferred to a word. The chunks tile the input exactly; audio no longer than
    the limit is one chunk, and empty audio is no chunk at all.
    """
    audio = np.asarray(samples)
    if audio.ndim != 1:
        raise InvalidInputError(f"plan_chunks needs mono (1-D) samples, got shape {audio.shape}")
    if sample_rate <= 0:
        raise InvalidInputError(f"sample_rate must be positive, got {sample_rate}")
    max_samples = int(max_seconds * sample_rate)
    if max_samples < 1:
        raise InvalidInputError(
            f"max_seconds={max_seconds} is shorter than one sample at {sample_rate} Hz"
        )
    # Searching at most the second half keeps every chunk but the last at least half the limit:
    # a wider search would cut again in the rest of the pause the previous chunk was cut in.
    search_samples = min(max(0, int(search_seconds * sample_rate)), max_samples // 2)
    half_window = max(1, int(window_seconds * sample_rate) // 2)

    total = len(audio)
    spans: list[ChunkSpan] = []
    start = 0
    while total - start > max_samples:
        limit = start + max_samples
        earliest = max(start + 1, limit - search_samples)
        cut = _quietest_cut(audio, earliest, limit, half_window)
        spans.append(ChunkSpan(start, cut))
        start = cut
    if total > start:
        spans.append(ChunkSpan(start, total))
    return tuple(spans)


def _quietest_cut(audio: npt.NDArray[np.generic], earliest: int, latest: int, half: int) -> int:
    """The cut position in [earliest, latest] whose surrounding window is quietest."""
    lo = max(0, earliest - half)
    hi = min(len(audio), latest + half)
    # float64 running sums: a float32 cumsum over minutes of audio loses the quiet parts.
    running = np.concatenate(([0.0], np.cumsum(np.abs(audio[lo:hi]), dtype=np.float64)))
    cuts = np.arange(earliest, latest + 1)
    left = np.maximum(cuts - half, lo) - lo
    right = np.minimum(cuts + half, hi) - lo
    loudness = (running[right] - running[left]) / (right - left)
    first = int(np.argmin(loudness))
    # In a pause every cut is equally quiet; the middle of the pause keeps both neighbours whole.
    quiet = loudness <= loudness[first] + 1e-9
    loud_after = np.flatnonzero(~quiet[first:])
    last = first + int(loud_after[0]) - 1 if len(loud_after) else len(quiet) - 1
    return int(cuts[(first + last) // 2])
