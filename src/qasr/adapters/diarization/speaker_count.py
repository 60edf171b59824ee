"""How many speakers: the count whose k-means centroids best describe prints they were not fit on.

Why not a similarity threshold: GE2E puts some pairs of espeak-ng voices at cosine ~0.75, as
close as two windows of one voice, so no single threshold on merged similarity separates "one
voice" from "two close voices". Held-out distortion asks another question: do k+1 centres
describe windows that were not used to place them clearly better than k do? A second close voice
still forms its own dense group, so splitting it off lowers the held-out distortion by a sizeable
fraction; splitting one voice only chases noise and gains little. Fitting on alternate windows
and scoring on the others keeps the gain honest (on the fitted windows every extra centre helps).

numpy only and deterministic: spherical k-means (cosine) from several k-means++ starts drawn
from a fixed-seed generator; the fit with the lowest fitted distortion wins.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qasr.adapters.diarization.clustering import check_speaker_bounds

DEFAULT_SPLIT_GAIN = 0.25
DEFAULT_MAX_CENTRE_SIMILARITY = 0.88
DEFAULT_MAX_SPEAKERS = 8
KMEANS_STARTS = 8
KMEANS_ROUNDS = 30


def spherical_kmeans(
    points: npt.NDArray[np.floating], k: int, *, starts: int = KMEANS_STARTS, seed: int = 0
) -> npt.NDArray[np.float64]:
    """k unit centres for unit `points` [n, d] (k <= n), the best of `starts` k-means++ runs."""
    unit = np.asarray(points, dtype=np.float64)
    rng = np.random.default_rng(seed)
    best, best_cost = np.zeros((k, unit.shape[1])), np.inf
    for _ in range(starts):
        centres = _plus_plus(unit, k, rng)
        for _ in range(KMEANS_ROUNDS):
            labels = np.argmax(unit @ centres.T, axis=1)
            moved = centres.copy()
            for cluster in range(k):
                mine = unit[labels == cluster]
                if len(mine):  # an emptied centre keeps its place rather than vanish
                    total = mine.sum(axis=0)
                    moved[cluster] = total / max(float(np.linalg.norm(total)), 1e-12)
            if np.allclose(moved, centres):
                break
            centres = moved
        cost = distortion(unit, centres)
        if cost < best_cost - 1e-12:
            best, best_cost = centres, cost
    return best


def _plus_plus(
    points: npt.NDArray[np.float64], k: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """k-means++ seeding on cosine distance: each next centre far from those already chosen."""
    chosen = [int(rng.integers(len(points)))]
    gaps = 1.0 - points @ points[chosen[0]]
    for _ in range(1, k):
        weights = np.maximum(gaps, 0.0)
        total = float(weights.sum())
        pick = int(rng.choice(len(points), p=weights / total)) if total > 1e-12 else len(chosen)
        chosen.append(pick)
        gaps = np.minimum(gaps, 1.0 - points @ points[pick])
    return np.array(points[chosen], dtype=np.float64)


def distortion(points: npt.NDArray[np.floating], centres: npt.NDArray[np.floating]) -> float:
    """Mean cosine distance from each point to its nearest centre."""
    return float(np.mean(1.0 - np.max(points @ centres.T, axis=1)))


def held_out_distortions(
    prints: npt.NDArray[np.floating], counts: range, *, seed: int = 0
) -> dict[int, float]:
    """For each k in `counts`: the distortion of the odd prints about centres fit on the even
    ones, averaged with the reverse (two folds halve the noise of one split)."""
    even, odd = prints[0::2], prints[1::2]
    return {
        k: 0.5
        * (
            distortion(odd, spherical_kmeans(even, k, seed=seed))
            + distortion(even, spherical_kmeans(odd, k, seed=seed))
        )
        for k in counts
    }


def estimate_speaker_count(
    prints: npt.NDArray[np.floating],
    *,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    split_gain: float = DEFAULT_SPLIT_GAIN,
    centre_prints: npt.NDArray[np.floating] | None = None,
    max_centre_similarity: float = DEFAULT_MAX_CENTRE_SIMILARITY,
) -> int:
    """The number of speakers in time-ordered unit window prints [n, d], within the bounds.

    From the lowest count allowed, k+1 is taken while it lowers the held-out distortion by at
    least `split_gain` of the distortion at k and, given `centre_prints` (cleaner prints of the
    same audio, e.g. of whole segments), while k+1 spherical k-means centres of those are all
    less similar than `max_centre_similarity`: one voice's windows split by what is said gain
    almost as much as two close voices do, but their segment centres stay close together.
    `num_speakers` is returned as is; with fewer than four prints (too few to hold any out) the
    floor is returned; the count never exceeds half the prints nor the centre prints.
    """
    check_speaker_bounds(num_speakers, min_speakers, max_speakers)
    if num_speakers is not None:
        return num_speakers
    low = min_speakers or 1
    high = max_speakers or max(DEFAULT_MAX_SPEAKERS, low)
    high = min(high, len(prints) // 2)
    if centre_prints is not None:
        high = min(high, len(centre_prints))
    if len(prints) < 4 or high <= low:
        return low
    scores = held_out_distortions(np.asarray(prints, dtype=np.float64), range(low, high + 1))
    count = low
    while count < high and scores[count + 1] <= (1.0 - split_gain) * scores[count]:
        if centre_prints is not None:
            centres = spherical_kmeans(centre_prints, count + 1)
            similar = centres @ centres.T
            np.fill_diagonal(similar, -1.0)
            if similar.max() >= max_centre_similarity:
                break
        count += 1
    return count


def kmeans_labels(prints: npt.NDArray[np.floating], count: int) -> npt.NDArray[np.int64]:
    """A label per unit print for `count` spherical k-means centres (one per print when fewer
    prints than that), numbered by first appearance; an emptied centre leaves fewer labels."""
    if len(prints) == 0:
        return np.zeros(0, dtype=np.int64)
    centres = spherical_kmeans(prints, min(count, len(prints)))
    nearest = np.argmax(np.asarray(prints, dtype=np.float64) @ centres.T, axis=1)
    _, first_seen, labels = np.unique(nearest, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first_seen))
    return order[labels].astype(np.int64)


__all__ = [
    "DEFAULT_MAX_CENTRE_SIMILARITY",
    "DEFAULT_SPLIT_GAIN",
    "distortion",
    "estimate_speaker_count",
    "held_out_distortions",
    "kmeans_labels",
    "spherical_kmeans",
]
