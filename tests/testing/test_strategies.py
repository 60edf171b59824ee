"""qasr.testing.strategies draws what its docstrings promise."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.domain import SAMPLE_RATE, AudioClip, RecognitionOptions, Transcript, prompt_languages
from qasr.testing import is_silent
from qasr.testing import strategies as qs


@given(qs.audio_clips(min_seconds=0.5, max_seconds=1.5))
def test_audio_clips_are_sound_of_the_asked_length(clip: AudioClip) -> None:
    assert clip.sample_rate == SAMPLE_RATE
    assert 0.5 - 1 / SAMPLE_RATE <= clip.duration <= 1.5 + 1 / SAMPLE_RATE
    assert not is_silent(clip)


@settings(max_examples=20)
@given(qs.silent_clips(max_seconds=2.0))
def test_silent_clips_are_silent(clip: AudioClip) -> None:
    assert is_silent(clip) and 0.1 - 1 / SAMPLE_RATE <= clip.duration <= 2.0 + 1 / SAMPLE_RATE


@given(qs.times(max_seconds=60.0))
def test_times_are_finite_normal_and_in_range(time: float) -> None:
    assert 0.0 <= time <= 60.0 and math.isfinite(time)
    assert time == 0.0 or time >= 2.2250738585072014e-308  # no subnormals (flush-to-zero safe)


@given(qs.segments(max_seconds=100.0), qs.speaker_spans(speakers=3))
def test_spans_come_in_time_order_and_end_after_they_start(segments, turns) -> None:
    for spans in (segments, turns):
        assert [s.start for s in spans] == sorted(s.start for s in spans)
        assert all(0 <= s.start <= s.end for s in spans)
    assert {turn.speaker for turn in turns} <= {"SPEAKER_00", "SPEAKER_01", "SPEAKER_02"}


@given(st.data())
def test_transcripts_have_word_times_when_asked(data: st.DataObject) -> None:
    assert data.draw(qs.transcripts(with_segments=True)).has_timestamps
    assert not data.draw(qs.transcripts(with_segments=False)).has_timestamps
    transcript: Transcript = data.draw(qs.transcripts())
    assert [chunk.index for chunk in transcript.chunks] == list(range(len(transcript.chunks)))


@given(qs.recognition_options(max_new_tokens=5))
def test_recognition_options_always_carry_a_small_budget(options: RecognitionOptions) -> None:
    assert options.max_new_tokens is not None and 1 <= options.max_new_tokens <= 5
    assert options.language is None or options.language in prompt_languages()


@given(qs.latin_texts(), qs.cjk_texts())
def test_aligner_texts_are_never_blank(latin: str, cjk: str) -> None:
    assert latin.strip() and " " not in cjk and cjk
