"""Streams on the demo model with `reuse_work` on and off: the same events, less encoder work,
and encoder work per update that does not grow along a long stream."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.demo_model import needs_stream_model, prefix_recognizer

from qasr.app.use_cases.streaming import CommittedText, StreamingEngine, StreamSettings
from qasr.domain import AudioClip, RecognitionOptions, Transcript

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
pytestmark = needs_stream_model
RATE = 16000


@pytest.fixture(scope="module")
def recognizer():  # type: ignore[no-untyped-def]
    return prefix_recognizer()


def sentences(repeats: int) -> np.ndarray:
    from qasr import load_audio

    clips = [load_audio(EXAMPLES / name) for name in ("tiny-en-1.wav", "tiny-en-2.wav")]
    pauses = [np.zeros(n, np.float32) for n in (RATE // 3, RATE // 2)]
    return np.concatenate([clips[0], pauses[0], clips[1], pauses[1]] * repeats)


class Counted:
    """Decodes through the recognizer with a small token budget (the events depend on it only
    through the text) and records the encoder frames each call encoded."""

    def __init__(self, recognizer, tokens_per_second: float) -> None:  # type: ignore[no-untyped-def]
        self.recognizer = recognizer
        self.tokens_per_second = tokens_per_second
        self.frames: list[int] = []

    def decode(self, clip: AudioClip, options: RecognitionOptions) -> Transcript:
        budget = max(4, round(clip.duration * self.tokens_per_second))
        before = self.recognizer.work.counters.frames_encoded
        capped = attrs.evolve(options, max_new_tokens=budget)
        (result,) = self.recognizer.recognize([clip], [capped])
        self.frames.append(self.recognizer.work.counters.frames_encoded - before)
        return result


def stream(recognizer, audio: np.ndarray, sizes: list[int], reuse: bool, **options: object):  # type: ignore[no-untyped-def]
    recognizer.work.clear()  # no stream starts with another's windows cached
    counted = Counted(recognizer, 4.0)
    engine = StreamingEngine(
        counted.decode,
        tokens=recognizer,
        settings=StreamSettings(**options),  # type: ignore[arg-type]
        reuse_work=reuse,
    )
    events, position, turn = [], 0, 0
    while position < len(audio):
        size = sizes[turn % len(sizes)]
        events += engine.feed(audio[position : position + size])
        position, turn = position + size, turn + 1
    return events + engine.finish(), counted.frames


AUDIO = sentences(3)  # ~26 s: complete 8 s windows inside the open window, one commit
SETTINGS = dict(window_seconds=20.0)


@pytest.fixture(scope="module")
def reference(recognizer):  # type: ignore[no-untyped-def]
    return stream(recognizer, AUDIO, [RATE], reuse=False, **SETTINGS)


def test_reuse_gives_the_same_events_with_less_encoder_work(recognizer, reference) -> None:  # type: ignore[no-untyped-def]
    events, frames = stream(recognizer, AUDIO, [RATE], reuse=True, **SETTINGS)
    off_events, off_frames = reference
    assert events == off_events
    assert len(frames) == len(off_frames) and sum(frames) < 0.8 * sum(off_frames)


@pytest.mark.lane  # ~40 s: four streams of the demo model
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(160, 3 * RATE), min_size=1, max_size=4))
def test_pieces_of_any_size_give_the_same_events_with_reuse(recognizer, reference, sizes) -> None:  # type: ignore[no-untyped-def]
    events, _ = stream(recognizer, AUDIO, sizes, reuse=True, **SETTINGS)
    assert events == reference[0]


@pytest.mark.lane  # ~1-2 min: a minute of speech streamed twice, with and without reuse
def test_encoder_work_per_update_stays_bounded_on_a_long_stream(recognizer) -> None:  # type: ignore[no-untyped-def]
    audio = sentences(7)  # ~58 s: 30 s windows committed at their limit
    span = recognizer.thinker.model.audio_tower.config.window_frames
    # The reuse alone: voted commits (below) decode other audio, which no cache shares.
    _, frames = stream(recognizer, audio, [RATE], reuse=True, vote_margins=())
    _, off_frames = stream(recognizer, audio, [RATE], reuse=False, vote_margins=())
    # Without reuse a step encodes its whole window (up to 30 s = 3000 frames); with it, the
    # open 8 s window, plus a window just completed, or all of them when louder audio moved
    # the clamp floor (a window that started mid-sentence meets its loudest frame late).
    assert len(frames) == len(off_frames)
    assert max(off_frames) > 2 * span
    assert np.median(frames) <= span
    assert sum(frames) < 0.6 * sum(off_frames)
    half = len(frames) // 2
    assert np.mean(frames[half:]) <= 1.25 * np.mean(frames[:half])
    # A voted commit adds at most two decodings of its own window: work bounded by the window
    # (30 s of 10 ms frames), whatever the stream's length.
    events, voted = stream(recognizer, audio, [RATE], reuse=True)
    commits = sum(isinstance(event, CommittedText) for event in events)
    assert 0 < len(voted) - len(frames) <= 2 * commits
    assert max(voted) <= 30 * 100
