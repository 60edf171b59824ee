"""Our diarizers through the shipped `DiarizerContract` (qasr.testing.contracts).

A real diarizer joins with one class, e.g. `class TestPyannoteDiarizer(DiarizerContract)`
marked slow.
"""

from __future__ import annotations

from qasr.ports import Diarizer
from qasr.testing import FakeDiarizer
from qasr.testing.contracts import DiarizerContract


class TestFakeDiarizer(DiarizerContract):
    def make_diarizer(self) -> Diarizer:
        return FakeDiarizer()


class TestFakeDiarizerOfThreeSpeakers(DiarizerContract):
    def make_diarizer(self) -> Diarizer:
        return FakeDiarizer(turn_seconds=0.7, speakers=3)
