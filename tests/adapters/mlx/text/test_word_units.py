"""The aligner's word units (qasr.adapters.mlx.text.word_units), against their definition and the
official `Qwen3ForceAlignProcessor.encode_timestamp`."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.aligner import aligner_prompt
from qasr.adapters.mlx.text import word_units
from qasr.adapters.mlx.text.word_units import (
    is_cjk_ideograph,
    is_kept_char,
    split_on_whitespace,
    split_words,
)
from qasr.domain import find_language
from qasr.errors import MissingExtraError

LATIN = "abcXYZ éüñ'"
DIGITS = "0123456789٣"
PUNCTUATION = ',.!?;:-—"()«»、。，！？“”…'
HANZI = "今天气很好我们说话语音识别龘𠀀"
SPACES = " \t\n\u3000"

english = st.text(LATIN + DIGITS + PUNCTUATION + SPACES, max_size=60)
chinese = st.text(HANZI + PUNCTUATION + SPACES, max_size=40)
mixed = st.text(LATIN + DIGITS + HANZI + PUNCTUATION + SPACES + "かなカナ한국", max_size=60)
any_text = st.one_of(english, chinese, mixed)


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("Hello, world!", ["Hello", "world"]),
        ("It's 2024 — isn't it?", ["It's", "2024", "isn't", "it"]),
        ("e-mail me@home", ["email", "mehome"]),  # punctuation inside a word just goes
        ("你好，世界。", ["你", "好", "世", "界"]),
        ("AI模型很fast!", ["AI", "模", "型", "很", "fast"]),
        ("Qwen3-ASR 模型", ["Qwen3ASR", "模", "型"]),
        ("... — !?", []),
        ("", []),
    ],
)
def test_worked_examples(text: str, units: list[str]) -> None:
    assert split_words(text, find_language("English")) == units
    assert split_words(text, None) == units
    assert split_words(text, find_language("Chinese")) == units  # Chinese splits the same way


@given(any_text)
def test_units_are_the_kept_characters_in_order(text: str) -> None:
    units = split_on_whitespace(text)
    assert all(units)
    assert "".join(units) == "".join(char for char in text if is_kept_char(char))


@given(any_text)
def test_each_ideograph_is_a_unit_of_its_own(text: str) -> None:
    for unit in split_on_whitespace(text):
        assert len(unit) == 1 or not any(is_cjk_ideograph(char) for char in unit)


@given(english)
def test_whitespace_words_stay_whole(text: str) -> None:
    # Without ideographs, units are the whitespace words that keep something.
    cleaned = ["".join(filter(is_kept_char, word)) for word in text.split()]
    assert split_on_whitespace(text) == [word for word in cleaned if word]


@pytest.mark.parametrize(
    ("language", "module", "package"),
    [("Japanese", "nagisa", "nagisa"), ("Korean", "soynlp.tokenizer", "soynlp")],
)
def test_japanese_and_korean_without_the_extra_name_it(
    monkeypatch: pytest.MonkeyPatch, language: str, module: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import` raise ImportError
    word_units._nagisa_tagging.cache_clear()
    word_units._korean_tokenizer.cache_clear()
    try:
        with pytest.raises(MissingExtraError, match=rf"'{package}'.*\[aligner-cjk\]"):
            split_words("テスト 한국어", find_language(language))
    finally:
        word_units._nagisa_tagging.cache_clear()
        word_units._korean_tokenizer.cache_clear()


@pytest.fixture(scope="module")
def official() -> Any:
    pytest.importorskip("torch")
    module = pytest.importorskip("qwen_asr.inference.qwen3_forced_aligner")
    return module.Qwen3ForceAlignProcessor()


@pytest.mark.parity
@settings(max_examples=200, deadline=None)
@given(text=any_text, language=st.sampled_from(["English", "Chinese", "German", "Cantonese"]))
def test_identical_to_the_official_split_and_prompt(
    official: Any, text: str, language: str
) -> None:
    words, prompt = official.encode_timestamp(text, language)
    assert split_words(text, find_language(language)) == words
    assert aligner_prompt(words, 1) == prompt


@pytest.mark.parity
@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("今日はいい天気ですね。音声認識は、話した言葉を文字に変えます！", "Japanese"),
        ("東京タワーへ行きました 2024年", "Japanese"),
        ("오늘은 날씨가 좋네요. 음성 인식은 말을 글로 바꿉니다!", "Korean"),
        ("가까워요 가능성이 있습니다", "Korean"),
    ],
)
def test_japanese_and_korean_match_the_official(official: Any, text: str, language: str) -> None:
    words, prompt = official.encode_timestamp(text, language)
    assert split_words(text, find_language(language)) == words
    assert aligner_prompt(words, 1) == prompt
