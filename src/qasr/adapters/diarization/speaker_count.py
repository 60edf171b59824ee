"""How many speakers: the most whose refined turns still stand apart as voices of their own.

The builtin diarizer labels and refines the speech for each count from the most allowed down,
and keeps the first labelling where every speaker speaks for at least 2.75 s and no two
speakers' voice centroids (of the short windows lying wholly inside one speaker's turns) are at
cosine 0.93 or closer. One more speaker than there are voices ends as a scrap of a few seconds
(the refinement gives most of its frames back to the voices they resemble) or as half of one
voice whose halves stay close; one fewer merges two voices, which no check of this kind can see, so
the search comes from above. Why not a stop on the segment prints (average linkage at a
similarity threshold, or k-means gains on held-out windows, both used before): one voice's
segments split by what is said gain about as much as two close voices do, whereas after the
refinement a spurious speaker is short, and its centroid, from windows wholly inside its turns,
is not blurred by the windows across a change. Both numbers were chosen on the synthetic
conversations of seeds 7, 14 and 21 (diarization_tuning/refined_count_study.json): 3.5 s
scored a little better there, but drops a speaker who says one 3 s sentence in all.

numpy only and deterministic: spherical k-means (cosine) from several k-means++ starts drawn
from a fixed-seed generator; the fit with the lowest distortion wins.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qasr.errors import InvalidInputError

DEFAULT_MIN_SPEAKER_SECONDS = 2.75
DEFAULT_MAX_SPEAKER_SIMILARITY = 0.93
DEFAULT_MAX_SPEAKERS = 8
KMEANS_STARTS = 8
KMEANS_ROUNDS = 30


def check_speaker_bounds(
    num_speakers: int | None, min_speakers: int | None, max_speakers: int | None
) -> None:
    """Refuse counts that cannot be met: below 1, min > max, or N outside [min, max]."""
    for name, value in (("num", num_speakers), ("min", min_speakers), ("max", max_speakers)):
        if value is not None and value < 1:
            raise InvalidInputError(f"{name}_speakers must be at least 1, got {value}")
    if min_speakers is not None and max_speakers is not None and min_speakers > max_speakers:
        raise InvalidInputError(
            f"min_speakers ({min_speakers}) is larger than max_speakers ({max_speakers})"
        )
    if num_speakers is not None:
        low = min_speakers if min_speakers is not None else 1
        high = max_speakers if max_speakers is not None else num_speakers
        if not low <= num_speakers <= high:
            raise InvalidInputError(
                f"num_speakers ({num_speakers}) lies outside min_speakers..max_speakers "
                f"({low}..{high})"
            )


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


def speakers_stand_apart(
    speech_seconds: npt.NDArray[np.floating],
    centroids: npt.NDArray[np.floating],
    *,
    min_seconds: float = DEFAULT_MIN_SPEAKER_SECONDS,
    max_similarity: float = DEFAULT_MAX_SPEAKER_SIMILARITY,
) -> bool:
    """Whether a labelling's speakers are all voices of their own: each speaks for at least
    `min_seconds` ([speakers] seconds of speech each) and no two of the unit `centroids`
    [speakers, d] are at cosine `max_similarity` or closer (a speaker without a centroid, all
    zeros, has no voice to tell apart and fails)."""
    seconds = np.asarray(speech_seconds, dtype=np.float64)
    unit = np.asarray(centroids, dtype=np.float64)
    if len(seconds) < 2:
        return True
    if seconds.min() < min_seconds or not np.all(np.any(unit != 0.0, axis=1)):
        return False
    similar = unit @ unit.T
    np.fill_diagonal(similar, -1.0)
    return bool(similar.max() < max_similarity)


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
    "DEFAULT_MAX_SPEAKERS",
    "DEFAULT_MAX_SPEAKER_SIMILARITY",
    "DEFAULT_MIN_SPEAKER_SECONDS",
    "check_speaker_bounds",
    "distortion",
    "kmeans_labels",
    "speakers_stand_apart",
    "spherical_kmeans",
]
