"""Room, noise and level for synthetic speech, in numpy (no sox needed), and the WAV they go into.

Every random choice of a clip's effects is drawn up front into an `Effects` value (so a plan says
everything about a clip), and the random signals (room impulse response, noise) come from a
generator seeded with `Effects.seed`: the same `Effects` give the same samples.

- Room: a synthetic impulse response, the direct sound followed by exponentially decaying
  Gaussian noise that falls 60 dB in `reverb_seconds` (RT60), the usual stand-in for a measured
  room in ASR augmentation.
- Noise: white, pink (1/f power) or brown (1/f^2) noise at `snr_db` below the speech's power,
  over the whole clip including the silence around the speech.
- Telephone: a 300-3,400 Hz band-pass, as a narrow-band channel would give.
- Level: the clip's peak is set to `peak_db` dB below full scale.
"""

from __future__ import annotations

import io
import math
import random
import wave
from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from qasr.domain import SAMPLE_RATE

Samples = npt.NDArray[np.float32]
NOISES = ("white", "pink", "brown")


@attrs.frozen
class Effects:
    seed: int  # of the random signals (impulse response, noise)
    peak_db: float  # final peak level, dB below full scale (negative)
    lead_seconds: float = 0.0  # silence before the speech
    tail_seconds: float = 0.0  # silence after it
    reverb_seconds: float = 0.0  # RT60 of the room; 0: dry
    wet: float = 0.0  # reverberant energy relative to the direct sound
    noise: str | None = None  # one of NOISES; None: clean
    snr_db: float = 0.0
    telephone: bool = False


def random_effects(rng: random.Random) -> Effects:
    """A clip's effects: about a third reverberant, four in ten noisy, a tenth narrow-band.
    Noise stays 10 dB or more below the speech: a small demo model learns little from less."""
    reverberant, noisy = rng.random() < 0.35, rng.random() < 0.4
    return Effects(
        seed=rng.getrandbits(32),
        peak_db=round(rng.uniform(-20.0, -1.0), 1),
        lead_seconds=round(rng.uniform(0.05, 0.4), 3),
        tail_seconds=round(rng.uniform(0.05, 0.4), 3),
        reverb_seconds=round(rng.uniform(0.15, 0.7), 2) if reverberant else 0.0,
        wet=round(rng.uniform(0.1, 0.6), 2) if reverberant else 0.0,
        noise=rng.choice(NOISES) if noisy else None,
        snr_db=round(rng.uniform(10.0, 40.0), 1) if noisy else 0.0,
        telephone=rng.random() < 0.1,
    )


