"""Hypothesis strategies for qasr's domain values, for property tests of code built on qasr.

>>> from hypothesis import given
>>> from qasr.testing import strategies as qs
>>> @given(qs.transcripts(with_segments=True))
... def test_my_writer_never_crashes(transcript): ...

Every drawn value is valid by construction: times are finite and non-negative, spans end at or
after they start, segments, chunks and speaker turns come in time order. Needs hypothesis
(`pip install "qasr[dev]"`).
"""

from __future__ import annotations

from hypothesis import strategies as st

from qasr.domain import (
    LANGUAGES,
    AudioClip,
    ChunkRecord,
    FinishReason,
    Language,
    RecognitionOptions,
    Segment,
    SpeakerSpan,
    Transcript,
    prompt_languages,
)
from qasr.testing.clips import noisy_tone_clip, silent_clip


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    # Importing torch turns on flush-to-zero, and hypothesis then refuses to draw subnormal
    # floats; no real time or sample is subnormal anyway.
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def times(max_seconds: float = 400_000.0) -> st.SearchStrategy[float]:
    """Any finite time in [0, max_seconds], and often one on the millisecond grid that real
    aligners produce (where subtitle rounding is exact)."""
    return st.one_of(
        _floats(0.0, max_seconds),
        st.integers(min_value=0, max_value=int(max_seconds * 1000)).map(lambda ms: ms / 1000),
    )


def durations(max_seconds: float = 30.0) -> st.SearchStrategy[float]:
    return _floats(0.0, max_seconds)


def languages() -> st.SearchStrategy[Language | None]:
    """None (not known) or any language qasr knows."""
    return st.none() | st.sampled_from(LANGUAGES)


def finish_reasons() -> st.SearchStrategy[FinishReason]:
    return st.sampled_from(FinishReason)


@st.composite
def audio_clips(draw: st.DrawFn, min_seconds: float = 0.3, max_seconds: float = 3.0) -> AudioClip:
    """Noisy tones of 100-2000 Hz at 16 kHz: loud enough to count as sound, each different."""
    return noisy_tone_clip(
        draw(_floats(min_seconds, max_seconds)),
        draw(_floats(100.0, 2_000.0)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def silent_clips(
    min_seconds: float = 0.1, max_seconds: float = 5.0
) -> st.SearchStrategy[AudioClip]:
    return _floats(min_seconds, max_seconds).map(silent_clip)


@st.composite
def spans(
    draw: st.DrawFn, max_size: int = 8, max_seconds: float = 400_000.0
) -> list[tuple[float, float]]:
    """(start, end) pairs in order of start, each end >= its start; spans may overlap."""
    starts = sorted(draw(st.lists(times(max_seconds), max_size=max_size)))
    return [(start, start + draw(durations())) for start in starts]


def short_texts() -> st.SearchStrategy[str]:
    """Words and labels: any unicode, short to keep generation fast."""
    return st.text(max_size=10)


@st.composite
def segments(draw: st.DrawFn, max_size: int = 8, max_seconds: float = 400_000.0) -> list[Segment]:
    """Timed words in order of start, as an aligner returns them (texts may be anything)."""
    return [
        Segment(draw(short_texts()), start, end)
        for start, end in draw(spans(max_size, max_seconds))
    ]


@st.composite
def speaker_spans(
    draw: st.DrawFn, max_size: int = 4, speakers: int = 2, with_text: bool = True
) -> list[SpeakerSpan]:
    """Turns in order of start, labelled SPEAKER_00 ... SPEAKER_{speakers-1}."""
    labels = st.sampled_from([f"SPEAKER_{index:02d}" for index in range(speakers)])
    return [
        SpeakerSpan(draw(labels), start, end, draw(short_texts()) if with_text else "")
        for start, end in draw(spans(max_size))
    ]


@st.composite
def chunk_records(draw: st.DrawFn, max_size: int = 3) -> list[ChunkRecord]:
    """Chunks of a long recording, indexed in order of start."""
    return [
        ChunkRecord(
            index, start, end, draw(short_texts()), draw(languages()), draw(finish_reasons())
        )
        for index, (start, end) in enumerate(draw(spans(max_size)))
    ]


@st.composite
def transcripts(draw: st.DrawFn, with_segments: bool | None = None) -> Transcript:
    """Transcripts with word times, chunks and speaker turns. `with_segments=True` always gives
    word times (what subtitle writers need), False never, None either."""
    words = draw(segments())
    if with_segments is True and not words:
        words = [Segment(draw(st.text(max_size=40)), 0.0, draw(durations()))]
    if with_segments is False:
        words = []
    return Transcript(
        text=draw(st.text(max_size=40)),
        language=draw(languages()),
        segments=words,
        chunks=draw(chunk_records()),
        speakers=draw(speaker_spans()),
        finish_reason=draw(finish_reasons()),
        duration=draw(st.none() | durations()),
    )


@st.composite
def recognition_options(draw: st.DrawFn, max_new_tokens: int = 64) -> RecognitionOptions:
    """Options a caller may pass: detected or forced language, an optional context, a budget of
    at most `max_new_tokens` (never None, so a slow model is never asked for its default)."""
    return RecognitionOptions(
        language=draw(st.none() | st.sampled_from(prompt_languages())),
        context=draw(st.sampled_from(["", "Qwen, MLX", "a meeting about budgets"])),
        max_new_tokens=draw(st.integers(1, max_new_tokens)),
    )


def latin_texts(max_words: int = 12) -> st.SearchStrategy[str]:
    """Space-separated words of letters and apostrophes, as an aligner is given."""
    word = st.text("abcdefghij'", min_size=1, max_size=8)
    return st.lists(word, min_size=1, max_size=max_words).map(" ".join)


def cjk_texts(max_characters: int = 12) -> st.SearchStrategy[str]:
    """Chinese text without spaces: an aligner times it character by character."""
    return st.text("你好世界天地日月", min_size=1, max_size=max_characters)


__all__ = [
    "audio_clips",
    "chunk_records",
    "cjk_texts",
    "durations",
    "finish_reasons",
    "languages",
    "latin_texts",
    "recognition_options",
    "segments",
    "short_texts",
    "silent_clips",
    "spans",
    "speaker_spans",
    "times",
    "transcripts",
]
