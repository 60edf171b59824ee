"""Windows and segments: where prints are taken, regions cut where the voice changes, and a
print per segment.

The builtin diarizer's first labelling clusters segments, not windows: a segment's print, the mean
of the 1.5 s windows inside it, is steadier than one window's, and the speaker count search
(`speaker_count`) was tuned on labellings made this way. Change detection compares the window
that ends at a point with the one that starts there, so it misses changes between voices whose
windows print alike (close voices, a telephone band) or whose turns overlap; a segment holding
two voices then prints a blend of both. The refinement (`resegment`) and the labelling from the
window prints themselves (`builtin`) make up for some of that.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from qasr.adapters.diarization.resegment import label_centroids
from qasr.adapters.diarization.voice_encoder import HOP, SAMPLE_RATE

FRAMES_PER_SECOND = SAMPLE_RATE // HOP  # the voice encoder's 10 ms frames
WINDOW_FRAMES = 150  # 1.5 s prints...
STEP_FRAMES = 25  # ...every 0.25 s
MIN_WINDOW_FRAMES = 25  # a shorter region is not printed
SHORT_WINDOW_FRAMES = 75  # the refinement's second pass: 0.75 s windows...
SHORT_STEP_FRAMES = 20  # ...every 0.2 s
REASSIGN_ROUNDS = 10


def window_starts(
    regions: list[tuple[int, int]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Starts and lengths of the 1.5 s windows printed in each region: every STEP_FRAMES, one
    flush with the region's end, a region shorter than a window whole (none under
    MIN_WINDOW_FRAMES)."""
    starts: list[int] = []
    lengths: list[int] = []
    for start, end in regions:
        span = end - start
        if span < MIN_WINDOW_FRAMES:
            continue
        if span <= WINDOW_FRAMES:
            starts.append(start)
            lengths.append(span)
            continue
        # Every STEP_FRAMES from the region's start (so that a window ends where another starts,
        # which change detection compares), and one flush with the region's end.
        firsts = list(range(start, end - WINDOW_FRAMES + 1, STEP_FRAMES))
        if firsts[-1] + WINDOW_FRAMES < end:
            firsts.append(end - WINDOW_FRAMES)
        starts.extend(firsts)
        lengths.extend([WINDOW_FRAMES] * len(firsts))
    return np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64)


def short_window_starts(regions: list[tuple[int, int]]) -> npt.NDArray[np.int64]:
    """Starts of the refinement pass's short windows, every SHORT_STEP_FRAMES in each region
    that holds one."""
    starts = [
        first
        for start, end in regions
        for first in range(start, end - SHORT_WINDOW_FRAMES + 1, SHORT_STEP_FRAMES)
    ]
    return np.array(starts, dtype=np.int64)


def split_at_changes(
    regions: list[tuple[int, int]],
    starts: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    prints: npt.NDArray[np.float32],
    threshold: float,
) -> list[tuple[int, int]]:
    """Regions cut where the voice changes: at a window's start, when the window that ends there
    and the one that starts there differ (cosine below `threshold`) more than their neighbours
    within a second do. A region of one speaker stays whole."""
    full = lengths == WINDOW_FRAMES
    by_start = {int(s): i for i, s in enumerate(starts) if full[i]}
    segments: list[tuple[int, int]] = []
    for region_start, region_end in regions:
        candidates = []
        for boundary in range(region_start + WINDOW_FRAMES, region_end - WINDOW_FRAMES + 1):
            left, right = by_start.get(boundary - WINDOW_FRAMES), by_start.get(boundary)
            if left is not None and right is not None:
                candidates.append((boundary, float(prints[left] @ prints[right])))
        cuts: list[int] = []
        for boundary, similarity in candidates:
            near = [s for b, s in candidates if abs(b - boundary) <= FRAMES_PER_SECOND]
            lowest_nearby = similarity < threshold and similarity <= min(near)
            if lowest_nearby and (not cuts or boundary - cuts[-1] > FRAMES_PER_SECOND):
                cuts.append(boundary)
        edges = [region_start, *cuts, region_end]
        segments.extend(itertools.pairwise(edges))
    return segments


def reassign(
    prints: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], weights: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Each segment to the speaker whose (duration-weighted) centroid it resembles most, until
    nothing moves: average linkage merges whole groups, and a segment that joined early with a
    wrong group is moved back here. The speaker count does not change."""
    speakers = int(labels.max()) + 1
    for _ in range(REASSIGN_ROUNDS):
        centroids = label_centroids(prints, labels, weights, speakers)
        moved = np.argmax(prints @ centroids.T, axis=1)
        if np.array_equal(moved, labels) or len(np.unique(moved)) < len(np.unique(labels)):
            break
        labels = moved
    return labels


def segment_prints(
    segments: list[tuple[int, int]],
    starts: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    prints: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """Each segment's print: the renormalised mean of the windows inside it (the window that
    covers most of it when none fits inside)."""
    ends = starts + lengths
    result = np.zeros((len(segments), prints.shape[1]), dtype=np.float32)
    for index, (start, end) in enumerate(segments):
        inside = (starts >= start) & (ends <= end)
        if not inside.any():
            cover = np.minimum(ends, end) - np.maximum(starts, start)
            inside = cover == cover.max()
        mean = prints[inside].mean(axis=0)
        result[index] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return result


__all__ = [
    "FRAMES_PER_SECOND",
    "MIN_WINDOW_FRAMES",
    "SHORT_STEP_FRAMES",
    "SHORT_WINDOW_FRAMES",
    "STEP_FRAMES",
    "WINDOW_FRAMES",
    "reassign",
    "segment_prints",
    "short_window_starts",
    "split_at_changes",
    "window_starts",
]
