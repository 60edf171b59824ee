"""Audio as the model sees it: mono float32 samples at a known rate."""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000  # Qwen3-ASR's feature extractor works at 16 kHz only


def _as_mono_float32(samples: npt.ArrayLike) -> npt.NDArray[np.float32]:
    array = np.asarray(samples, dtype=np.float32)
    if array.ndim != 1:
        raise ValueError(f"AudioClip samples must be 1-D (mono), got shape {array.shape}")
    # A float64 sum is NaN or inf exactly when a sample is (float32 samples cannot overflow it),
    # and unlike np.isfinite(array) it allocates nothing the size of an hours-long recording.
    with np.errstate(invalid="ignore", over="ignore"):
        total = array.sum(dtype=np.float64)
    if not np.isfinite(total):
        raise ValueError("AudioClip samples contain NaN or infinity")
    return array


def _positive_rate(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value <= 0:
        raise ValueError(f"sample_rate must be positive, got {value}")


@attrs.frozen(eq=False)
class AudioClip:
    """Mono float32 samples in [-1, 1] (not enforced: loud input is the user's business)."""

    samples: npt.NDArray[np.float32] = attrs.field(converter=_as_mono_float32)
    sample_rate: int = attrs.field(default=SAMPLE_RATE, converter=int, validator=_positive_rate)
    name: str = ""  # where it came from, for messages and output file names

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def num_samples(self) -> int:
        return len(self.samples)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioClip):
            return NotImplemented
        return (
            self.sample_rate == other.sample_rate
            and self.name == other.name
            and np.array_equal(self.samples, other.samples)
        )

    def __hash__(self) -> int:
        return hash((self.sample_rate, self.name, self.samples.tobytes()))
