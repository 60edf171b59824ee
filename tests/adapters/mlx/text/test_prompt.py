"""The prompt layout, its token ids, and parsing the model's output (equality with the official
functions is in tests/parity/test_prompt_parity.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.text.prompt import (
    AUDIO_PAD,
    build_prompt,
    build_prompt_ids,
    fix_repetitions,
    parse_asr_output,
    repetition_trimmed,
)
from qasr.domain import find_language
from qasr.errors import CheckpointError, InvalidInputError, UnknownLanguageError

SPECIALS = ("<|im_start|>", "<|im_end|>", "<|audio_start|>", "<|audio_pad|>", "<|audio_end|>")


class CharTokenizer:
    """Special tokens are single ids; every other character is its code point."""

    def __init__(self, specials: tuple[str, ...] = SPECIALS) -> None:
        self.ids = {token: 1_000_000 + index for index, token in enumerate(specials)}
        self.pattern = re.compile("|".join(re.escape(token) for token in specials))

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        position = 0
        for match in self.pattern.finditer(text):
            ids += [ord(char) for char in text[position : match.start()]]
            ids.append(self.ids[match.group()])
            position = match.end()
        return ids + [ord(char) for char in text[position:]]


def test_prompt_layout_without_and_with_a_forced_language() -> None:
    free = build_prompt("Terms: MLX", n_audio_tokens=3)
    assert free == (
        "<|im_start|>system\nTerms: MLX<|im_end|>\n<|im_start|>user\n"
        "<|audio_start|><|audio_pad|><|audio_pad|><|audio_pad|><|audio_end|><|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    forced = build_prompt("Terms: MLX", "English", n_audio_tokens=3)
    assert forced == free + "language English<asr_text>"


@pytest.mark.parametrize(
    ("language", "forced"),
    [("en", "English"), ("zh-TW", "Chinese"), ("Sichuan", "Chinese"), ("yue-gd", "Cantonese")],
)
def test_languages_force_their_prompt_name(language: str, forced: str) -> None:
    assert build_prompt(language=language, n_audio_tokens=1).endswith(
        f"language {forced}<asr_text>"
    )
    assert build_prompt(language=find_language(language), n_audio_tokens=1) == build_prompt(
        language=forced, n_audio_tokens=1
    )


def test_empty_language_forces_nothing_and_bad_input_is_refused() -> None:
    assert build_prompt(language="", n_audio_tokens=2) == build_prompt(n_audio_tokens=2)
    with pytest.raises(UnknownLanguageError):
        build_prompt(language="Klingon", n_audio_tokens=2)
    with pytest.raises(InvalidInputError, match="n_audio_tokens"):
        build_prompt(n_audio_tokens=-1)


@settings(max_examples=40, deadline=None)
@given(
    context=st.text(max_size=30),
    language=st.sampled_from([None, "English", "ja", "Cantonese"]),
    n_audio_tokens=st.integers(0, 40),
)
def test_prompt_ids_equal_encoding_the_prompt(
    context: str, language: str | None, n_audio_tokens: int
) -> None:
    tokenizer = CharTokenizer()
    text = build_prompt(context, language, n_audio_tokens=n_audio_tokens)
    ids = build_prompt_ids(tokenizer, context, language, n_audio_tokens=n_audio_tokens)
    assert ids == tokenizer.encode(text)
    assert ids.count(tokenizer.ids[AUDIO_PAD]) == n_audio_tokens + context.count(AUDIO_PAD)


def test_prompt_ids_need_a_single_audio_pad_token() -> None:
    without_pad = CharTokenizer(tuple(token for token in SPECIALS if token != AUDIO_PAD))
    with pytest.raises(CheckpointError, match="audio_pad"):
        build_prompt_ids(without_pad, n_audio_tokens=4)


@pytest.mark.parametrize(
    ("raw", "user_language", "parsed"),
    [
        ("language English<asr_text>Hello there.", None, ("English", "Hello there.")),
        ("  language cHINese\n<asr_text> 你好 ", None, ("Chinese", "你好")),
        ("language None<asr_text>", None, ("", "")),
        ("language None<asr_text> hm", None, ("", "hm")),
        ("just text, no tag ", None, ("", "just text, no tag")),
        ("Hello.", "English", ("English", "Hello.")),
        ("\n\nlanguage German\nmore<asr_text>Hallo", None, ("German", "Hallo")),
        # The official parser skips lines before the one that starts with "language".
        ("first line\nlanguage German<asr_text>Hallo", None, ("German", "Hallo")),
        ("language <asr_text>x", None, ("", "x")),
        ("   ", None, ("", "")),
        (None, "English", ("", "")),
    ],
)
def test_parse_asr_output(
    raw: str | None, user_language: str | None, parsed: tuple[str, str]
) -> None:
    assert parse_asr_output(raw, user_language) == parsed


def test_parse_cuts_a_repetition_loop() -> None:
    language, text = parse_asr_output("language English<asr_text>" + "ha" * 40)
    assert (language, text) == ("English", "ha")


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("a" * 21, "a"),  # a run longer than the threshold
        ("a" * 20, "a" * 20),  # exactly the threshold, too short to search for loops
        # ... unless 2 * threshold characters follow its start
        ("a" * 20 + "bcdefghijklmnopqrstu", "abcdefghijklmnopqrstu"),
        ("xy" + "abc" * 20 + "z", "xyabcz"),
        ("abc" * 19 + "z", "abc" * 19 + "z"),
        ("就是" * 25 + "好", "就是好"),
    ],
)
def test_fix_repetitions_examples(text: str, fixed: str) -> None:
    assert fix_repetitions(text) == fixed


@given(st.text(max_size=80), st.integers(1, 25))
def test_fix_repetitions_never_lengthens(text: str, threshold: int) -> None:
    assert len(fix_repetitions(text, threshold)) <= len(text)


@given(st.lists(st.characters(), unique=True, max_size=60).map("".join), st.integers(2, 25))
def test_text_without_repeats_is_untouched(text: str, threshold: int) -> None:
    assert fix_repetitions(text, threshold) == text


def test_threshold_must_be_positive() -> None:
    with pytest.raises(InvalidInputError, match="threshold"):
        fix_repetitions("aaa", 0)


@pytest.mark.parametrize(
    ("raw", "trimmed"),
    [
        ("language English<asr_text>" + "ha " * 40, True),
        ("language English<asr_text>" + "a" * 60, True),
        ("language English<asr_text>hello world", False),
        ("", False),
        (None, False),
    ],
)
def test_repetition_trimmed_says_when_the_parser_cuts_a_loop(
    raw: str | None, trimmed: bool
) -> None:
    assert repetition_trimmed(raw) is trimmed
    if raw:
        assert (parse_asr_output(raw)[1] != raw.split("<asr_text>")[1].strip()) is trimmed
