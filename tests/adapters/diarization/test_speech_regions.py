"""Speech probabilities into regions, and region edges moved to the energy contour."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from qasr.adapters.diarization.speech_regions import (
    RegionRules,
    frame_energy_db,
    refine_edges,
    speech_regions,
)


def test_hysteresis_short_gaps_and_blips() -> None:
    rules = RegionRules(onset=0.5, offset=0.3, min_speech_frames=3, min_gap_frames=2)
    probabilities = np.array(
        [0.0, 0.6, 0.4, 0.4, 0.2, 0.7, 0.8, 0.1, 0.1, 0.1, 0.9, 0.1, 0.0, 0.0, 0.6, 0.6, 0.6]
    )
    # 1-4 holds above the offset; the 1-frame gap at 4 is closed; 10 is a blip; 14-17 ends open.
    assert speech_regions(probabilities, rules) == [(1, 7), (14, 17)]


@given(st.lists(st.floats(0.0, 1.0, allow_subnormal=False), max_size=200))
def test_regions_are_ordered_disjoint_and_long_enough(values) -> None:
    rules = RegionRules()
    regions = speech_regions(np.array(values), rules)
    assert all(b - a >= rules.min_speech_frames for a, b in regions)
    gaps = [a2 - b1 for (_, b1), (a2, _) in itertools.pairwise(regions)]
    assert all(gap >= rules.min_gap_frames for gap in gaps)
    assert all(0 <= a < b <= len(values) for a, b in regions)


def test_edges_move_to_where_the_signal_is_loud() -> None:
    rng = np.random.default_rng(0)
    samples = 0.001 * rng.standard_normal(16_000 * 3).astype(np.float32)
    samples[16_000:32_000] += 0.3 * np.sin(np.arange(16_000) * 0.2).astype(np.float32)
    energy = frame_energy_db(samples)
    assert len(energy) == 300
    # The detector said 0.92-2.1 s; the tone is 1.0-2.0 s.
    [(start, end)] = refine_edges(energy, [(92, 210)])
    assert abs(start - 100) <= 2 and abs(end - 200) <= 2
    assert refine_edges(energy[:0], [(1, 2)]) == []
