"""Our diarizers through the shipped `DiarizerContract` (qasr.testing.contracts).

A real diarizer joins with one class. The pyannote adapter runs the contract on a stand-in
pipeline in tests/adapters/diarization/test_pyannote_adapter.py (pyannote's weights are gated).
"""

from __future__ import annotations

import importlib.util

import pytest

from qasr.ports import Diarizer
from qasr.testing import FakeDiarizer
from qasr.testing.contracts import DiarizerContract


class TestFakeDiarizer(DiarizerContract):
    def make_diarizer(self) -> Diarizer:
        return FakeDiarizer()


class TestFakeDiarizerOfThreeSpeakers(DiarizerContract):
    def make_diarizer(self) -> Diarizer:
        return FakeDiarizer(turn_seconds=0.7, speakers=3)


@pytest.mark.skipif(
    importlib.util.find_spec("silero_vad") is None
    or importlib.util.find_spec("resemblyzer") is None,
    reason="the built-in diarizer's weights: pip install --no-deps silero-vad Resemblyzer",
)
class TestBuiltinDiarizer(DiarizerContract):
    max_examples = 10  # each example runs both networks

    def make_diarizer(self) -> Diarizer:
        from qasr.adapters.diarization.builtin import BuiltinDiarizer

        return BuiltinDiarizer()
