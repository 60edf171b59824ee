"""Boundary refinement: speech frames relabelled against the speakers' centroids, by Viterbi.

Why: segments are cut only where two windows 1.5 s apart differ clearly, so a change of speaker
that the cut misses, or places a window off, costs confusion on every frame between. Here each
10 ms frame of speech scores every speaker by how much the windows that cover it resemble that
speaker's centroid, and a best path through the frames, paying `switch_penalty` for each change
of speaker, places the changes where the scores cross. Regions of speech are decoded apart
(a pause may separate any two speakers); frames that no window covers keep their label.

Pure numpy: O(frames x speakers^2), a few milliseconds for a minute of speech.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DEFAULT_SWITCH_PENALTY = 2.0
DEFAULT_SHARPNESS = 10.0  # cosine similarities are scaled by this before the penalty applies


def frame_scores(
    starts: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    prints: npt.NDArray[np.floating],
    centroids: npt.NDArray[np.floating],
    frames: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """[frames, speakers] mean cosine of the windows covering each frame to each centroid, and
    which frames any window covers (the others score 0)."""
    similarity = np.asarray(prints, dtype=np.float64) @ np.asarray(centroids, dtype=np.float64).T
    # Prefix sums over frames: add a window's similarities at its start, remove them at its end.
    total = np.zeros((frames + 1, len(centroids)))
    cover = np.zeros(frames + 1)
    ends = np.minimum(starts + lengths, frames)
    np.add.at(total, starts, similarity)
    np.add.at(total, ends, -similarity)
    np.add.at(cover, starts, 1.0)
    np.add.at(cover, ends, -1.0)
    total, cover = np.cumsum(total, axis=0)[:frames], np.cumsum(cover)[:frames]
    covered = cover > 0.5
    scores = np.zeros_like(total)
    scores[covered] = total[covered] / cover[covered, None]
    return scores, covered


def best_path(scores: npt.NDArray[np.float64], switch_penalty: float) -> npt.NDArray[np.int64]:
    """The label sequence maximising the summed scores minus `switch_penalty` per change."""
    count, speakers = scores.shape
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    value = scores[0].copy()
    back = np.zeros((count, speakers), dtype=np.int64)
    for frame in range(1, count):
        stay = value
        best = int(np.argmax(value))
        switch = value[best] - switch_penalty
        take_switch = switch > stay
        back[frame] = np.where(take_switch, best, np.arange(speakers))
        value = np.where(take_switch, switch, stay) + scores[frame]
    path = np.zeros(count, dtype=np.int64)
    path[-1] = int(np.argmax(value))
    for frame in range(count - 1, 0, -1):
        path[frame - 1] = back[frame, path[frame]]
    return path


def resegment(
    regions: list[tuple[int, int]],
    frame_labels: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    covered: npt.NDArray[np.bool_],
    *,
    switch_penalty: float = DEFAULT_SWITCH_PENALTY,
    sharpness: float = DEFAULT_SHARPNESS,
) -> npt.NDArray[np.int64]:
    """`frame_labels` with the covered frames of each region relabelled by `best_path`."""
    labels: npt.NDArray[np.int64] = frame_labels.copy()
    for start, end in regions:
        inside = np.arange(start, end)[covered[start:end]]
        if len(inside):
            labels[inside] = best_path(sharpness * scores[inside], switch_penalty)
    return labels


def label_centroids(
    prints: npt.NDArray[np.floating],
    labels: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    speakers: int,
) -> npt.NDArray[np.float64]:
    """[speakers, d] unit centroids: the weighted sum of each label's prints (0 if none)."""
    centroids = np.zeros((speakers, prints.shape[1]))
    np.add.at(centroids, labels, weights[:, None] * np.asarray(prints, dtype=np.float64))
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = np.divide(
        centroids, norms, out=np.zeros_like(centroids), where=norms > 0
    )
    return unit


