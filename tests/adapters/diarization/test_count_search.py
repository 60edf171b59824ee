"""The builtin diarizer's speaker count, on voices made up in mel space (no networks, no audio).

A stand-in encoder prints a window as the renormalised mean of its mel frames, and each voice's
frames scatter around a direction of its own, so window prints behave as GE2E prints do: close
within a voice, apart between voices, as close as asked for a pair of similar voices.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qasr.adapters.diarization.builtin import BuiltinDiarizer, _pitched_prints, _Windows
from qasr.adapters.diarization.segments import window_starts
from qasr.adapters.mlx.backend import mx

PAUSE = 50  # frames of silence between turns (0.5 s)
PRINT_SIZE = 256


class MeanVoice:
    """Encoder stand-in: [B, T, 40] mel frames -> [B, 256] prints, the unit mean frame padded
    with zeros to the encoder's print size."""

    def __call__(self, mels: mx.array) -> mx.array:
        mean = mx.mean(mels, axis=1)
        unit = mean / mx.linalg.norm(mean, axis=-1, keepdims=True)
        return mx.pad(unit, [(0, 0), (0, PRINT_SIZE - unit.shape[1])])


def voices(count: int, seed: int = 0) -> np.ndarray:
    directions = np.random.default_rng(seed).standard_normal((count, 40))
    return directions / np.linalg.norm(directions, axis=1, keepdims=True)


def conversation(
    directions: np.ndarray, turns: list[tuple[int, float]], seed: int = 0
) -> tuple[list[tuple[int, int]], np.ndarray, list[int]]:
    """Speech regions (a turn each, pauses between), mel frames, and each region's voice."""
    rng = np.random.default_rng(seed)
    frames, regions, who = [np.zeros((PAUSE, 40))], [], []
    cursor = PAUSE
    for voice, seconds in turns:
        length = round(seconds * 100)
        frames.append(directions[voice] + 0.5 * rng.standard_normal((length, 40)))
        frames.append(np.zeros((PAUSE, 40)))
        regions.append((cursor, cursor + length))
        who.append(voice)
        cursor += length + PAUSE
    return regions, np.concatenate(frames).astype(np.float32), who


def diarize(
    diarizer: BuiltinDiarizer, regions, mels, energy_db=None, pitches=None
) -> list[tuple[str, float, float]]:
    """Turns from made-up voices; `pitches` a log2 pitch per frame (default none: NaN, so that
    the prints compare on the stand-in's part alone)."""
    encoder = MeanVoice()
    starts, lengths = window_starts(regions)
    no_pitch = np.full(len(mels), np.nan) if pitches is None else pitches
    prints = np.zeros((len(starts), PRINT_SIZE + 2), dtype=np.float32)
    for length in np.unique(lengths):
        chosen = np.flatnonzero(lengths == length)
        prints[chosen] = _pitched_prints(
            encoder, mels, no_pitch, starts[chosen], int(length), diarizer.pitch_weight
        )
    windows = _Windows(
        regions, starts, lengths, prints, encoder, mels, no_pitch, diarizer.pitch_weight
    )
    turns = diarizer._from_prints(windows, len(mels) / 100, energy_db)
    return [(turn.speaker, turn.start, turn.end) for turn in turns]


def speaker_of_each_region(turns, regions) -> list[str]:
    """The speaker who holds most of each region."""
    found = []
    for start, end in regions:
        held: dict[str, float] = {}
        for speaker, a, b in turns:
            held[speaker] = held.get(speaker, 0.0) + max(
                0.0, min(b, end / 100) - max(a, start / 100)
            )
        found.append(max(held, key=held.__getitem__))
    return found


def same_partition(found: list[str], truth: list[int]) -> bool:
    pairs = set(zip(found, truth, strict=True))
    return len(pairs) == len(set(found)) == len(set(truth))


ROUND_ROBIN = [(voice, 3.0) for _ in range(3) for voice in (0, 1, 2)]


def test_three_voices_taking_turns_are_three_speakers_in_the_right_turns() -> None:
    regions, mels, who = conversation(voices(3), ROUND_ROBIN)
    turns = diarize(BuiltinDiarizer(), regions, mels)
    assert len({speaker for speaker, _, _ in turns}) == 3
    assert same_partition(speaker_of_each_region(turns, regions), who)


def test_a_voice_heard_for_less_than_the_minimum_is_not_a_speaker_unless_asked_for() -> None:
    brief = [*ROUND_ROBIN[:6], (2, 2.0)]  # voice 2: one 2 s turn (2.75 s are needed)
    regions, mels, who = conversation(voices(3), [(v, s) for v, s in brief if v != 2] + brief[-1:])
    assert len({s for s, _, _ in diarize(BuiltinDiarizer(), regions, mels)}) == 2
    given = diarize(BuiltinDiarizer(num_speakers=3), regions, mels)
    assert same_partition(speaker_of_each_region(given, regions), who)
    kept = diarize(BuiltinDiarizer(min_speaker_seconds=1.5), regions, mels)
    assert same_partition(speaker_of_each_region(kept, regions), who)


