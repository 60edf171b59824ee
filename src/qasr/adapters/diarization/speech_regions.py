"""Speech probabilities per frame into speech regions: hysteresis, short gaps closed, blips dropped;
then each region's edges moved to where the signal's energy says speech starts and stops.

Pure numpy, so the rules are tested without a network. `speech_regions` works in the detector's
frames (32 ms for Silero VAD); `refine_edges` in 10 ms frames. Why refine: Silero's LSTM reacts a
frame or two late and holds on after speech ends, and 32 ms frames are coarse. `open_pauses`
then takes the pause at each change of speaker out of the turns (a region bridges short gaps).
On the synthetic tuning seeds (docs/benchmarks/diarization_tuning/edge_study.json) the energy
edges, their wider inward search and the pauses at changes leave missed speech plus false alarm
at ~3.2% of the speech (4.8% before), ~1.9 points of it overlapped speech that one speaker at
a time misses.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt


@attrs.frozen
class RegionRules:
    onset: float = 0.5  # a region starts where the probability reaches this
    offset: float = 0.35  # and ends where it falls below this (hysteresis against flicker)
    min_speech_frames: int = 6  # ~0.2 s: shorter regions are clicks or breaths
    min_gap_frames: int = 8  # ~0.26 s: shorter silences are inside one stretch of speech


def speech_regions(
    probabilities: npt.NDArray[np.float32], rules: RegionRules = RegionRules()
) -> list[tuple[int, int]]:
    """[start, end) frame ranges of speech, in order and disjoint."""
    regions: list[tuple[int, int]] = []
    start: int | None = None
    for index, probability in enumerate(probabilities):
        if start is None and probability >= rules.onset:
            start = index
        elif start is not None and probability < rules.offset:
            regions.append((start, index))
            start = None
    if start is not None:
        regions.append((start, len(probabilities)))
    closed: list[tuple[int, int]] = []
    for region in regions:
        if closed and region[0] - closed[-1][1] < rules.min_gap_frames:
            closed[-1] = (closed[-1][0], region[1])
        else:
            closed.append(region)
    return [(a, b) for a, b in closed if b - a >= rules.min_speech_frames]


ENERGY_HOP = 160  # 10 ms at 16 kHz
_ENERGY_WINDOW = 320
# An edge moves at most 0.15 s out of its region and 0.3 s into it: Silero holds on after speech
# ends (in noise by more than 0.15 s), and a nearer loud frame always wins, so looking further in
# only matters where the edge has nothing loud near it.
SEARCH_OUT_FRAMES = 15
SEARCH_IN_FRAMES = 30
ABOVE_FLOOR_DB = 2.0  # speech is this far above the clip's noise floor (its 20th percentile)...
BELOW_PEAK_DB = 35.0  # ...and no further below the region's loud frames than this


def frame_energy_db(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Energy in dB of 20 ms windows every 10 ms, frame i centred near sample 160 i + 160."""
    count = len(samples) // ENERGY_HOP
    padded = np.zeros(count * ENERGY_HOP + _ENERGY_WINDOW, dtype=np.float64)
    padded[: len(samples)] = samples
    squares = np.concatenate([[0.0], np.cumsum(padded * padded)])
    starts = np.arange(count) * ENERGY_HOP
    power = (squares[starts + _ENERGY_WINDOW] - squares[starts]) / _ENERGY_WINDOW
    return 10.0 * np.log10(power + 1e-10)


def speech_level(energy_db: npt.NDArray[np.float64], start: int, end: int, floor: float) -> float:
    """The energy (dB) above which a frame of the region [start, end) counts as speech."""
    peak = float(np.percentile(energy_db[start : max(end, start + 1)], 90))
    return max(floor + ABOVE_FLOOR_DB, peak - BELOW_PEAK_DB)


