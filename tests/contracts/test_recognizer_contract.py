"""Our recognizers through the shipped `RecognizerContract` (qasr.testing.contracts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qasr.ports import Recognizer
from qasr.testing import FakeRecognizer
from qasr.testing.contracts import RecognizerContract


class TestFakeRecognizer(RecognizerContract):
    def make_recognizer(self) -> Recognizer:
        return FakeRecognizer()


class TestFakeRecognizerInChinese(RecognizerContract):
    def make_recognizer(self) -> Recognizer:
        return FakeRecognizer(language="Chinese", words_per_second=5.0)


@pytest.mark.slow
class TestMlxRecognizer(RecognizerContract):
    """The real model on a tiny random checkpoint that hears its audio and can stop."""

    max_examples = 4  # each example decodes with the model

    @pytest.fixture(scope="class")
    def recognizer(self, listening_checkpoint: Path) -> Recognizer:
        module = pytest.importorskip("qasr.adapters.mlx.recognizer")
        recognizer: Recognizer = module.MlxRecognizer.from_pretrained(listening_checkpoint)
        return recognizer