def test_two_voices_closer_than_the_similarity_limit_are_one_speaker() -> None:
    directions = voices(2)
    close = directions[0] + 0.2 * directions[1]  # cosine ~0.98 to voice 0
    directions[1] = close / np.linalg.norm(close)
    regions, mels, who = conversation(directions, [(voice, 3.0) for voice in (0, 1) * 4])
    assert len({s for s, _, _ in diarize(BuiltinDiarizer(), regions, mels)}) == 1
    given = diarize(BuiltinDiarizer(num_speakers=2), regions, mels)
    assert same_partition(speaker_of_each_region(given, regions), who)
    # Without the similarity limit the durations alone allow more speakers than there are.
    lenient = diarize(BuiltinDiarizer(max_speaker_similarity=0.999), regions, mels)
    assert len({s for s, _, _ in lenient}) > 1


def test_two_voices_that_print_alike_are_two_speakers_when_their_pitches_differ() -> None:
    directions = voices(2)
    directions[1] = directions[0]  # one print for both: only the pitch tells them apart
    regions, mels, who = conversation(directions, [(voice, 3.0) for voice in (0, 1) * 4])
    pitches = np.full(len(mels), np.nan)
    for (start, end), voice in zip(regions, who, strict=True):
        pitches[start:end] = np.log2(110.0 if voice == 0 else 165.0)  # a fifth apart
    heard = diarize(BuiltinDiarizer(), regions, mels, pitches=pitches)
    assert same_partition(speaker_of_each_region(heard, regions), who)
    deaf = diarize(BuiltinDiarizer(pitch_weight=0.0), regions, mels, pitches=pitches)
    assert len({speaker for speaker, _, _ in deaf}) == 1
    # A pitch that wanders by a semitone within one voice does not split it.
    wander = np.log2(110.0) + (np.arange(len(mels)) // 300 % 2) / 12
    one = diarize(
        BuiltinDiarizer(), regions, mels, pitches=np.where(np.isnan(pitches), np.nan, wander)
    )
    assert len({speaker for speaker, _, _ in one}) == 1


@pytest.mark.parametrize(
    ("bounds", "expected"), [({"max_speakers": 2}, 2), ({"min_speakers": 3}, 3)]
)
def test_the_bounds_hold_where_the_voices_say_otherwise(bounds, expected) -> None:
    heard = 3 if "max_speakers" in bounds else 2
    regions, mels, _ = conversation(
        voices(heard), [(v, 3.0) for _ in range(3) for v in range(heard)]
    )
    turns = diarize(BuiltinDiarizer(**bounds), regions, mels)
    assert len({speaker for speaker, _, _ in turns}) == expected


def test_one_voice_stays_one_speaker() -> None:
    regions, mels, _ = conversation(voices(1), [(0, seconds) for seconds in (2.0, 4.0, 3.0, 5.0)])
    assert {speaker for speaker, _, _ in diarize(BuiltinDiarizer(), regions, mels)} == {
        "SPEAKER_00"
    }


def test_the_pause_between_two_voices_in_one_region_is_nobodys_speech() -> None:
    # As when the detector bridges the pauses: one region holds four turns of two voices.
    regions, mels, _ = conversation(voices(2), [(voice, 3.0) for voice in (0, 1) * 2])
    joined = [(regions[0][0], regions[-1][1])]
    energy_db = np.full(len(mels), -90.0)  # quiet, but where the turns are
    for start, end in regions:
        energy_db[start:end] = -20.0
    middles = [(end + start) / 200 for (_, end), (start, _) in itertools.pairwise(regions)]

    def spoken(turns, second: float) -> bool:
        return any(a <= second < b for _, a, b in turns)

    turns = diarize(BuiltinDiarizer(), joined, mels, energy_db)
    assert len({speaker for speaker, _, _ in turns}) == 2
    assert not any(spoken(turns, middle) for middle in middles)
    # Without the energy the region's every frame is someone's turn, pauses included.
    assert all(spoken(diarize(BuiltinDiarizer(), joined, mels), middle) for middle in middles)


@pytest.mark.parametrize("seed", range(6))
def test_voices_that_one_segment_runs_together_are_told_apart_by_the_window_prints(seed) -> None:
    # No cut at all (change threshold -1): each region is one segment holding two turns of two
    # of the three voices, so every segment print blends two voices. Labelled from the segment
    # prints alone, four of these six conversations came out wrong.
    regions, mels, who = conversation(
        voices(3, seed), [(voice, 3.0) for voice in (0, 1, 2) * 2], seed=seed
    )
    joined = [(regions[i][0], regions[i + 1][1]) for i in range(0, len(regions), 2)]
    turns = diarize(BuiltinDiarizer(num_speakers=3, change_threshold=-1.0), joined, mels)
    assert same_partition(speaker_of_each_region(turns, regions), who)
