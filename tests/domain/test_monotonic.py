"""The monotonic repair of aligner times (qasr.domain.monotonic), against its definition and the
official `Qwen3ForceAlignProcessor.fix_timestamp`."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.domain.monotonic import longest_non_decreasing, repair_timestamps

# Aligner times are multiples of the 80 ms class width; few distinct values make many ties.
times = st.lists(st.integers(0, 12).map(lambda k: 80 * k), max_size=40)
float_times = st.lists(
    # No subnormals: importing the reference (nagisa) switches the CPU to flush them to zero.
    st.floats(0, 400_000, allow_nan=False, allow_subnormal=False, width=32),
    max_size=40,
)


def quadratic_lis(values: Sequence[float]) -> list[int]:
    """The textbook O(n^2) dynamic programme, ties broken by first occurrence."""
    if not values:
        return []
    length = [1] * len(values)
    parent = [-1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] <= values[i] and length[j] + 1 > length[i]:
                length[i], parent[i] = length[j] + 1, j
    chain, index = [], length.index(max(length))
    while index != -1:
        chain.append(index)
        index = parent[index]
    return chain[::-1]


@given(times)
def test_the_subsequence_is_the_quadratic_programmes(values: list[int]) -> None:
    assert longest_non_decreasing(values) == quadratic_lis(values)


@given(float_times)
def test_the_subsequence_is_non_decreasing_and_in_order(values: list[float]) -> None:
    chain = longest_non_decreasing(values)
    assert chain == sorted(set(chain))
    assert all(values[a] <= values[b] for a, b in itertools.pairwise(chain))


@given(float_times)
def test_repaired_times_never_go_back(values: list[float]) -> None:
    repaired = repair_timestamps(values)
    assert len(repaired) == len(values)
    assert repaired == sorted(repaired)


@given(times)
def test_times_already_in_order_are_unchanged(values: list[int]) -> None:
    assert repair_timestamps(sorted(values)) == sorted(values)


@given(times)
def test_trusted_times_are_kept(values: list[int]) -> None:
    repaired = repair_timestamps(values)
    assert all(repaired[i] == values[i] for i in longest_non_decreasing(values))


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ([], []),
        ([240], [240]),
        ([80, 160, 0, 400], [80, 160, 160, 400]),  # one stray value: the nearer (left on a tie)
        ([80, 160, 0, 0, 400], [80, 160, 160, 400, 400]),  # two: each its nearer neighbour
        ([100, 900, 800, 700, 200, 300], [100, 125, 150, 175, 200, 300]),  # three: spaced evenly
        ([900, 800, 700, 100, 200], [100, 100, 100, 100, 200]),  # no left neighbour: the right
        ([100, 200, 50, 40, 30], [100, 200, 200, 200, 200]),  # no right neighbour: the left
        ([0, 100, 0, 0, 0, 0, 200], [0, 0, 0, 0, 0, 0, 200]),  # a lone 100 against four zeros
        ([10.9, 20.5], [10, 20]),  # whole milliseconds, truncated like int()
    ],
)
def test_worked_examples(raw: list[float], fixed: list[int]) -> None:
    assert repair_timestamps(raw) == fixed


def test_twenty_thousand_times_are_fast() -> None:
    """A benchmark-style bound, generous enough never to flake: the O(n log n) search takes
    ~10 ms of CPU for 20,000 times here, the reference's O(n^2) programme ~6 s. CPU time of
    this process, not wall time, so other jobs on a shared machine do not count."""
    values = np.random.default_rng(0).integers(0, 5000, 20_000).tolist()
    started = time.process_time()
    chain = longest_non_decreasing(values)
    elapsed = time.process_time() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s of CPU for 20,000 times"
    assert len(chain) < len(values)
    assert all(values[a] <= values[b] for a, b in itertools.pairwise(chain))


@pytest.fixture(scope="module")
def official_fix() -> Any:
    pytest.importorskip("torch")
    module = pytest.importorskip("qwen_asr.inference.qwen3_forced_aligner")
    return module.Qwen3ForceAlignProcessor().fix_timestamp


@pytest.mark.parity
@settings(max_examples=300, deadline=None)
@given(values=st.one_of(times.filter(bool), float_times.filter(bool)))
def test_identical_to_the_official_fix_timestamp(official_fix: Any, values: list[float]) -> None:
    # The official code takes the float32 milliseconds array that torch hands it.
    milliseconds = np.asarray(values, dtype=np.float32)
    assert repair_timestamps(milliseconds.tolist()) == official_fix(milliseconds)
