"""Average-linkage clustering of voice prints, and the speaker-count rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.adapters.diarization.clustering import check_speaker_bounds, cluster_prints
from qasr.errors import InvalidInputError


def prints_of(sizes: list[int], spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around one random centre per speaker; and each print's speaker."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), 64))
    truth = np.repeat(np.arange(len(sizes)), sizes)
    points = centres[truth] + spread * rng.standard_normal((len(truth), 64))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32), truth


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        len(set(zip(a.tolist(), b.tolist(), strict=True)))
        == len(set(a.tolist()))
        == len(set(b.tolist()))
    )


def test_well_separated_speakers_are_found_without_a_count() -> None:
    prints, truth = prints_of([6, 9, 4], spread=0.3)
    labels = cluster_prints(prints, threshold=0.5)
    assert same_partition(labels, truth)
    assert labels[0] == 0 and list(labels).index(1) < list(labels).index(2)  # first seen first


def test_a_count_overrides_the_threshold() -> None:
    prints, _ = prints_of([6, 9, 4], spread=0.3)
    assert len(set(cluster_prints(prints, threshold=0.5, num_speakers=2).tolist())) == 2
    assert len(set(cluster_prints(prints, threshold=0.99, max_speakers=3).tolist())) == 3
    assert len(set(cluster_prints(prints, threshold=-1.0, min_speakers=4).tolist())) == 4


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=5),
    st.integers(1, 4),
    st.integers(0, 3),
    st.integers(0, 10_000),
)
def test_the_count_stays_within_the_bounds_the_prints_allow(sizes, low, extra, seed) -> None:
    prints, _ = prints_of(sizes, spread=1.0, seed=seed)
    high = low + extra
    labels = cluster_prints(prints, min_speakers=low, max_speakers=high)
    found = len(set(labels.tolist()))
    assert found <= high and found >= min(low, len(prints))
    assert sorted(set(labels.tolist())) == list(range(found))


def test_light_clusters_join_the_one_they_resemble_most() -> None:
    prints, truth = prints_of([8, 8], spread=0.3)
    outlier = np.random.default_rng(5).standard_normal((1, 64)).astype(np.float32)
    outlier /= np.linalg.norm(outlier)
    both = np.concatenate([prints, outlier])
    weights = np.array([100.0] * 16 + [10.0])
    assert len(set(cluster_prints(both, threshold=0.5, weights=weights).tolist())) == 3
    absorbed = cluster_prints(both, threshold=0.5, weights=weights, min_weight=50.0)
    assert len(set(absorbed.tolist())) == 2 and same_partition(absorbed[:16], truth)


def test_more_speakers_than_prints_gives_one_each() -> None:
    prints, _ = prints_of([1, 1], spread=0.1)
    assert cluster_prints(prints, num_speakers=5).tolist() == [0, 1]
    assert cluster_prints(prints[:0]).tolist() == []


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
