"""The speaker count from held-out k-means distortion, and k-means labels of voice prints."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.diarization.speaker_count import (
    distortion,
    estimate_speaker_count,
    held_out_distortions,
    kmeans_labels,
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


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(8, 20), min_size=1, max_size=4), st.integers(0, 10_000))
def test_well_separated_speakers_are_counted(sizes, seed) -> None:
    prints, _ = turns_of(sizes, spread=0.4, seed=seed)
    assert estimate_speaker_count(prints) == len(sizes)


def test_one_voice_is_one_speaker_even_when_noisy() -> None:
    for seed in range(5):
        prints, _ = turns_of([60], spread=1.0, seed=seed)
        assert estimate_speaker_count(prints) == 1


def test_a_second_centre_lowers_held_out_distortion_only_for_two_voices() -> None:
    two, _ = turns_of([20, 20], spread=0.4)
    one, _ = turns_of([40], spread=0.4)
    two_scores, one_scores = (
        held_out_distortions(two, range(1, 3)),
        held_out_distortions(one, range(1, 3)),
    )
    assert two_scores[2] < 0.5 * two_scores[1]
    assert one_scores[2] > 0.84 * one_scores[1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=6),
    st.integers(1, 4),
    st.integers(0, 3),
    st.integers(0, 10_000),
)
def test_the_count_stays_within_the_bounds(sizes, low, extra, seed) -> None:
    prints, _ = turns_of(sizes, spread=0.5, seed=seed)
    high = low + extra
    found = estimate_speaker_count(prints, min_speakers=low, max_speakers=high)
    assert low <= found <= high
    assert estimate_speaker_count(prints, num_speakers=high, max_speakers=high) == high


def test_too_few_prints_to_hold_out_give_the_floor() -> None:
    prints, _ = turns_of([1, 1, 1], spread=0.1)
    assert estimate_speaker_count(prints) == 1
    assert estimate_speaker_count(prints, min_speakers=2) == 2
    assert estimate_speaker_count(prints[:0]) == 1


def test_impossible_bounds_are_refused() -> None:
    prints, _ = turns_of([5, 5], spread=0.3)
    with pytest.raises(InvalidInputError, match="larger than max_speakers"):
        estimate_speaker_count(prints, min_speakers=3, max_speakers=2)


def test_the_answers_are_deterministic() -> None:
    prints, _ = turns_of([9, 7, 12], spread=0.9, seed=3)
    assert len({estimate_speaker_count(prints, split_gain=0.1) for _ in range(3)}) == 1
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


def test_a_split_needs_distinct_centre_prints_too() -> None:
    windows, truth = turns_of([15, 15], spread=0.4, seed=4)
    segments = np.stack([windows[truth == speaker].mean(axis=0) for speaker in (0, 1)] * 2)
    segments /= np.linalg.norm(segments, axis=1, keepdims=True)
    assert estimate_speaker_count(windows, centre_prints=segments) == 2
    one_voice = np.repeat(segments[:1], 4, axis=0) + 0.01 * np.eye(4, segments.shape[1])
    one_voice /= np.linalg.norm(one_voice, axis=1, keepdims=True)
    assert estimate_speaker_count(windows, centre_prints=one_voice) == 1
    assert estimate_speaker_count(windows, centre_prints=segments, max_centre_similarity=-1.0) == 1
    assert estimate_speaker_count(windows, centre_prints=segments[:1]) == 1  # one centre print