def window_spans(
    starts: npt.NDArray[np.int64], length: int, frame_labels: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """[windows, length]: the label of each frame of each window (all `length` frames long)."""
    spans: npt.NDArray[np.int64] = frame_labels[starts[:, None] + np.arange(length)[None, :]]
    return spans


def pure_centroids(
    starts: npt.NDArray[np.int64],
    length: int,
    prints: npt.NDArray[np.floating],
    frame_labels: npt.NDArray[np.int64],
    fallback: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Centroids of the windows (all `length` frames long) whose frames carry one label; a
    speaker with no such window keeps its `fallback` centroid. Why pure: a window across a
    change of speaker prints neither voice, and would pull both centroids together."""
    speakers = len(fallback)
    spans = window_spans(starts, length, frame_labels)
    pure = np.all(spans == spans[:, :1], axis=1)
    centroids = label_centroids(prints[pure], spans[pure, 0], np.ones(int(pure.sum())), speakers)
    empty = ~np.any(centroids != 0.0, axis=1)
    centroids[empty] = fallback[empty]
    return centroids


def window_distortion(
    starts: npt.NDArray[np.int64],
    length: int,
    prints: npt.NDArray[np.floating],
    frame_labels: npt.NDArray[np.int64],
) -> float:
    """How badly a labelling fits the prints: the mean cosine distance from each window (all
    `length` frames long) to the pure centroid (`pure_centroids`) of the speaker who holds most
    of its frames; a speaker without a pure window has no centroid, and its windows count 1."""
    spans = window_spans(starts, length, frame_labels)
    speakers = int(spans.max()) + 1
    held = np.zeros((len(starts), speakers))
    np.add.at(held, (np.repeat(np.arange(len(starts)), length), spans.ravel()), 1.0)
    majority = np.argmax(held, axis=1)
    centroids = pure_centroids(
        starts, length, prints, frame_labels, np.zeros((speakers, prints.shape[1]))
    )
    unit = np.asarray(prints, dtype=np.float64)
    return float(np.mean(1.0 - np.sum(unit * centroids[majority], axis=1)))


def absorb_short_runs(
    regions: list[tuple[int, int]], frame_labels: npt.NDArray[np.int64], min_frames: int
) -> npt.NDArray[np.int64]:
    """Inside each region, runs of one label shorter than `min_frames` take the label of the
    longer neighbouring run, shortest first, so that no flicker of a few frames becomes a turn
    (a region shorter than that ends with one label)."""
    labels: npt.NDArray[np.int64] = frame_labels.copy()
    for start, end in regions:
        while True:
            pieces, speakers = runs([(start, end)], labels)
            if len(pieces) < 2:
                break
            sizes = [b - a for a, b in pieces]
            shortest = int(np.argmin(sizes))
            if sizes[shortest] >= min_frames:
                break
            neighbours = [i for i in (shortest - 1, shortest + 1) if 0 <= i < len(pieces)]
            into = max(neighbours, key=lambda i: sizes[i])
            a, b = pieces[shortest]
            labels[a:b] = speakers[into]
    return labels


def runs(
    regions: list[tuple[int, int]], frame_labels: npt.NDArray[np.int64]
) -> tuple[list[tuple[int, int]], list[int]]:
    """The [start, end) runs of one label inside each region, and their labels."""
    pieces: list[tuple[int, int]] = []
    speakers: list[int] = []
    for start, end in regions:
        changes = np.flatnonzero(np.diff(frame_labels[start:end])) + start + 1
        for a, b in zip([start, *changes.tolist()], [*changes.tolist(), end], strict=True):
            pieces.append((a, b))
            speakers.append(int(frame_labels[a]))
    return pieces, speakers


__all__ = [
    "absorb_short_runs",
    "best_path",
    "frame_scores",
    "label_centroids",
    "pure_centroids",
    "resegment",
    "runs",
    "window_distortion",
    "window_spans",
]
