"""The `Recognizer` port's contract (src/qasr/ports/recognizer.py), for every adapter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qasr.domain import FinishReason, RecognitionOptions, Transcript, find_language
from qasr.ports import Recognizer
from qasr.testing import FakeRecognizer


def build_tiny_mlx_recognizer(request: pytest.FixtureRequest) -> Recognizer:
    module = pytest.importorskip("qasr.adapters.mlx.recognizer")
    folder = request.getfixturevalue("tiny_asr_checkpoint")
    recognizer: Recognizer = module.MlxRecognizer.from_pretrained(folder)
    return recognizer


# (builder, models speech): a random-weight checkpoint cannot be expected to hear silence as such.
RECOGNIZERS = [
    pytest.param((lambda request: FakeRecognizer(), True), id="fake"),
    # parity: building the tiny checkpoint needs torch and qwen_asr, like the parity tests
    pytest.param(
        (build_tiny_mlx_recognizer, False),
        id="mlx-tiny",
        marks=[pytest.mark.slow, pytest.mark.parity],
    ),
]

# Few examples: each one decodes with the real model too.
examples = settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module", params=RECOGNIZERS)
def case(request: pytest.FixtureRequest) -> tuple[Recognizer, bool]:
    build, models_speech = request.param
    return build(request), models_speech


@pytest.fixture
def recognizer(case: tuple[Recognizer, bool]) -> Recognizer:
    return case[0]


def budget(tokens: int | None = 12, **kwargs: Any) -> RecognitionOptions:
    # A small budget keeps a random-weight model from decoding hundreds of tokens.
    return RecognitionOptions(max_new_tokens=tokens, **kwargs)


def test_it_is_a_recognizer(recognizer: Recognizer) -> None:
    assert isinstance(recognizer, Recognizer)


def test_an_empty_call_returns_an_empty_list(recognizer: Recognizer) -> None:
    assert recognizer.recognize([], []) == []


@examples
@given(data=st.data())
def test_one_transcript_per_clip_in_order(recognizer: Recognizer, clips: Any, data: Any) -> None:
    clips = data.draw(st.lists(clips.speech(max_seconds=2.0), min_size=1, max_size=3))
    results = recognizer.recognize(clips, [budget()] * len(clips))
    assert len(results) == len(clips)
    assert all(isinstance(result, Transcript) for result in results)
    alone = [recognizer.recognize([clip], [budget()])[0] for clip in clips]
    # clips are independent: a clip's answer does not depend on its batch neighbours
    assert [(r.text, r.language, r.finish_reason) for r in results] == [
        (r.text, r.language, r.finish_reason) for r in alone
    ]


@pytest.mark.parametrize("name", ["German", "Chinese", "Cantonese"])
def test_a_forced_language_is_reported(recognizer: Recognizer, clips: Any, name: str) -> None:
    [result] = recognizer.recognize([clips.tone(1.0)], [budget(language=name)])
    assert result.language == find_language(name)


@examples
@given(data=st.data(), tokens=st.integers(1, 3))
def test_a_budget_cut_is_a_prefix_and_says_length(
    recognizer: Recognizer, clips: Any, data: Any, tokens: int
) -> None:
    clip = data.draw(clips.speech(max_seconds=2.0))
    [full] = recognizer.recognize([clip], [budget(16)])
    [cut] = recognizer.recognize([clip], [budget(tokens)])
    assert full.text.startswith(cut.text.rstrip())
    if cut.text.strip() != full.text.strip() and full.finish_reason is FinishReason.STOP:
        assert cut.finish_reason is FinishReason.LENGTH


def test_silence_has_no_text_and_no_language(case: tuple[Recognizer, bool], clips: Any) -> None:
    recognizer, models_speech = case
    if not models_speech:
        pytest.skip("a random-weight model does not model speech")
    [result] = recognizer.recognize([clips.silence(1.0)], [budget()])
    assert (result.text, result.language) == ("", None)
