"""The `Aligner` port's contract (src/qasr/ports/aligner.py), for every adapter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qasr.domain import AudioClip, Language, find_language
from qasr.ports import Aligner
from qasr.testing import FakeAligner


def build_tiny_mlx_aligner(request: pytest.FixtureRequest) -> Aligner:
    """Qwen3-ForcedAligner in MLX on a random checkpoint of a few MB (built with torch)."""
    module = pytest.importorskip("qasr.adapters.mlx.aligner")
    pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from tests.parity.test_aligner_parity import build_official_aligner, save_aligner

    folder = request.getfixturevalue("tmp_path_factory").mktemp("tiny-aligner")
    aligner: Aligner = module.MlxAligner.from_pretrained(
        save_aligner(build_official_aligner(seed=0, weight_scale=6.0), folder)
    )
    return aligner


ALIGNERS = [
    pytest.param(lambda request: FakeAligner(), id="fake"),
    # parity: building the tiny checkpoint needs torch and qwen_asr, like the parity tests
    pytest.param(
        build_tiny_mlx_aligner, id="mlx-tiny", marks=[pytest.mark.slow, pytest.mark.parity]
    ),
]

examples = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

latin_words = st.lists(st.text("abcdefghij'", min_size=1, max_size=8), min_size=1, max_size=12)
cjk_text = st.text("你好世界天地日月", min_size=1, max_size=12)
languages = st.sampled_from([None, *map(find_language, ["English", "German", "Chinese"])])


@pytest.fixture(scope="module", params=ALIGNERS)
def aligner(request: pytest.FixtureRequest) -> Aligner:
    return request.param(request)


def in_text_order(pieces: list[str], text: str) -> bool:
    position = 0
    for piece in pieces:
        found = text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def check_segments(clip: AudioClip, text: str, aligner: Aligner, language: Language | None) -> None:
    segments = aligner.align(clip, text, language)
    assert segments, "a non-empty text gets at least one segment"
    assert all(segment.text.strip() for segment in segments)
    assert in_text_order([segment.text for segment in segments], text)
    starts = [segment.start for segment in segments]
    assert starts == sorted(starts)
    assert all(0 <= s.start <= s.end <= clip.duration + 1e-6 for s in segments)


def test_it_is_an_aligner(aligner: Aligner) -> None:
    assert isinstance(aligner, Aligner)


@examples
@given(data=st.data(), words=latin_words, language=languages)
def test_words_come_in_text_order_within_the_clip(
    aligner: Aligner, clips: Any, data: Any, words: list[str], language: Language | None
) -> None:
    clip = data.draw(clips.speech())
    check_segments(clip, " ".join(words), aligner, language)


@examples
@given(data=st.data(), text=cjk_text)
def test_cjk_text_is_timed_character_by_character(
    aligner: Aligner, clips: Any, data: Any, text: str
) -> None:
    clip = data.draw(clips.speech())
    segments = aligner.align(clip, text, find_language("Chinese"))
    assert [segment.text for segment in segments] == list(text)
    check_segments(clip, text, aligner, find_language("Chinese"))


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_has_no_segments(aligner: Aligner, text: str) -> None:
    clip = AudioClip([0.1] * 16_000)
    assert aligner.align(clip, text, find_language("English")) == ()
