from __future__ import annotations

import math

import numpy as np
import pytest
from audio_signals import peak_frequency, sine
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.audio import resample

COMMON_RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000]
SOURCE_RATES = [8000, 22050, 44100, 48000, 96000]


@settings(max_examples=40, deadline=None)
@given(
    length=st.integers(0, 3000),
    from_rate=st.sampled_from(COMMON_RATES),
    to_rate=st.sampled_from([8000, 16000, 22050]),
)
def test_output_length_is_the_ceiling_of_the_scaled_length(length, from_rate, to_rate):
    output = resample(np.zeros(length, dtype=np.float32), from_rate, to_rate)
    assert len(output) == math.ceil(length * to_rate / from_rate)
    assert abs(len(output) / to_rate - length / from_rate) < 1 / to_rate
    assert output.dtype == np.float32


@settings(max_examples=20, deadline=None)
@given(
    level=st.floats(-1, 1, allow_subnormal=False),
    from_rate=st.sampled_from([*COMMON_RATES, 44101, 7999]),
)
def test_a_constant_stays_constant_away_from_the_edges(level, from_rate):
    output = resample(np.full(from_rate // 4, level), from_rate)
    edge = 200  # the filter's reach in output samples, with margin
    np.testing.assert_allclose(output[edge:-edge], level, atol=2e-6)


@pytest.mark.parametrize("from_rate", SOURCE_RATES)
@pytest.mark.parametrize("frequency", [440.0, 3000.0])
def test_a_sine_keeps_its_frequency_and_level(from_rate, frequency):
    output = resample(sine(frequency, 0.5, from_rate), from_rate)
    assert len(output) == 8000
    assert peak_frequency(output, 16000) == pytest.approx(frequency, abs=0.5)
    middle = output[500:-500]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)


@pytest.mark.parametrize("from_rate", [22050, 44100, 48000, 96000])
@pytest.mark.parametrize("frequency", [8100.0, 9000.0, 10500.0])
def test_tones_above_the_new_nyquist_are_removed(from_rate, frequency):
    output = resample(sine(frequency, 0.5, from_rate, amplitude=1.0), from_rate)
    middle = output[500:-500]  # the abrupt start and end of the tone are broadband
    assert np.max(np.abs(middle)) < 10 ** (-80 / 20)


def test_equal_rates_return_a_copy():
    samples = np.linspace(-1, 1, 100, dtype=np.float32)
    output = resample(samples, 16000)
    assert output is not samples
    np.testing.assert_array_equal(output, samples)


def test_rejects_bad_rates_and_shapes():
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros(10), 0)
    with pytest.raises(ValueError, match="1-D"):
        resample(np.zeros((10, 2)), 8000)
