"""Speech probabilities into regions, and region edges moved to the energy contour."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from qasr.adapters.diarization.speech_regions import (
    RegionRules,
    frame_energy_db,
    open_pauses,
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


def _tones(*spans: tuple[float, float], seconds: float = 4.0) -> np.ndarray:
    """Faint noise with a loud tone over each (start, end) in seconds."""
    rng = np.random.default_rng(0)
    samples = 0.001 * rng.standard_normal(int(16_000 * seconds)).astype(np.float32)
    for start, end in spans:
        a, b = int(start * 16_000), int(end * 16_000)
        samples[a:b] += 0.3 * np.sin(np.arange(b - a) * 0.2).astype(np.float32)
    return samples


def test_an_edge_with_nothing_loud_near_it_moves_up_to_0_3_s_into_its_region() -> None:
    energy = frame_energy_db(_tones((1.0, 2.0)))
    # The detector said 0.75-2.25 s: a quarter second of silence inside each edge.
    [(start, end)] = refine_edges(energy, [(75, 225)])
    assert abs(start - 100) <= 2 and abs(end - 200) <= 2
    # Outwards an edge still moves at most 0.15 s: a region 0.2 s short of the tone stays short.
    [(start, end)] = refine_edges(energy, [(120, 180)])
    assert 105 <= start < 110 and 190 < end <= 195


def test_the_pause_at_a_change_of_speaker_is_taken_out() -> None:
    # Two turns, 1.0-2.0 s and 2.25-3.0 s, that the detector joined; the labels change at 2.05 s.
    energy = frame_energy_db(_tones((1.0, 2.0), (2.25, 3.0)))
    regions = [(100, 300)]
    left, right = open_pauses(energy, regions, [(100, 205), (205, 300)])
    assert left[0] == 100 and abs(left[1] - 200) <= 2
    assert abs(right[0] - 225) <= 2 and right[1] == 300
    # A pause shorter than min_pause_frames, or further than search_frames from the change,
    # stays speech; so do the edges of regions that merely touch.
    assert open_pauses(energy, regions, [(100, 205), (205, 300)], min_pause_frames=30) == [
        (100, 205),
        (205, 300),
    ]
    assert open_pauses(energy, regions, [(100, 260), (260, 300)], search_frames=10) == [
        (100, 260),
        (260, 300),
    ]
    touching = [(100, 205), (205, 300)]
    assert open_pauses(energy, touching, touching) == touching


@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=12),
    st.lists(st.floats(-100.0, 0.0, allow_subnormal=False), min_size=1, max_size=400),
)
def test_opened_pieces_stay_inside_their_own_and_keep_order(sizes, values) -> None:
    edges = np.cumsum([0, *sizes]).tolist()
    pieces = list(itertools.pairwise(edges))
    energy = np.resize(np.array(values), edges[-1])
    opened = open_pauses(energy, [(0, edges[-1])], pieces)
    assert len(opened) == len(pieces)
    for (a, b), (start, end) in zip(opened, pieces, strict=True):
        assert start <= a < b <= end
