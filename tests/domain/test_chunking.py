"""plan_chunks: the chunks tile the input exactly, respect the limit, and cut in pauses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.domain.chunking import ChunkSpan, plan_chunks
from qasr.errors import InvalidInputError

# A low sample rate keeps the property tests to a few thousand samples per example.
RATE = 100


@st.composite
def long_audio(draw: st.DrawFn) -> tuple[np.ndarray, float]:
    max_seconds = draw(st.floats(0.05, 5.0))
    length = draw(st.integers(0, 4_000))
    seed = draw(st.integers(0, 2**32 - 1))
    samples = np.random.default_rng(seed).uniform(-1, 1, length).astype(np.float32)
    if draw(st.booleans()):  # some stretches of digital silence, where ties are everywhere
        for _ in range(draw(st.integers(1, 4))):
            start = draw(st.integers(0, max(0, length - 1)))
            samples[start : start + draw(st.integers(1, 300))] = 0.0
    return samples, max_seconds


@settings(max_examples=150, deadline=None)
@given(
    long_audio(),
    st.floats(0.0, 3.0, allow_subnormal=False),
    st.floats(0.0, 0.5, allow_subnormal=False),
)
def test_chunks_tile_the_input_within_the_limit(
    case: tuple[np.ndarray, float], search: float, window: float
) -> None:
    samples, max_seconds = case
    spans = plan_chunks(samples, RATE, max_seconds, search_seconds=search, window_seconds=window)
    covered = np.concatenate([samples[s.as_slice()] for s in spans]) if spans else samples[:0]
    assert np.array_equal(covered, samples)
    assert [s.start for s in spans[1:]] == [s.end for s in spans[:-1]]
    assert spans == () or (spans[0].start == 0 and spans[-1].end == len(samples))
    limit = int(max_seconds * RATE)
    assert all(0 < s.num_samples <= limit for s in spans)
    shortest = limit - min(int(search * RATE), limit // 2)
    assert all(s.num_samples >= shortest for s in spans[:-1])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 3_000), st.floats(0.1, 60.0))
def test_audio_within_the_limit_is_one_chunk(length: int, max_seconds: float) -> None:
    limit = int(max_seconds * RATE)
    samples = np.ones(min(length, limit), dtype=np.float32)
    assert plan_chunks(samples, RATE, max_seconds) == (ChunkSpan(0, len(samples)),)


def test_a_pause_is_not_cut_twice() -> None:
    # A search window wider than the chunk would find the rest of the previous pause again.
    rate = 1_000
    samples = np.full(7 * rate, 0.5, dtype=np.float32)
    for end in (2.0, 4.0, 6.0):
        samples[int((end - 0.2) * rate) : int(end * rate)] = 0.0
    spans = plan_chunks(samples, rate, 2.0, search_seconds=5.0)
    assert [round(s.end / rate, 1) for s in spans] == [1.9, 3.9, 5.9, 7.0]


def test_the_cut_falls_in_a_pause_before_the_limit() -> None:
    rate = 16_000
    speech = np.random.default_rng(0).uniform(-0.5, 0.5, 40 * rate).astype(np.float32)
    speech[int(26.0 * rate) : int(27.0 * rate)] = 0.0  # a one-second pause 3-4 s before 30 s
    first, second = plan_chunks(speech, rate, 30.0)
    # The middle of the pause, not its edge, so both neighbouring words stay whole: 50 ms
    # half-windows are silent for cuts 416,800..431,200, whose middle is 424,000 (26.5 s).
    assert first.end == 424_000
    assert second == ChunkSpan(first.end, len(speech))


def test_a_quiet_stretch_wins_over_louder_ones() -> None:
    rate = 1_000
    signal = np.full(50 * rate, 0.5, dtype=np.float32)
    signal[int(27.2 * rate) : int(27.4 * rate)] = 0.01  # quiet, not silent
    signal[int(28.5 * rate) : int(28.6 * rate)] = 0.2  # less loud, but louder than the quiet one
    spans = plan_chunks(signal, rate, 30.0)
    assert 27.2 * rate <= spans[0].end <= 27.4 * rate


# Worked examples, small enough to check by hand: 10 samples a second, chunks of at most 2 s
# (20 samples), cuts searched in the last 1 s (cuts 10..20), and a 0.4 s window, so the loudness
# of cut c is the mean |sample| of samples c-2, c-1, c and c+1. Loud samples are 1.0.
WORKED = dict(sample_rate=10, max_seconds=2.0, search_seconds=1.0, window_seconds=0.4)


def _loud_with(quiet: dict[tuple[int, int], float]) -> np.ndarray:
    samples = np.ones(30, dtype=np.float32)
    for (first, last), level in quiet.items():
        samples[first : last + 1] = level
    return samples


@pytest.mark.parametrize(
    ("quiet", "cut"),
    [
        # Silence on samples 12..18: the windows of cuts 14..17 are silent; their middle,
        # (14 + 17) // 2, rounds down to 15.
        ({(12, 18): 0.0}, 15),
        # Silence on 12..19: silent windows for cuts 14..18 (the run ends at the last silent
        # one, 18, not a cut earlier or later); the middle is 16.
        ({(12, 19): 0.0}, 16),
        # Silence exactly one window long (12..15), then a half-loud stretch (16..19): only cut
        # 14 sees nothing but silence. A window twice as wide would rather straddle the silence
        # and the half-loud stretch, and cut at 16.
        ({(12, 15): 0.0, (16, 19): 0.5}, 14),
    ],
    ids=["odd-run-rounds-down", "even-run-ends-at-its-last-cut", "window-of-four-samples"],
)
def test_worked_examples_cut_exactly_where_computed_by_hand(
    quiet: dict[tuple[int, int], float], cut: int
) -> None:
    assert plan_chunks(_loud_with(quiet), **WORKED) == (ChunkSpan(0, cut), ChunkSpan(cut, 30))


def test_without_a_pause_the_cut_stays_within_the_search_window() -> None:
    rate = 1_000
    samples = np.random.default_rng(1).uniform(0.4, 0.6, 100 * rate).astype(np.float32)
    spans = plan_chunks(samples, rate, 30.0, search_seconds=5.0)
    assert all(25 * rate <= s.num_samples <= 30 * rate for s in spans[:-1])


def test_empty_audio_has_no_chunks() -> None:
    assert plan_chunks(np.zeros(0, dtype=np.float32)) == ()


@pytest.mark.parametrize(
    ("samples", "rate", "max_seconds"),
    [
        (np.zeros((2, 10)), 16_000, 30.0),  # stereo
        (np.zeros(10), 0, 30.0),
        (np.zeros(10), 16_000, 0.0),
        (np.zeros(10), 16_000, 1e-6),  # shorter than one sample
    ],
)
def test_impossible_plans_are_refused(samples: np.ndarray, rate: int, max_seconds: float) -> None:
    with pytest.raises(InvalidInputError):
        plan_chunks(samples, rate, max_seconds)


@pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 5), (6, 5)])
def test_chunk_spans_are_non_empty_and_non_negative(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        ChunkSpan(start, end)
