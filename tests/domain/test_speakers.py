"""The one word-to-speaker rule (qasr.domain.speakers), and that the text and subtitle outputs
agree on it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qasr.adapters.writers import get_writer, render
from qasr.app.use_cases.merging import attribute_words
from qasr.domain import Segment, SpeakerSpan, Transcript
from qasr.domain.speakers import speaker_turns, speakers_of


def word(start: float, end: float, text: str = "w") -> Segment:
    return Segment(text=text, start=start, end=end)


def turn(speaker: str, start: float, end: float) -> SpeakerSpan:
    return SpeakerSpan(speaker=speaker, start=start, end=end)


def test_largest_overlap_wins_over_the_turn_holding_the_middle() -> None:
    # The issue's example: the word's midpoint 0.5 lies in SPEAKER_01's short turn, but the word
    # overlaps SPEAKER_00's for 0.48 s against 0.04 s.
    turns = [turn("SPEAKER_01", 0.48, 0.52), turn("SPEAKER_00", 0.52, 2.0)]
    assert speakers_of([word(0.0, 1.0)], turns) == ["SPEAKER_00"]


def test_ties_go_to_the_turn_that_starts_first() -> None:
    turns = [turn("B", 1.0, 2.0), turn("A", 0.0, 1.0)]
    assert speakers_of([word(0.5, 1.5)], turns) == ["A"]  # 0.5 s each
    same_start = [turn("first", 0.0, 1.0), turn("second", 0.0, 1.0)]
    assert speakers_of([word(0.2, 0.4)], same_start) == ["first"]


def test_words_outside_every_turn_go_to_the_nearest() -> None:
    turns = [turn("A", 0.0, 1.0), turn("B", 3.0, 4.0)]
    assert speakers_of([word(1.2, 1.5), word(2.6, 2.9), word(5.0, 5.5)], turns) == ["A", "B", "B"]
    assert speakers_of([word(1.5, 2.5)], turns) == ["A"]  # equally near: the earlier turn


def test_zero_length_words_belong_to_the_turn_around_them() -> None:
    turns = [turn("A", 0.0, 1.0), turn("B", 1.0, 2.0), turn("C", 0.2, 0.3)]
    assert speakers_of([word(1.5, 1.5), word(0.25, 0.25), word(1.0, 1.0)], turns) == [
        "B",
        "A",  # inside A and C: A starts first
        "A",  # on the boundary of A and B: A starts first
    ]


def test_no_turns_means_nobody() -> None:
    assert speakers_of([word(0, 1), word(1, 2)], []) == [None, None]


# No subnormals: a loaded MLX or torch may set flush-to-zero, and hypothesis then refuses them.
times = st.floats(0, 100, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def intervals(draw: st.DrawFn) -> tuple[float, float]:
    start = draw(times)
    return start, start + draw(st.floats(0, 20, allow_nan=False, allow_subnormal=False))


def brute_force(w: Segment, turns: list[SpeakerSpan]) -> int:
    """The rule read literally: the most overlap; else the least distance; the earliest start;
    the first listed."""

    def overlap(t: SpeakerSpan) -> float:
        return max(0.0, min(t.end, w.end) - max(t.start, w.start))

    def distance(t: SpeakerSpan) -> float:
        return max(t.start - w.end, w.start - t.end, 0.0)

    best = max(overlap(t) for t in turns)
    if best > 0:
        pool = [i for i, t in enumerate(turns) if overlap(t) == best]
    else:
        nearest = min(distance(t) for t in turns)
        pool = [i for i, t in enumerate(turns) if distance(t) == nearest]
    return min(pool, key=lambda i: (turns[i].start, i))


@given(
    st.lists(intervals(), min_size=1, max_size=12),
    st.lists(intervals(), max_size=12),
)
def test_the_windowed_search_equals_the_rule_read_literally(
    turn_times: list[tuple[float, float]], word_times: list[tuple[float, float]]
) -> None:
    turns = [turn(f"S{i % 3}", start, end) for i, (start, end) in enumerate(turn_times)]
    words = [word(start, end) for start, end in word_times]
    assert speaker_turns(words, turns) == [brute_force(w, turns) for w in words]


def test_text_and_subtitles_name_the_same_speaker() -> None:
    """txt prints the turns' texts (filled by the service), srt/vtt label cues per word: both
    follow the one rule."""
    words = (word(0.0, 1.0, "hello"),)
    turns = (turn("SPEAKER_01", 0.48, 0.52), turn("SPEAKER_00", 0.52, 2.0))
    transcript = Transcript(
        text="hello",
        segments=words,
        speakers=attribute_words(turns, words, None),
        duration=2.0,
    )
    for name in ("txt", "srt", "vtt"):
        output = render(get_writer(name), transcript)
        assert "SPEAKER_00" in output and "SPEAKER_01" not in output, name
