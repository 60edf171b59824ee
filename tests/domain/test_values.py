"""The domain values validate at the border: a bad value never gets built."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.domain import (
    AudioClip,
    ChunkRecord,
    FinishReason,
    ProgressEvent,
    RecognitionOptions,
    Segment,
    SpeakerSpan,
    Stage,
    Transcript,
    find_language,
    ignore_progress,
)

times = st.floats(0, 1e5, allow_nan=False, allow_subnormal=False)


class TestAudioClip:
    def test_samples_become_mono_float32(self) -> None:
        clip = AudioClip(np.array([0, 1, -1], dtype=np.int64), sample_rate=8000)
        assert clip.samples.dtype == np.float32
        assert clip.duration == pytest.approx(3 / 8000)
        assert clip.num_samples == 3

    @pytest.mark.parametrize(
        "samples", [np.zeros((2, 4)), np.array([0.0, np.nan]), np.array([np.inf])]
    )
    def test_non_mono_or_non_finite_samples_are_refused(self, samples: np.ndarray) -> None:
        with pytest.raises(ValueError):
            AudioClip(samples)

    @pytest.mark.parametrize("rate", [0, -16000])
    def test_the_rate_must_be_positive(self, rate: int) -> None:
        with pytest.raises(ValueError, match="sample_rate"):
            AudioClip(np.zeros(4), sample_rate=rate)

    def test_equality_and_hash_follow_the_samples(self) -> None:
        a = AudioClip(np.array([0.1, 0.2]), name="a.wav")
        assert a == AudioClip(np.array([0.1, 0.2]), name="a.wav")
        assert hash(a) == hash(AudioClip(np.array([0.1, 0.2]), name="a.wav"))
        assert a != AudioClip(np.array([0.1, 0.3]), name="a.wav")
        assert a != AudioClip(np.array([0.1, 0.2]), name="b.wav")


class TestTimedValues:
    @given(times, times)
    def test_segments_exist_exactly_when_start_le_end(self, start: float, end: float) -> None:
        if start <= end:
            assert Segment("w", start, end).duration == pytest.approx(end - start)
        else:
            with pytest.raises(ValueError, match="before start"):
                Segment("w", start, end)

    @pytest.mark.parametrize("bad", [-0.1, math.inf, math.nan])
    @pytest.mark.parametrize("kind", [Segment, SpeakerSpan])
    def test_times_are_finite_and_non_negative(self, kind: type, bad: float) -> None:
        with pytest.raises(ValueError):
            kind("x", bad, 1.0)

    def test_chunk_records_convert_languages(self) -> None:
        record = ChunkRecord(0, 0.0, 1.0, "hi", language="en")
        assert record.language == find_language("English")
        assert record.finish_reason is FinishReason.STOP


class TestTranscript:
    def test_parts_must_be_in_time_order(self) -> None:
        with pytest.raises(ValueError, match="time order"):
            Transcript("a b", segments=[Segment("b", 1, 2), Segment("a", 0, 1)])
        with pytest.raises(ValueError, match="time order"):
            Transcript("", speakers=[SpeakerSpan("S1", 2, 3), SpeakerSpan("S0", 0, 1)])

    def test_lists_become_tuples_and_flags_follow(self) -> None:
        transcript = Transcript(
            "a", language="zh", segments=[Segment("a", 0, 1)], finish_reason=FinishReason.LENGTH
        )
        assert transcript.segments == (Segment("a", 0, 1),)
        assert transcript.language == find_language("Chinese")
        assert transcript.has_timestamps and transcript.truncated
        assert not Transcript("a").has_timestamps and not Transcript("a").truncated


class TestOptionsAndProgress:
    def test_options_look_up_the_language(self) -> None:
        assert RecognitionOptions(language="ja").language == find_language("Japanese")
        assert RecognitionOptions().language is None

    @pytest.mark.parametrize("budget", [0, -5])
    def test_the_token_budget_must_be_positive(self, budget: int) -> None:
        with pytest.raises(ValueError, match="max_new_tokens"):
            RecognitionOptions(max_new_tokens=budget)

    def test_an_unknown_forced_language_fails_when_the_options_are_built(self) -> None:
        with pytest.raises(ValueError, match="unknown language"):
            RecognitionOptions(language="Elvish")

    @pytest.mark.parametrize("fraction", [-0.01, 1.01])
    def test_progress_fractions_lie_in_0_1(self, fraction: float) -> None:
        with pytest.raises(ValueError):
            ProgressEvent(Stage.CHUNK_COMPLETED, fraction)

    def test_ignore_progress_accepts_any_event(self) -> None:
        assert ignore_progress(ProgressEvent(Stage.COMPLETED, 1.0)) is None
