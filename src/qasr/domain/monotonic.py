"""Make a forced aligner's raw word times non-decreasing, as the official aligner does.

The aligner predicts every start and end time independently, so a few come out of order. The
official `Qwen3ForceAlignProcessor.fix_timestamp` keeps the longest non-decreasing subsequence as
trusted and refills the rest: a run of one or two untrusted values takes its nearest trusted
neighbour, a longer run is interpolated between its trusted neighbours. The reference finds the
subsequence with an O(n^2) dynamic programme; `longest_non_decreasing` finds the very same one
(same ties) in O(n log n), so thousands of words stay fast.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

# Runs of at most this many untrusted values copy a neighbour; longer runs are interpolated.
NEAREST_FILL_MAX_RUN = 2


def longest_non_decreasing(values: Sequence[float]) -> list[int]:
    """Indices of the longest non-decreasing subsequence of `values`, in order.

    Ties are broken as the reference's dynamic programme breaks them: the subsequence ends at
    the first index where a longest one can end, and each element links back to the earliest
    index that gives it its length.
    """
    if not values:
        return []
    # levels[k]: indices whose longest subsequence ending there has length k + 1, in index
    # order. Their values strictly decrease (an equal or larger later one would be a level up),
    # so "earliest index at level k with value <= v" is a binary search on the negated values.
    levels: list[list[int]] = []
    negated: list[list[float]] = []
    tails: list[float] = []  # smallest last value of a subsequence of each length
    parent = [-1] * len(values)
    for index, value in enumerate(values):
        level = bisect.bisect_right(tails, value)
        if level > 0:
            below = negated[level - 1]
            parent[index] = levels[level - 1][bisect.bisect_left(below, -value)]
        if level == len(tails):
            tails.append(value)
            levels.append([])
            negated.append([])
        else:
            tails[level] = value
        levels[level].append(index)
        negated[level].append(-value)
    chain = []
    index = levels[-1][0]
    while index != -1:
        chain.append(index)
        index = parent[index]
    return chain[::-1]


def repair_timestamps(values: Sequence[float]) -> list[int]:
    """The reference's `fix_timestamp`: non-decreasing times, truncated to whole numbers.

    Values on the longest non-decreasing subsequence stay. Each run of other values is refilled
    from its trusted neighbours: runs of up to `NEAREST_FILL_MAX_RUN` take the nearer one (the
    left one on a tie), longer runs are spaced evenly between the two; a run with only one
    trusted neighbour copies it.
    """
    count = len(values)
    trusted = [False] * count
    for index in longest_non_decreasing(values):
        trusted[index] = True
    result = [float(value) for value in values]
    start = 0
    while start < count:
        if trusted[start]:
            start += 1
            continue
        stop = start
        while stop < count and not trusted[stop]:
            stop += 1
        # The neighbours of a run are trusted, hence never rewritten.
        left = result[start - 1] if start > 0 else None
        right = result[stop] if stop < count else None
        _fill_run(result, start, stop, left, right)
        start = stop
    return [int(value) for value in result]


def _fill_run(
    result: list[float], start: int, stop: int, left: float | None, right: float | None
) -> None:
    run = stop - start
    for index in range(start, stop):
        if left is None or right is None:
            fill = right if left is None else left
            assert fill is not None  # a run cannot fill the whole, non-empty sequence
            result[index] = fill
        elif run <= NEAREST_FILL_MAX_RUN:
            nearer_left = index - (start - 1) <= stop - index
            result[index] = left if nearer_left else right
        else:
            result[index] = left + (right - left) / (run + 1) * (index - start + 1)


__all__ = ["NEAREST_FILL_MAX_RUN", "longest_non_decreasing", "repair_timestamps"]