def refine_edges(
    energy_db: npt.NDArray[np.float64], regions: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Regions in 10 ms frames, each edge moved (at most SEARCH_OUT_FRAMES outwards,
    SEARCH_IN_FRAMES inwards) to the first / last frame loud enough to be speech; regions stay in
    order and disjoint, empty ones go."""
    if len(energy_db) == 0:
        return []
    floor = float(np.percentile(energy_db, 20))
    count = len(energy_db)
    refined: list[tuple[int, int]] = []
    for start, end in regions:
        loud_enough = speech_level(energy_db, start, end, floor)
        low, high = max(0, start - SEARCH_OUT_FRAMES), min(count, start + SEARCH_IN_FRAMES)
        loud = np.flatnonzero(energy_db[low:high] > loud_enough)
        new_start = low + int(loud[0]) + 1 if len(loud) else start
        low, high = max(0, end - SEARCH_IN_FRAMES), min(count, end + SEARCH_OUT_FRAMES)
        loud = np.flatnonzero(energy_db[low:high] > loud_enough)
        new_end = low + int(loud[-1]) + 1 if len(loud) else end
        if refined:
            new_start = max(new_start, refined[-1][1])
        if new_end > new_start:
            refined.append((new_start, new_end))
    return refined


PAUSE_SEARCH_FRAMES = 10  # a pause that comes within 0.1 s of a change of speaker...
MIN_PAUSE_FRAMES = 20  # ...is opened, whole, when it is at least 0.2 s too quiet for speech


def open_pauses(
    energy_db: npt.NDArray[np.float64],
    regions: list[tuple[int, int]],
    pieces: list[tuple[int, int]],
    *,
    search_frames: int = PAUSE_SEARCH_FRAMES,
    min_pause_frames: int = MIN_PAUSE_FRAMES,
) -> list[tuple[int, int]]:
    """`pieces` (one speaker's runs, in order, tiling `regions`) with the silence taken out
    between two that meet: where a stretch of at least `min_pause_frames` quiet frames comes
    within `search_frames` of the change (the longest, if several), the first piece ends where
    it starts and the second starts where it ends.

    Why: a region closes short gaps, and Silero bridges a pause of a few tenths of a second
    between two turns, so the pause would be one speaker's speech; a change of speaker is where
    such a pause is (inside one speaker's turn, a pause is left alone: it is part of the turn)."""
    if len(energy_db) == 0:
        return list(pieces)
    floor = float(np.percentile(energy_db, 20))
    levels = [(start, end, speech_level(energy_db, start, end, floor)) for start, end in regions]
    result = list(pieces)
    for index in range(len(result) - 1):
        (left_start, change), (right_start, right_end) = result[index], result[index + 1]
        inside = [level for start, end, level in levels if start < change < end]
        if change != right_start or not inside:  # a region's edge, not a change of speaker
            continue
        level = inside[0]
        best = _longest_pause(
            energy_db[left_start : right_end - 1] <= level, change - left_start, search_frames
        )
        if best is None or best[1] - best[0] < min_pause_frames:
            continue
        best = (left_start + best[0], left_start + best[1])
        pause_start, pause_end = max(best[0], left_start + 1), min(best[1], right_end - 1)
        if pause_end > pause_start:
            result[index] = (left_start, pause_start)
            result[index + 1] = (pause_end, right_end)
    return result


def _longest_pause(
    quiet: npt.NDArray[np.bool_], change: int, search_frames: int
) -> tuple[int, int] | None:
    """The longest run of quiet energy frames that comes within `search_frames` of `change`,
    whole, as 10 ms frames [start, end). Energy frame i is centred on the boundary before 10 ms
    frame i + 1 (as in refine_edges): quiet frames q0..q1 - 1 leave frames q0..q1 silent."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    near = [
        (start, end)
        for start, end in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)
        if start <= change + search_frames and end >= change - search_frames
    ]
    if not near:
        return None
    start, end = max(near, key=lambda run: run[1] - run[0])
    return start, end + 1


__all__ = [
    "RegionRules",
    "frame_energy_db",
    "open_pauses",
    "refine_edges",
    "speech_level",
    "speech_regions",
]
