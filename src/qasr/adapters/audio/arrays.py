"""In-memory audio: numpy arrays and `(array, sample_rate)` pairs turned into 16 kHz mono clips.

Conventions (the same as the port's docstring and `load_audio`):
- A 1-D array is mono samples already at 16 kHz; a pair `(array, sample_rate)` is resampled.
- A 2-D array is (frames, channels), the layout of soundfile and WAV files; channels are averaged.
  librosa's (channels, frames) must be transposed first: an array with more channels than frames
  is rejected rather than guessed.
- Integer PCM is scaled by its type's full range: int16 / 2^15, int32 / 2^31, int8 / 2^7 and
  unsigned 8-bit as (x - 128) / 128. Floats are taken as they are ([-1, 1] by convention) and
  stored as float32. Loud input is not normalised: the official `qwen_asr` divides by the peak
  when it exceeds 1, qasr leaves that choice to the user.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qasr.adapters.audio.resample import resample
from qasr.domain import SAMPLE_RATE, AudioClip
from qasr.errors import AudioError

# dtype -> (value of silence, full scale)
_INTEGER_PCM = {
    np.dtype(np.uint8): (128.0, 128.0),
    np.dtype(np.int8): (0.0, 128.0),
    np.dtype(np.int16): (0.0, 32768.0),
    np.dtype(np.int32): (0.0, 2.0**31),
}
_INPUT_HINT = (
    "pass a file path, a 1-D float32 array at 16 kHz, an (array, sample_rate) pair or an AudioClip"
)


def pcm_to_float(samples: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    """Scale integer PCM to [-1, 1) and cast floats to float32; keeps the shape, always copies."""
    dtype = samples.dtype
    if dtype.kind == "f":
        return np.array(samples, dtype=np.float32)
    if dtype in _INTEGER_PCM:
        silence, full_scale = _INTEGER_PCM[dtype]
        # 8/16-bit PCM is exact in float32; int32 goes through float64 to round only once.
        work = np.float64 if dtype.itemsize > 2 else np.float32
        return ((samples.astype(work) - silence) / full_scale).astype(np.float32)
    raise AudioError(
        f"audio samples of dtype {dtype} are not supported: use float32 in [-1, 1] or "
        "int16/int32/uint8 PCM"
    )


def mono_samples(samples: object) -> npt.NDArray[np.float32]:
    """Check an in-memory array and return it as mono float32 (a new array, same rate)."""
    if not isinstance(samples, np.ndarray):
        raise AudioError(f"unsupported audio input of type {type(samples).__name__}: {_INPUT_HINT}")
    if samples.ndim not in (1, 2):
        raise AudioError(
            f"audio arrays must be 1-D (mono) or 2-D (frames, channels), got shape {samples.shape}"
        )
    if samples.size == 0:
        raise AudioError(f"the audio array contains no audio (shape {samples.shape})")
    if samples.ndim == 2 and samples.shape[1] > samples.shape[0]:
        frames, channels = samples.shape
        raise AudioError(
            f"2-D audio is read as (frames, channels), and shape {samples.shape} would be "
            f"{channels} channels of {frames} frames: pass samples.T if it is (channels, frames)"
        )
    floats = pcm_to_float(samples)
    if not np.all(np.isfinite(floats)):
        raise AudioError("the audio array contains NaN or infinite samples")
    if floats.ndim == 2:
        floats = floats.mean(axis=1, dtype=np.float32)
    return floats


def clip_from_memory(source: object) -> AudioClip | None:
    """The 16 kHz clip for an array, `(array, rate)` pair or AudioClip; None for anything else."""
    if isinstance(source, AudioClip):
        if source.sample_rate == SAMPLE_RATE:
            return source
        return AudioClip(resample(source.samples, source.sample_rate), SAMPLE_RATE, source.name)
    if isinstance(source, tuple):
        if len(source) != 2:
            raise AudioError(f"an audio pair must be (array, sample_rate), got {len(source)} items")
        samples, sample_rate = source
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
            raise AudioError(f"the sample rate must be an integer in Hz, got {sample_rate!r}")
        if sample_rate <= 0:
            raise AudioError(f"the sample rate must be positive, got {sample_rate}")
        return AudioClip(resample(mono_samples(samples), int(sample_rate)), SAMPLE_RATE)
    if isinstance(source, np.ndarray):
        return AudioClip(mono_samples(source), SAMPLE_RATE)
    return None


def unsupported_input(source: object) -> AudioError:
    return AudioError(f"unsupported audio input of type {type(source).__name__}: {_INPUT_HINT}")
