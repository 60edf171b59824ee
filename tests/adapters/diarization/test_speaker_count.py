"""The speaker-count rules: bounds, whether speakers stand apart, k-means labels of prints."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.diarization.speaker_count import (
    check_speaker_bounds,
    distortion,
    kmeans_labels,
    speakers_stand_apart,
    spherical_kmeans,
)
from qasr.errors import InvalidInputError


def turns_of(sizes: list[int], spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit window prints in time order: a run of prints per turn, each turn one of the random
    speaker centres (speakers take turns in order, as windows of a conversation would)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), 64))
    truth = np.repeat(np.arange(len(sizes)), sizes)
    points = centres[truth] + spread * rng.standard_normal((len(truth), 64))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32), truth


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_the_answers_are_deterministic() -> None:
    prints, _ = turns_of([9, 7, 12], spread=0.9, seed=3)
    first = spherical_kmeans(prints, 3)
    assert np.array_equal(first, spherical_kmeans(prints, 3))
    assert np.array_equal(kmeans_labels(prints, 3), kmeans_labels(prints, 3))


def test_kmeans_finds_the_speakers_and_numbers_them_by_first_appearance() -> None:
    prints, truth = turns_of([6, 9, 4], spread=0.3, seed=1)
    shuffled = np.random.default_rng(2).permutation(len(prints))
    labels = kmeans_labels(prints[shuffled], 3)
    assert same_partition(labels, truth[shuffled])
    assert labels[0] == 0 and sorted(set(labels.tolist())) == [0, 1, 2]
    assert list(labels).index(1) < list(labels).index(2)
    centres = spherical_kmeans(prints, 3)
    assert np.allclose(np.linalg.norm(centres, axis=1), 1.0)
    assert distortion(prints, centres) < distortion(prints, centres[:1])


def test_more_speakers_than_prints_gives_one_each() -> None:
    prints, _ = turns_of([1, 1], spread=0.1)
    assert kmeans_labels(prints, 5).tolist() == [0, 1]
    assert kmeans_labels(prints[:0], 2).tolist() == []


def unit_rows(rows: list[list[float]]) -> np.ndarray:
    points = np.array(rows, dtype=np.float64)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_speakers_stand_apart_when_long_enough_and_distinct() -> None:
    apart = unit_rows([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert speakers_stand_apart(np.array([5.0, 4.0, 2.75]), apart)
    assert not speakers_stand_apart(np.array([5.0, 4.0, 2.7]), apart)  # one heard too briefly
    close = unit_rows([[1, 0, 0], [1, 0.3, 0], [0, 0, 1]])  # cosine 0.958
    assert not speakers_stand_apart(np.array([5.0, 5.0, 5.0]), close)
    assert speakers_stand_apart(np.array([5.0, 5.0, 5.0]), close, max_similarity=0.96)
    silent = apart.copy()
    silent[2] = 0.0  # no window wholly inside this speaker's turns: no voice of its own
    assert not speakers_stand_apart(np.array([5.0, 5.0, 5.0]), silent)
    assert speakers_stand_apart(np.array([0.1]), apart[:1])  # one speaker has no rival


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 5),
    st.floats(0.5, 10.0, allow_subnormal=False),
    st.floats(0.0, 5.0, allow_subnormal=False),
    st.floats(-0.5, 1.0, allow_subnormal=False),
    st.integers(0, 10_000),
)
def test_more_speech_or_a_looser_limit_never_unmakes_a_speaker(
    speakers, shortest, extra, limit, seed
) -> None:
    rng = np.random.default_rng(seed)
    centroids = rng.standard_normal((speakers, 8))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    seconds = shortest + rng.uniform(0.0, 5.0, speakers)
    if speakers_stand_apart(seconds, centroids, min_seconds=3.0, max_similarity=limit):
        assert speakers_stand_apart(
            seconds + extra, centroids, min_seconds=3.0, max_similarity=limit
        )
        assert speakers_stand_apart(
            seconds, centroids, min_seconds=3.0, max_similarity=min(limit + extra, 1.0)
        )
        assert speakers_stand_apart(
            seconds[:-1], centroids[:-1], min_seconds=3.0, max_similarity=limit
        )


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ((0, None, None), "num_speakers must be at least 1"),
        ((None, 3, 2), r"min_speakers \(3\) is larger than max_speakers \(2\)"),
        ((5, None, 4), "outside"),
        ((1, 2, None), "outside"),
    ],
)
def test_impossible_counts_are_refused(bounds, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_speaker_bounds(*bounds)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(0, 3), st.integers(0, 4))
def test_counts_within_the_bounds_are_accepted(low, extra, offset) -> None:
    high = low + extra
    check_speaker_bounds(min(low + offset, high), low, high)
    check_speaker_bounds(None, low, high)