def speech_at_16k(pcm: npt.NDArray[np.int16], rate: int) -> Samples:
    """espeak-ng's 16-bit samples at `rate` as float32 at 16 kHz, resampled through the FFT.

    Not `qasr.adapters.audio.resample`: its matrix products run on BLAS threads, and their
    results differ in the last bit with the number of threads (measured: +-1 in a 16-bit sample
    between one process and two), so the same clip would get other bytes with another `--jobs`.
    The FFT here runs on one thread. The band is cut with a raised-cosine edge from 7.2 to 8 kHz,
    as far as a corpus of espeak-ng voices needs (they carry little energy above 7 kHz)."""
    if rate == SAMPLE_RATE:
        return (pcm.astype(np.float64) / 32768.0).astype(np.float32)
    divisor = math.gcd(rate, SAMPLE_RATE)
    up, down = SAMPLE_RATE // divisor, rate // divisor
    length = -(-pcm.size * up // down)
    blocks = -(-pcm.size // down) + 2  # zero padding, so the circular FFT wraps only silence
    spectrum = np.fft.rfft(pcm.astype(np.float64) / 32768.0, blocks * down)
    kept = blocks * up // 2 + 1
    spectrum = (
        spectrum[:kept] if kept <= spectrum.size else np.pad(spectrum, (0, kept - spectrum.size))
    )
    frequency = np.linspace(0.0, SAMPLE_RATE / 2, kept)
    edge = np.clip((frequency - 7200.0) / 800.0, 0.0, 1.0)
    spectrum *= 0.5 * (1 + np.cos(np.pi * edge))
    resampled = np.fft.irfft(spectrum, blocks * up) * (up / down)
    return resampled[:length].astype(np.float32)


def apply_effects(speech: Samples, effects: Effects, rate: int = SAMPLE_RATE) -> Samples:
    """`speech` (float32 in [-1, 1]) through the room, the channel and the noise, at `rate`."""
    generator = np.random.default_rng(effects.seed)
    signal = speech.astype(np.float64)
    if effects.reverb_seconds > 0:
        signal = _reverberate(signal, effects.reverb_seconds, effects.wet, rate, generator)
    lead, tail = round(effects.lead_seconds * rate), round(effects.tail_seconds * rate)
    signal = np.concatenate([np.zeros(lead), signal, np.zeros(tail)])
    if effects.telephone:
        signal = _band_pass(signal, 300.0, 3400.0, rate)
    if effects.noise is not None:
        speech_power = float(np.mean(speech.astype(np.float64) ** 2)) or 1e-12
        noise = coloured_noise(effects.noise, signal.size, generator)
        signal = signal + noise * np.sqrt(speech_power / 10 ** (effects.snr_db / 10))
    peak = float(np.max(np.abs(signal))) if signal.size else 0.0
    if peak > 0:
        signal *= 10 ** (effects.peak_db / 20) / peak
    return signal.astype(np.float32)


def _reverberate(
    signal: npt.NDArray[np.float64],
    rt60: float,
    wet: float,
    rate: int,
    generator: np.random.Generator,
) -> npt.NDArray[np.float64]:
    length = max(2, round(rt60 * rate))
    time = np.arange(length) / rate
    tail = generator.standard_normal(length) * np.exp(-6.9078 * time / rt60)  # -60 dB at rt60
    tail[0] = 0.0
    tail *= np.sqrt(wet / float(np.sum(tail**2)))
    response = tail
    response[0] = 1.0  # the direct sound
    size = signal.size + length - 1
    fft_size = 1 << (size - 1).bit_length()
    spectrum = np.fft.rfft(signal, fft_size) * np.fft.rfft(response, fft_size)
    return np.fft.irfft(spectrum, fft_size)[:size]


def _band_pass(
    signal: npt.NDArray[np.float64], low: float, high: float, rate: int
) -> npt.NDArray[np.float64]:
    spectrum = np.fft.rfft(signal)
    frequencies = np.fft.rfftfreq(signal.size, 1 / rate)
    spectrum[(frequencies < low) | (frequencies > high)] = 0
    return np.fft.irfft(spectrum, signal.size)


def coloured_noise(kind: str, size: int, generator: np.random.Generator) -> npt.NDArray[np.float64]:
    """Unit-power noise whose power falls as f^0 (white), f^-1 (pink) or f^-2 (brown)."""
    white = generator.standard_normal(size)
    if kind == "white" or size < 2:
        return white
    exponent = {"pink": 0.5, "brown": 1.0}[kind]  # of the amplitude
    spectrum = np.fft.rfft(white)
    frequency = np.arange(spectrum.size, dtype=np.float64)
    frequency[0] = 1.0  # the DC bin keeps white noise's level instead of dividing by zero
    noise = np.fft.irfft(spectrum / frequency**exponent, size)
    noise -= noise.mean()
    return noise / (float(np.sqrt(np.mean(noise**2))) or 1.0)


def wav_bytes(samples: Samples, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono PCM WAV; rounding, not truncation, so a silent clip stays exactly silent."""
    pcm = np.clip(np.round(samples.astype(np.float64) * 32767), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def write_wav_atomically(path: Path, samples: Samples, rate: int = SAMPLE_RATE) -> None:
    """Written beside `path` and renamed, so a file at `path` is always a whole clip."""
    part = path.with_name(path.name + ".part")
    part.write_bytes(wav_bytes(samples, rate))
    part.replace(path)
