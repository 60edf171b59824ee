"""`PrefixMlxRecognizer` on the demo model: forcing the model's own words changes nothing.

Greedy decoding with a prefix equal to the start of what the model writes anyway must give back
the same whole text (the forced tokens are the ones it would have chosen); a different prefix is
kept verbatim and continued. Plain options decode exactly as `MlxRecognizer`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.demo_model import STREAM_TEST_MODEL, needs_stream_model, prefix_recognizer

from qasr.domain import AudioClip, RecognitionOptions
from qasr.ports import ContinuationOptions, PrefixRecognizer

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
pytestmark = needs_stream_model


@pytest.fixture(scope="module")
def recognizer():  # type: ignore[no-untyped-def]
    return prefix_recognizer()


@pytest.fixture(scope="module")
def clip() -> AudioClip:
    from qasr import load_audio

    return AudioClip(load_audio(EXAMPLES / "tiny-en-1.wav"))


def test_it_is_a_prefix_recognizer(recognizer) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(recognizer, PrefixRecognizer)


def test_plain_options_decode_as_the_plain_recognizer(recognizer, clip) -> None:  # type: ignore[no-untyped-def]
    from qasr.adapters.mlx.recognizer import MlxRecognizer

    plain = MlxRecognizer(recognizer.thinker, recognizer.tokenizer, source=STREAM_TEST_MODEL)
    options = [RecognitionOptions(), RecognitionOptions(language="English")]
    ours = recognizer.recognize([clip, clip], options)
    theirs = plain.recognize([clip, clip], options)
    assert [(t.text, t.language) for t in ours] == [(t.text, t.language) for t in theirs]


def test_forcing_its_own_words_gives_the_same_text(recognizer, clip) -> None:  # type: ignore[no-untyped-def]
    (free,) = recognizer.recognize([clip], [RecognitionOptions(language="English")])
    ids = recognizer.encode_text(free.text)
    assert len(ids) > 4
    for keep in (1, len(ids) // 2, len(ids) - 2):
        prefix = recognizer.decode_tokens(ids[:keep])
        options = ContinuationOptions(language="English", prefix=prefix)
        (forced,) = recognizer.recognize([clip], [options])
        assert forced.text == free.text, prefix


def test_another_prefix_is_kept_and_continued(recognizer, clip) -> None:  # type: ignore[no-untyped-def]
    options = ContinuationOptions(language="English", prefix="Zebra zebra")
    (forced,) = recognizer.recognize([clip], [options])
    assert forced.text.startswith("Zebra zebra") and len(forced.text) > len("Zebra zebra")


@pytest.mark.parametrize("step", [1.0, 2.0])
def test_a_stream_of_the_example_ends_as_offline_decoding(recognizer, step: float) -> None:  # type: ignore[no-untyped-def]
    from qasr import Session, load_audio

    session = Session(recognizer)
    for name in ("tiny-en-1.wav", "tiny-en-2.wav"):
        audio = load_audio(EXAMPLES / name)
        stream = session.stream(step=step)
        partials = []
        for first in range(0, len(audio), 1600):
            partials += [
                e for e in stream.feed(audio[first : first + 1600]) if hasattr(e, "stable")
            ]
        final = stream.finish()[-1].transcript  # type: ignore[union-attr]
        assert partials, "a step decoded before the end"
        assert final.text == session.transcribe(audio).text
