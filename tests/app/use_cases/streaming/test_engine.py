"""The streaming engine on a recognizer whose text is a function of the audio (tone words)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.app.use_cases.streaming.tone_words import WORDS, ToneWordRecognizer, speech

from qasr.app.use_cases.streaming import (
    CommittedText,
    FinalTranscript,
    PartialText,
    StreamClosedError,
    StreamingEngine,
    StreamSettings,
    StreamTooLongError,
)
from qasr.errors import InvalidInputError
from qasr.ports import ContinuationOptions

RATE = 16000


def engine_for(recognizer: ToneWordRecognizer, **settings: object) -> StreamingEngine:
    return StreamingEngine(
        recognizer.decode,
        tokens=recognizer,
        settings=StreamSettings(**settings),  # type: ignore[arg-type]
    )


def feed_in_pieces(engine: StreamingEngine, audio: np.ndarray, sizes: list[int]) -> list[object]:
    events: list[object] = []
    position, turn = 0, 0
    while position < len(audio):
        size = sizes[turn % len(sizes)]
        events += engine.feed(audio[position : position + size])
        position += size
        turn += 1
    return events + engine.finish()


def committed(events: list[object]) -> list[CommittedText]:
    return [event for event in events if isinstance(event, CommittedText)]


def spoken(indices: list[int]) -> str:
    return " ".join(WORDS[index] for index in indices)


INDICES = [i % len(WORDS) for i in range(0, 7 * 97, 7)]  # 97 words, ~73 s


def test_a_long_stream_commits_every_word_once_in_order() -> None:
    events = feed_in_pieces(engine_for(ToneWordRecognizer()), speech(INDICES), [RATE // 3])
    windows = committed(events)
    assert len(windows) >= 3  # 73 s cannot fit in fewer 30 s windows
    assert all(window.end - window.start <= 30.0 for window in windows)
    final = events[-1]
    assert isinstance(final, FinalTranscript)
    assert final.transcript.text == spoken(INDICES)
    assert final.transcript.text == " ".join(window.text for window in windows if window.text)
    # Windows tile the stream: each starts where the previous ended.
    assert [w.start for w in windows[1:]] == [w.end for w in windows[:-1]]
    assert windows[-1].end == pytest.approx(final.transcript.duration)


SHORT = speech(INDICES[:40])  # ~30 s: one commit at the window limit
SHORT_REFERENCE = feed_in_pieces(
    engine_for(ToneWordRecognizer(), window_seconds=20.0), SHORT, [RATE]
)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(64, 3 * RATE), min_size=1, max_size=6))
def test_pieces_of_any_size_give_the_same_events(sizes: list[int]) -> None:
    audio, reference = SHORT, SHORT_REFERENCE
    assert len(committed(reference)) >= 2
    events = feed_in_pieces(engine_for(ToneWordRecognizer(), window_seconds=20.0), audio, sizes)
    assert committed(events) == committed(reference)
    assert [e for e in events if isinstance(e, PartialText)] == [
        e for e in reference if isinstance(e, PartialText)
    ]


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, len(WORDS) - 1), min_size=1, max_size=60), st.sampled_from([1, 2]))
def test_committed_text_only_grows_and_ends_as_what_was_said(indices: list[int], step: int) -> None:
    engine = engine_for(ToneWordRecognizer(), step_seconds=float(step), window_seconds=12.0)
    shown = ""
    for event in feed_in_pieces(engine, speech(indices), [RATE // 2]):
        if isinstance(event, CommittedText):
            grown = f"{shown} {event.text}".strip() if event.text else shown
            assert grown.startswith(shown)
            shown = grown
    assert shown == spoken(indices)


def test_the_prefix_is_the_previous_text_minus_whole_characters() -> None:
    recognizer = ToneWordRecognizer()
    feed_in_pieces(engine_for(recognizer, rollback_tokens=2), speech([2, 2, 1, 2] * 6), [RATE])
    prefixes = [o.prefix for _, o in recognizer.calls if isinstance(o, ContinuationOptions)]
    assert prefixes, "later steps decode with a forced prefix"
    assert all("\ufffd" not in prefix for prefix in prefixes)
    # "日本" is 6 bytes: taking back 2 bytes cuts a character, so k grew to a boundary.
    assert any(prefix.endswith("日") for prefix in prefixes)


def test_work_per_update_does_not_grow_over_a_long_stream() -> None:
    recognizer = ToneWordRecognizer()
    engine = engine_for(recognizer)
    indices = [i % len(WORDS) for i in range(800)]  # ~10 minutes
    audio = speech(indices)
    steps = 0
    for first in range(0, len(audio), 2 * RATE):
        before = len(recognizer.calls)
        engine.feed(audio[first : first + 2 * RATE])
        assert len(recognizer.calls) - before <= 2  # one partial, plus a commit now and then
        steps += 1
    audio_per_call = [seconds for seconds, _ in recognizer.calls]
    assert max(audio_per_call) <= 30.0
    assert len(recognizer.calls) <= steps * 1.2
    late = audio_per_call[len(audio_per_call) // 2 :]
    early = audio_per_call[: len(audio_per_call) // 2]
    assert np.mean(late) <= np.mean(early) * 1.2 + 1.0


def test_the_language_is_carried_over_to_later_steps_and_windows() -> None:
    recognizer = ToneWordRecognizer()
    feed_in_pieces(engine_for(recognizer, window_seconds=8.0), speech(INDICES[:30]), [RATE])
    languages = [options.language for _, options in recognizer.calls]
    assert languages[0] is None  # the first step lets the model detect it
    assert all(language is not None and language.name == "English" for language in languages[1:])


def test_a_pause_commits_at_once_with_commit_after_silence() -> None:
    audio = np.concatenate([speech([0, 3]), np.zeros(2 * RATE, np.float32), speech([5])])
    engine = engine_for(ToneWordRecognizer(), step_seconds=1.0, commit_after_silence=1.0)
    windows = committed(feed_in_pieces(engine, audio, [RATE // 4]))
    assert [window.text for window in windows] == ["alpha bravo", "delta"]


def test_a_pause_commit_keeps_silence_after_the_words_and_before_the_next() -> None:
    """The committed window is decoded with `tail_margin` of the pause after its words (not cut
    at the pause's middle) and the next window starts `silence_margin` before its speech."""
    # Words end at 1.15 s, "delta" starts at 3.7 s.
    audio = np.concatenate([speech([0, 3]), np.zeros(int(2.2 * RATE), np.float32), speech([5])])
    recognizer = ToneWordRecognizer()
    # No vote decodings (test_vote.py): each call then keeps exactly `silence_margin` before.
    engine = engine_for(
        recognizer, step_seconds=1.0, commit_after_silence=1.0, tail_margin=0.6, vote_margins=()
    )
    windows = committed(feed_in_pieces(engine, audio, [RATE // 4]))
    assert [window.text for window in windows] == ["alpha bravo", "delta"]
    # The step at 3 s sees 1.85 s of pause: the next window starts 0.3 s before that step.
    assert windows[0].end == pytest.approx(3.0 - 0.3)
    durations = [duration for duration, _ in recognizer.calls]
    assert any(abs(duration - (1.15 + 0.6)) < 0.021 for duration in durations)
    assert all(duration <= 0.3 + 0.4 + 0.35 + 1e-9 for duration in durations[-2:])


def test_silence_costs_no_model_call() -> None:
    recognizer = ToneWordRecognizer()
    events = feed_in_pieces(engine_for(recognizer), np.zeros(40 * RATE, np.float32), [RATE])
    assert recognizer.calls == []
    final = events[-1]
    assert isinstance(final, FinalTranscript) and final.transcript.text == ""


@pytest.mark.parametrize(
    ("piece", "message"),
    [
        (np.zeros((100, 2), np.float32), "mono"),
        (np.array(["a", "b"]), "dtype"),
        (np.array([0.1, np.nan], np.float32), "NaN"),
        (np.array([1 + 2j]), "dtype"),
    ],
)
def test_bad_pieces_are_refused_and_the_stream_goes_on(piece: np.ndarray, message: str) -> None:
    engine = engine_for(ToneWordRecognizer())
    with pytest.raises(InvalidInputError, match=message):
        engine.feed(piece)
    engine.feed(speech([1]))
    assert engine.finish()[-1].transcript.text == "café"  # type: ignore[union-attr]


def test_empty_pieces_and_int16_pieces_are_taken() -> None:
    engine = engine_for(ToneWordRecognizer())
    assert engine.feed(np.zeros(0, np.float32)) == []
    assert engine.feed([]) == []
    engine.feed((speech([3]) * 32767).astype(np.int16))
    assert engine.finish()[-1].transcript.text == "bravo"  # type: ignore[union-attr]


def test_feeding_after_finish_is_refused() -> None:
    engine = engine_for(ToneWordRecognizer())
    engine.finish()
    with pytest.raises(StreamClosedError):
        engine.feed(np.zeros(10, np.float32))


def test_a_stream_longer_than_its_limit_is_refused() -> None:
    engine = engine_for(ToneWordRecognizer(), max_seconds=3.0)
    engine.feed(np.zeros(2 * RATE, np.float32))
    with pytest.raises(StreamTooLongError, match="3 s"):
        engine.feed(np.zeros(2 * RATE, np.float32))


def test_settings_refuse_a_window_shorter_than_two_steps() -> None:
    with pytest.raises(InvalidInputError, match="twice"):
        StreamSettings(step_seconds=2.0, window_seconds=3.0)


def test_single_sample_pieces_give_the_same_events() -> None:
    audio = speech(INDICES[:6])
    reference = feed_in_pieces(engine_for(ToneWordRecognizer(), step_seconds=1.0), audio, [RATE])
    events = feed_in_pieces(engine_for(ToneWordRecognizer(), step_seconds=1.0), audio, [1, 7])
    assert events == reference
