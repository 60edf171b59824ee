"""Room, noise, band and level of the corpus's effects, measured on the samples they produce."""

from __future__ import annotations

import random
import wave
from io import BytesIO
from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.training import augment

RATE = 16_000


def tone(seconds: float = 1.0, hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


DRY = augment.Effects(seed=1, peak_db=-6.0)


@given(st.integers(0, 2**32))
def test_effects_are_a_function_of_their_values(seed: int) -> None:
    effects = augment.random_effects(random.Random(seed))
    assert effects == augment.random_effects(random.Random(seed))
    speech = tone(0.3)
    first, second = augment.apply_effects(speech, effects), augment.apply_effects(speech, effects)
    assert np.array_equal(first, second)
    peak = 10 ** (effects.peak_db / 20)
    assert np.max(np.abs(first)) == pytest.approx(peak, rel=1e-5)


def test_silence_is_added_around_the_speech() -> None:
    effects = attrs.evolve(DRY, lead_seconds=0.25, tail_seconds=0.1)
    out = augment.apply_effects(tone(), effects)
    assert out.size == RATE + round(0.25 * RATE) + round(0.1 * RATE)
    assert not out[: round(0.25 * RATE)].any() and not out[-round(0.1 * RATE) :].any()
    scale = np.max(np.abs(out)) / 0.5
    np.testing.assert_allclose(out[round(0.25 * RATE) : -round(0.1 * RATE)], tone() * scale,
                               atol=1e-6)  # fmt: skip


@pytest.mark.parametrize("kind", augment.NOISES)
@pytest.mark.parametrize("snr_db", [5.0, 20.0])
def test_noise_is_added_at_the_asked_signal_to_noise_ratio(kind: str, snr_db: float) -> None:
    speech = tone(2.0)
    effects = attrs.evolve(DRY, noise=kind, snr_db=snr_db, peak_db=-1.0)
    out = augment.apply_effects(speech, effects).astype(np.float64)
    clean = augment.apply_effects(speech, DRY).astype(np.float64)
    scale = np.dot(out, clean) / np.dot(clean, clean)  # the level change of the speech part
    noise = out - scale * clean
    measured = 10 * np.log10(np.mean((scale * clean) ** 2) / np.mean(noise**2))
    assert measured == pytest.approx(snr_db, abs=0.5)


def test_noise_colours_tilt_the_spectrum() -> None:
    generator = np.random.default_rng(0)
    for kind, expected_tilt in (("white", 0.0), ("pink", 10.0), ("brown", 20.0)):
        noise = augment.coloured_noise(kind, 1 << 16, generator)
        assert np.mean(noise**2) == pytest.approx(1.0, rel=0.02)
        power = np.abs(np.fft.rfft(noise)) ** 2
        frequency = np.fft.rfftfreq(noise.size, 1 / RATE)
        low = power[(frequency > 100) & (frequency < 200)].mean()
        high = power[(frequency > 1000) & (frequency < 2000)].mean()
        assert 10 * np.log10(low / high) == pytest.approx(expected_tilt, abs=2.0)  # dB/decade


def test_a_room_adds_a_decaying_tail_after_the_direct_sound() -> None:
    click = np.zeros(RATE // 2, np.float32)
    click[0] = 1.0
    effects = attrs.evolve(DRY, reverb_seconds=0.4, wet=0.5, peak_db=0.0)
    out = augment.apply_effects(click, effects)
    assert out.size == click.size + round(0.4 * RATE) - 1
    assert np.argmax(np.abs(out)) == 0  # the direct sound comes first and is loudest
    energy = [float(np.sum(out[start : start + 1600] ** 2)) for start in (1, 1601, 3201, 4801)]
    assert energy == sorted(energy, reverse=True)  # the tail decays
    tail = np.sum(out[1:].astype(np.float64) ** 2) / out[0] ** 2
    assert tail == pytest.approx(0.5, rel=0.05)


def test_the_telephone_band_removes_low_and_high_frequencies() -> None:
    mix = tone(1.0, 100.0) + tone(1.0, 1000.0) + tone(1.0, 6000.0)
    out = augment.apply_effects(mix, attrs.evolve(DRY, telephone=True))
    spectrum = np.abs(np.fft.rfft(out))
    frequency = np.fft.rfftfreq(out.size, 1 / RATE)

    def level(hz: float) -> float:
        return float(spectrum[np.argmin(np.abs(frequency - hz))])

    assert level(100) < 1e-3 * level(1000) and level(6000) < 1e-3 * level(1000)


def test_wav_bytes_are_16_bit_mono_and_read_back(tmp_path: Path) -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], np.float32)
    path = tmp_path / "clip.wav"
    augment.write_wav_atomically(path, samples)
    assert not list(tmp_path.glob("*.part"))
    with wave.open(BytesIO(path.read_bytes())) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, RATE)
        pcm = np.frombuffer(clip.readframes(clip.getnframes()), "<i2")
    assert pcm.tolist() == [0, 16384, -16384, 32767, -32767, 32767]


@pytest.mark.parametrize("hz", [200.0, 1000.0, 5000.0])
def test_speech_is_resampled_to_16k_keeping_its_tones(hz: float) -> None:
    rate = 22_050
    t = np.arange(rate) / rate  # one second
    pcm = np.round(16000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    out = augment.speech_at_16k(pcm, rate)
    assert out.dtype == np.float32 and out.size == RATE
    expected = (16000 / 32768) * np.sin(2 * np.pi * hz * np.arange(RATE) / RATE)
    middle = slice(800, -800)  # the edges of a cut-off tone ring
    np.testing.assert_allclose(out[middle], expected[middle], atol=2e-3)


def test_resampling_removes_what_16k_cannot_hold() -> None:
    rate = 22_050
    t = np.arange(rate) / rate
    pcm = np.round(16000 * np.sin(2 * np.pi * 9000.0 * t)).astype(np.int16)  # above 8 kHz
    out = augment.speech_at_16k(pcm, rate)
    assert np.abs(out[800:-800]).max() < 1e-3  # no alias at 7 kHz (the cut-off edges ring)
