"""Hypothesis strategies for transcripts, timed words and cues (shared with the contract test)."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from qasr.adapters.writers.cues import Cue, Word
from qasr.domain import (
    LANGUAGES,
    ChunkRecord,
    FinishReason,
    Segment,
    SpeakerSpan,
    Transcript,
)

# Importing torch (other tests do) turns on flush-to-zero, and hypothesis then refuses to draw
# subnormal floats; no real time is subnormal anyway.
_finite = {"allow_nan": False, "allow_infinity": False, "allow_subnormal": False}

# Any finite non-negative float, plus values on the millisecond grid that real aligners produce.
times = st.one_of(
    st.floats(min_value=0.0, max_value=400_000.0, **_finite),
    st.integers(min_value=0, max_value=400_000_000).map(lambda ms: ms / 1000),
)
# Times off the millisecond grid, where rounding decides what a reader sees: any float, exact
# decimal halves of a millisecond (where rounding half up and half to even differ, and where
# about 1 in 140 has a float product `seconds * 1000` just below the half), and the floats just
# either side of those halves. Halves are drawn twice as often as the rest.
_half_milliseconds = st.integers(min_value=0, max_value=400_000_000).map(
    lambda ms: (2 * ms + 1) / 2000
)
off_grid_times = st.one_of(
    st.floats(min_value=0.0, max_value=400_000.0, **_finite),
    _half_milliseconds,
    _half_milliseconds,
    st.tuples(_half_milliseconds, st.sampled_from([-math.inf, math.inf])).map(
        lambda half_and_side: math.nextafter(*half_and_side)
    ),
)
durations = st.floats(min_value=0.0, max_value=30.0, **_finite)
languages = st.none() | st.sampled_from(LANGUAGES)
finish_reasons = st.sampled_from(FinishReason)
texts = st.text(max_size=40)
short_texts = st.text(max_size=10)  # words and labels: short keeps generation fast


@st.composite
def _spans(draw: st.DrawFn, max_size: int = 8) -> list[tuple[float, float]]:
    starts = sorted(draw(st.lists(times, max_size=max_size)))
    return [(start, start + draw(durations)) for start in starts]


@st.composite
def segments(draw: st.DrawFn, max_size: int = 8) -> list[Segment]:
    return [Segment(draw(short_texts), start, end) for start, end in draw(_spans(max_size))]


@st.composite
def transcripts(draw: st.DrawFn, with_segments: bool | None = None) -> Transcript:
    words = draw(segments())
    if with_segments is True and not words:
        words = [Segment(draw(texts), 0.0, draw(durations))]
    if with_segments is False:
        words = []
    chunks = [
        ChunkRecord(index, start, end, draw(short_texts), draw(languages), draw(finish_reasons))
        for index, (start, end) in enumerate(draw(_spans(3)))
    ]
    speakers = [
        SpeakerSpan(
            draw(st.sampled_from(["SPEAKER_00", "SPEAKER_01"])), start, end, draw(short_texts)
        )
        for start, end in draw(_spans(4))
    ]
    return Transcript(
        text=draw(texts),
        language=draw(languages),
        segments=words,
        chunks=chunks,
        speakers=speakers,
        finish_reason=draw(finish_reasons),
        duration=draw(st.none() | durations),
    )


# Word texts as an aligner and the text restore give them: Latin words with punctuation, single
# CJK characters, and now and then a word wider than any line. Sampled, not built character by
# character, to keep generation fast.
_latin = st.sampled_from(["a", "I", "the", "word", "don't", "été", "subtitles", "recognition"])
_punctuation = st.sampled_from(["", "", "", ",", ".", "?", "!", ";", "。", "，"])
_cjk = st.sampled_from("我们你好世界中文字幕")
word_texts = st.one_of(
    st.tuples(_latin, _punctuation).map("".join),
    st.tuples(_cjk, _punctuation).map("".join),
    st.integers(45, 60).map(lambda width: "x" * width),
)
_word_timing = st.tuples(
    word_texts,
    st.sampled_from([0.0, 0.1, 0.3, 0.5, 1.2, 3.0]),  # step from the previous start
    st.sampled_from([0.0, 0.2, 0.4, 9.0]),  # duration
    st.integers(0, 1),  # speaker index
    st.booleans(),  # whether the next word starts after this one ends
)


@st.composite
def timed_words(draw: st.DrawFn, max_size: int = 24) -> list[Word]:
    speakers = draw(st.sampled_from([[None], ["A"], ["A", "B"]]))
    start = draw(st.sampled_from([0.0, 0.5, 3600.0]))
    words: list[Word] = []
    for text, step, duration, speaker, sequential in draw(
        st.lists(_word_timing, max_size=max_size)
    ):
        start += step
        end = start + duration
        words.append(Word(text, start, end, speakers[speaker % len(speakers)]))
        start = end if sequential else start
    return words


_cue_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=20
).filter(lambda line: line == line.strip() and line.strip() != "")


@st.composite
def cues(draw: st.DrawFn) -> list[Cue]:
    """Cues on the millisecond grid, as SRT and WebVTT can hold them exactly."""
    result: list[Cue] = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, 400_000_000))
        end = start + draw(st.integers(0, 10_000))
        lines = draw(st.lists(_cue_line, min_size=1, max_size=3))
        result.append(Cue(start / 1000, end / 1000, "\n".join(lines)))
    return result
