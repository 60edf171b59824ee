"""The pitch beside the voice print: the track finds a voice's pitch, prints stay unit vectors,
and two prints compare as the weighted sum the module promises."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.diarization.builtin import BuiltinDiarizer
from qasr.adapters.diarization.pitch import (
    MIN_VOICED_FRAMES,
    RADIANS_PER_OCTAVE,
    pitch_track,
    window_pitch,
    with_pitch,
)
from qasr.errors import InvalidInputError

RATE = 16_000


def voiced(hz: float, seconds: float = 0.6, lowest_harmonic: int = 1, seed: int = 0) -> np.ndarray:
    """A glottal-like tone at `hz`: harmonics up to 3.4 kHz, falling 6 dB an octave, random
    phases; from `lowest_harmonic` up (a telephone band drops the first ones)."""
    t = np.arange(int(seconds * RATE)) / RATE
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, 64)
    tone = sum(
        np.sin(2 * np.pi * k * hz * t + phases[k]) / k
        for k in range(lowest_harmonic, int(3400 // hz) + 1)
    )
    return (0.3 * tone / np.abs(tone).max()).astype(np.float32)


@settings(max_examples=25, deadline=None)
@given(hz=st.floats(70.0, 380.0, allow_subnormal=False), seed=st.integers(0, 1000))
def test_the_track_finds_the_pitch_of_a_steady_voice(hz: float, seed: int) -> None:
    track = pitch_track(voiced(hz, seed=seed))
    inner = track[5:-5]  # the first and last frames overhang the tone's ends
    assert np.all(~np.isnan(inner))
    assert np.allclose(inner, np.log2(hz), atol=0.03)  # within half a semitone


@pytest.mark.parametrize("hz", [100.0, 140.0, 210.0])
def test_a_telephone_band_keeps_the_pitch_of_a_missing_fundamental(hz: float) -> None:
    track = pitch_track(voiced(hz, lowest_harmonic=int(np.ceil(300 / hz))))
    assert np.nanmedian(track[5:-5]) == pytest.approx(np.log2(hz), abs=0.03)


def test_silence_and_white_noise_have_no_pitch() -> None:
    assert np.all(np.isnan(pitch_track(np.zeros(RATE, dtype=np.float32))))
    noise = np.random.default_rng(0).standard_normal(RATE).astype(np.float32) * 0.1
    assert np.mean(~np.isnan(pitch_track(noise))) < 0.05


def test_quiet_frames_next_to_a_loud_voice_are_unvoiced() -> None:
    loud = voiced(150.0)
    quiet = voiced(150.0) * 10 ** (-50 / 20)  # 50 dB down: below the 35 dB floor
    track = pitch_track(np.concatenate([loud, quiet]))
    frames = len(loud) // 160
    assert np.all(np.isnan(track[frames + 5 : -5]))
    assert np.all(~np.isnan(track[5 : frames - 5]))


def test_a_window_takes_the_median_of_its_voiced_frames_or_none() -> None:
    track = np.full(40, np.nan)
    track[0:12] = np.log2(100.0)
    track[12:15] = np.log2(300.0)  # a few octave-off frames do not move the median
    track[30:35] = np.log2(200.0)  # too few voiced frames for the window at 25
    pitches = window_pitch(track, np.array([0, 25]), 15)
    assert pitches[0] == pytest.approx(np.log2(100.0))
    assert np.isnan(pitches[1])
    assert MIN_VOICED_FRAMES > 5
    assert len(window_pitch(track, np.zeros(0, dtype=np.int64), 15)) == 0


unit_prints = st.integers(1, 5).flatmap(
    lambda n: st.lists(
        st.lists(
            st.floats(-1, 1, allow_nan=False, allow_subnormal=False), min_size=4, max_size=4
        ).filter(lambda row: np.linalg.norm(row) > 1e-3),
        min_size=n,
        max_size=n,
    )
)
pitches_or_none = st.one_of(st.none(), st.floats(6.0, 9.0, allow_subnormal=False))


@settings(max_examples=60, deadline=None)
@given(
    rows=unit_prints,
    pitch_a=pitches_or_none,
    pitch_b=pitches_or_none,
    weight=st.floats(0.0, 0.9, allow_subnormal=False),
)
def test_prints_with_pitch_are_unit_and_compare_as_the_weighted_sum(
    rows: list[list[float]], pitch_a: float | None, pitch_b: float | None, weight: float
) -> None:
    ge2e = np.array(rows)
    ge2e /= np.linalg.norm(ge2e, axis=1, keepdims=True)
    pair = ge2e[[0, -1]]
    pitches = np.array([np.nan if p is None else p for p in (pitch_a, pitch_b)])
    joined = with_pitch(pair, pitches, weight).astype(np.float64)
    assert joined.shape == (2, 6)
    assert np.allclose(np.linalg.norm(joined, axis=1), 1.0, atol=1e-6)
    similarity = float(joined[0] @ joined[1])
    if pitch_a is not None and pitch_b is not None:
        expected = (1 - weight) * float(pair[0] @ pair[1]) + weight * np.cos(
            (pitch_a - pitch_b) * RADIANS_PER_OCTAVE
        )
        assert similarity == pytest.approx(expected, abs=1e-5)
    if pitch_a is None and pitch_b is None:  # no pitch on either side: GE2E alone
        assert similarity == pytest.approx(float(pair[0] @ pair[1]), abs=1e-5)


def test_weight_zero_leaves_the_voice_print_as_it_was() -> None:
    ge2e = np.eye(3, 4)
    joined = with_pitch(ge2e, np.array([7.0, np.nan, 8.0]), 0.0)
    assert np.allclose(joined[:, :4], ge2e) and np.all(joined[:, 4:] == 0)


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5])
def test_a_pitch_weight_outside_its_range_is_refused(weight: float) -> None:
    with pytest.raises(InvalidInputError, match="pitch_weight"):
        BuiltinDiarizer(pitch_weight=weight)
