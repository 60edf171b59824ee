"""The `Diarizer` port's contract (src/qasr/ports/diarizer.py), for every adapter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qasr.domain import AudioClip
from qasr.ports import Diarizer
from qasr.testing import FakeDiarizer

# Real adapters join with one line, e.g.
#   pytest.param(build_pyannote_diarizer, id="pyannote", marks=pytest.mark.slow),
DIARIZERS = [
    pytest.param(lambda request: FakeDiarizer(), id="fake"),
    pytest.param(lambda request: FakeDiarizer(turn_seconds=0.7, speakers=3), id="fake-3"),
]

examples = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module", params=DIARIZERS)
def diarizer(request: pytest.FixtureRequest) -> Diarizer:
    return request.param(request)


def test_it_is_a_diarizer(diarizer: Diarizer) -> None:
    assert isinstance(diarizer, Diarizer)


@examples
@given(data=st.data())
def test_turns_are_ordered_within_the_clip_and_leave_text_empty(
    diarizer: Diarizer, clips: Any, data: Any
) -> None:
    clip: AudioClip = data.draw(clips.speech(max_seconds=8.0))
    turns = diarizer.diarize(clip)
    starts = [turn.start for turn in turns]
    assert starts == sorted(starts)
    assert all(0 <= t.start <= t.end <= clip.duration + 1e-6 for t in turns)
    assert all(turn.speaker and turn.text == "" for turn in turns)


@examples
@given(data=st.data())
def test_the_same_clip_gets_the_same_labels(diarizer: Diarizer, clips: Any, data: Any) -> None:
    clip = data.draw(clips.speech(max_seconds=8.0))
    assert diarizer.diarize(clip) == diarizer.diarize(clip)


def test_silence_has_no_turns(diarizer: Diarizer, clips: Any) -> None:
    assert diarizer.diarize(clips.silence(2.0)) == ()
