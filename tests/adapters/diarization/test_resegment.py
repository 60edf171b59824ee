"""Boundary refinement: frame scores from covering windows, the Viterbi path, short runs."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qasr.adapters.diarization.resegment import (
    absorb_short_runs,
    best_path,
    frame_scores,
    label_centroids,
    pure_centroids,
    resegment,
    runs,
    window_distortion,
)


def objective(scores: np.ndarray, path: np.ndarray, penalty: float) -> float:
    changes = int(np.count_nonzero(np.diff(path)))
    return float(scores[np.arange(len(path)), path].sum()) - penalty * changes


small_scores = st.integers(1, 6).flatmap(
    lambda frames: st.integers(1, 3).flatmap(
        lambda speakers: arrays(
            np.float64,
            (frames, speakers),
            elements=st.floats(-1, 1, allow_nan=False, allow_subnormal=False),
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(small_scores, st.floats(0, 3, allow_subnormal=False))
def test_best_path_is_optimal_against_every_sequence(scores, penalty) -> None:
    path = best_path(scores, penalty)
    frames, speakers = scores.shape
    best = max(
        objective(scores, np.array(candidate), penalty)
        for candidate in itertools.product(range(speakers), repeat=frames)
    )
    assert objective(scores, path, penalty) >= best - 1e-9


@settings(max_examples=50, deadline=None)
@given(small_scores)
def test_without_a_penalty_each_frame_takes_its_best_speaker(scores) -> None:
    path = best_path(scores, 0.0)
    assert np.allclose(scores[np.arange(len(path)), path], scores.max(axis=1))


def test_the_change_lands_where_the_scores_cross_and_a_blip_is_ignored() -> None:
    scores = np.zeros((100, 2))
    scores[:60, 0], scores[60:, 1] = 1.0, 1.0
    scores[20:22] = [0.0, 1.0]  # two frames that prefer the other speaker
    path = best_path(scores, 5.0)
    assert path[:60].tolist() == [0] * 60 and path[60:].tolist() == [1] * 40


def test_frame_scores_average_the_windows_that_cover_each_frame() -> None:
    prints = np.array([[1.0, 0.0], [0.0, 1.0]])
    centroids = np.array([[1.0, 0.0], [0.0, 1.0]])
    scores, covered = frame_scores(
        np.array([0, 5]), np.array([10, 10]), prints, centroids, frames=20
    )
    assert np.allclose(scores[:5], [1.0, 0.0])  # only the first window
    assert np.allclose(scores[5:10], [0.5, 0.5])  # both
    assert np.allclose(scores[10:15], [0.0, 1.0])  # only the second
    assert covered[:15].all() and not covered[15:].any()
    assert np.all(scores[15:] == 0.0)


def test_resegment_moves_a_misplaced_change_and_keeps_uncovered_frames() -> None:
    # Two speakers, change at frame 50; the segment labels put it at 70. Windows of 10 frames.
    starts = np.arange(0, 91, 5)
    prints = np.where((starts + 5 < 50)[:, None], [1.0, 0.0], [0.0, 1.0])
    centroids = np.eye(2)
    scores, covered = frame_scores(starts, np.full(len(starts), 10), prints, centroids, 120)
    labels = np.zeros(120, dtype=np.int64)
    labels[70:] = 1
    labels[110:] = 0  # beyond every window: kept as it is
    fixed = resegment([(0, 120)], labels, scores, covered, switch_penalty=1.0)
    change = int(np.flatnonzero(np.diff(fixed[:100]))[0]) + 1
    assert abs(change - 50) <= 5
    assert fixed[110:].tolist() == [0] * 10


def test_pure_centroids_leave_out_windows_across_a_change() -> None:
    labels = np.array([0] * 10 + [1] * 10)
    starts = np.array([0, 5, 10])  # the middle window straddles the change
    prints = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    fallback = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    centroids = pure_centroids(starts, 10, prints, labels, fallback)
    assert np.allclose(centroids[0], [1.0, 0.0]) and np.allclose(centroids[1], [0.0, 1.0])
    assert np.allclose(centroids[2], fallback[2])  # speaker 2 has no pure window


def test_label_centroids_weight_and_normalise() -> None:
    prints = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    centroids = label_centroids(prints, np.array([0, 0, 1]), np.array([3.0, 1.0, 1.0]), 3)
    assert np.allclose(centroids[0], np.array([3.0, 1.0]) / np.sqrt(10.0))
    assert np.allclose(centroids[1], [0.0, 1.0]) and np.all(centroids[2] == 0.0)


label_runs = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 40)), min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(label_runs, st.integers(1, 30))
def test_short_runs_are_absorbed_inside_regions_only(pieces, min_frames) -> None:
    labels = np.concatenate([np.full(size, label) for label, size in pieces]).astype(np.int64)
    padded = np.concatenate([labels, np.full(10, 7)])  # frames outside every region
    region = (0, len(labels))
    absorbed = absorb_short_runs([region], padded, min_frames)
    assert absorbed[len(labels) :].tolist() == [7] * 10
    kept, speakers = runs([region], absorbed)
    assert kept[0][0] == 0 and kept[-1][1] == len(labels)
    assert all(a == b for (_, a), (b, _) in itertools.pairwise(kept))  # the runs tile the region
    if len(kept) > 1:
        assert min(end - start for start, end in kept) >= min_frames
    assert set(speakers) <= set(labels.tolist())


def test_window_distortion_is_lower_for_the_labelling_that_follows_the_voices() -> None:
    voices = np.array([[1.0, 0.0], [0.0, 1.0]])
    truth = np.array([0] * 40 + [1] * 40)
    starts = np.arange(0, 71, 5)
    rng = np.random.default_rng(0)
    prints = voices[truth[starts + 5]] + 0.1 * rng.standard_normal((len(starts), 2))
    prints /= np.linalg.norm(prints, axis=1, keepdims=True)
    shifted = np.roll(truth, 20)  # the change 20 frames late, and a turn of voice 1 at the start
    right = window_distortion(starts, 10, prints, truth)
    assert right < window_distortion(starts, 10, prints, shifted)
    # One label for all: one centroid between the voices, every window ~0.3 away from it.
    assert window_distortion(starts, 10, prints, np.zeros(80, dtype=np.int64)) > right + 0.2


def test_window_distortion_counts_a_speaker_without_a_pure_window_as_far() -> None:
    labels = np.array([0] * 10 + [1] * 3 + [0] * 7)  # speaker 1 lies inside every window
    starts = np.array([5, 8])
    prints = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert window_distortion(starts, 10, prints, labels) == 1.0
