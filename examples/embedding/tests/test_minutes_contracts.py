"""Our adapters keep qasr's port contracts: the shipped suites, by subclassing or one call."""

from __future__ import annotations

from qasr.ports import Recognizer, Writer
from qasr.testing import FakeRecognizer
from qasr.testing.contracts import RecognizerContract, WriterContract, check_writer

from minutes import CachingRecognizer, MinutesWriter


class TestCachingRecognizer(RecognizerContract):
    def make_recognizer(self) -> Recognizer:
        return CachingRecognizer(FakeRecognizer())


class TestCachingRecognizerThatForgetsOften(RecognizerContract):
    """With room for two transcripts, most requests evict another one."""

    def make_recognizer(self) -> Recognizer:
        return CachingRecognizer(FakeRecognizer(), max_entries=2)


class TestMinutesWriter(WriterContract):
    def make_writer(self) -> Writer:
        return MinutesWriter()


def test_a_titled_writer_keeps_the_contract_too() -> None:
    check_writer(MinutesWriter(title="Stand-up\nnotes"))
