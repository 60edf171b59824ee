"""`Session.stream`: feed / finish / iterate, in a thread or asyncio, at other sample rates."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from tests.app.use_cases.streaming.tone_words import WORDS, ToneWordRecognizer, speech

from qasr import Session
from qasr.app.use_cases.streaming import (
    CommittedText,
    FinalTranscript,
    PartialText,
    StreamClosedError,
    StreamEvent,
)
from qasr.errors import InvalidInputError

RATE = 16000
INDICES = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4]


def spoken(indices: list[int]) -> str:
    return " ".join(WORDS[index] for index in indices)


def test_a_session_stream_gives_partials_commits_and_a_transcript() -> None:
    session = Session(ToneWordRecognizer())
    stream = session.stream(step=1.0, window=8.0)
    events: list[StreamEvent] = []
    audio = speech(INDICES)
    for first in range(0, len(audio), 4000):
        events += stream.feed(audio[first : first + 4000])
    events += stream.finish()
    assert any(isinstance(event, PartialText) for event in events)
    assert sum(isinstance(event, CommittedText) for event in events) >= 2
    assert isinstance(events[-1], FinalTranscript)
    assert events[-1].transcript.text == spoken(INDICES) == stream.result.text  # type: ignore[union-attr]
    assert events[-1].transcript.language is not None
    with pytest.raises(StreamClosedError):
        stream.feed(audio[:100])


def test_events_can_be_read_on_another_thread() -> None:
    stream = Session(ToneWordRecognizer()).stream(step=1.0)
    seen: list[StreamEvent] = []
    reader = threading.Thread(target=lambda: seen.extend(stream))
    reader.start()
    audio = speech(INDICES[:6])
    for first in range(0, len(audio), 8000):
        stream.feed(audio[first : first + 8000])
    stream.finish()
    reader.join(10)
    assert not reader.is_alive()
    assert isinstance(seen[-1], FinalTranscript) and seen[-1].transcript.text == spoken(INDICES[:6])


def test_the_async_stream() -> None:
    async def run() -> list[StreamEvent]:
        stream = Session(ToneWordRecognizer()).stream_async(step=1.0)
        audio = speech(INDICES[:8])

        async def feed() -> None:
            for first in range(0, len(audio), 8000):
                await stream.feed(audio[first : first + 8000])
            await stream.finish()

        feeding = asyncio.create_task(feed())
        events = [event async for event in stream]
        await feeding
        return events

    events = asyncio.run(run())
    assert isinstance(events[-1], FinalTranscript)
    assert events[-1].transcript.text == spoken(INDICES[:8])


@pytest.mark.parametrize("rate", [8000, 24000, 44100, 48000])
def test_other_sample_rates_are_resampled(rate: int) -> None:
    from qasr.adapters.audio.resample import resample

    audio = resample(speech(INDICES[:10]), RATE, rate)
    stream = Session(ToneWordRecognizer()).stream(step=1.0, sample_rate=rate)
    for first in range(0, len(audio), 1234):
        stream.feed(audio[first : first + 1234])
    final = stream.finish()[-1]
    assert isinstance(final, FinalTranscript)
    assert final.transcript.text == spoken(INDICES[:10])
    assert final.transcript.duration == pytest.approx(len(audio) / rate, abs=0.01)


def test_a_bad_sample_rate_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="sample_rate"):
        Session(ToneWordRecognizer()).stream(sample_rate=0)


def test_the_seed_names_carry_text_and_metrics() -> None:
    session = Session(ToneWordRecognizer())
    state = session.init_streaming(chunk_size_sec=1.0)
    audio = speech(INDICES[:8])
    for first in range(0, len(audio), RATE):
        state = session.feed_audio(audio[first : first + RATE], state)
        assert spoken(INDICES[:8]).startswith(state.text)
    state = session.finish_streaming(state)
    assert state.text == spoken(INDICES[:8]) and state.language == "English"
    metrics = session.streaming_metrics(state)
    assert metrics["updates"] >= 5 and metrics["real_time_factor"] > 0
    assert metrics["audio_seconds"] == pytest.approx(len(audio) / RATE)
    assert np.isfinite(metrics["mean_update_seconds"])


def test_a_session_stream_votes_its_commits_unless_told_not_to() -> None:
    assert Session(ToneWordRecognizer()).stream().engine.settings.vote_margins == (0.2, 0.4)
    stream = Session(ToneWordRecognizer()).stream(vote_margins=())
    assert stream.engine.settings.vote_margins == ()
