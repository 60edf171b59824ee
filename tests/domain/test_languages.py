"""Language lookup: names, codes and aliases as people type them, and a helpful miss."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.domain import LANGUAGES, Language, LanguageKind, find_language, prompt_languages
from qasr.errors import UnknownLanguageError

OFFICIAL_SUPPORTED = [  # qwen_asr.inference.utils.SUPPORTED_LANGUAGES, in its order
    "Chinese", "English", "Cantonese", "Arabic", "German", "French", "Spanish", "Portuguese",
    "Indonesian", "Italian", "Korean", "Russian", "Thai", "Vietnamese", "Japanese", "Turkish",
    "Hindi", "Malay", "Dutch", "Swedish", "Danish", "Finnish", "Polish", "Czech", "Filipino",
    "Persian", "Greek", "Romanian", "Hungarian", "Macedonian",
]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("en", "English"),
        ("en-US", "English"),
        ("EN_us", "English"),
        ("english", "English"),
        ("  English ", "English"),
        ("zh-cn", "Chinese"),
        ("cmn", "Chinese"),
        ("Mandarin", "Chinese"),
        ("yue", "Cantonese"),
        ("pt-BR", "Portuguese"),
        ("fil", "Filipino"),
        ("de-LI", "German"),  # unknown region: falls back to the primary subtag
        ("zh-sichuan", "Sichuan"),
        ("hokkien", "Minnan"),
    ],
)
def test_names_codes_and_aliases_find_the_language(typed: str, expected: str) -> None:
    assert find_language(typed).name == expected


def test_the_prompt_languages_are_the_official_thirty_in_order() -> None:
    assert [language.name for language in prompt_languages()] == OFFICIAL_SUPPORTED


def test_there_are_twenty_two_dialects_each_forcing_a_prompt_language() -> None:
    dialects = [language for language in LANGUAGES if language.kind is LanguageKind.DIALECT]
    assert len(dialects) == 22
    assert {d.prompt_name for d in dialects} <= set(OFFICIAL_SUPPORTED)


def test_every_name_and_code_is_unique() -> None:
    assert len({language.name.lower() for language in LANGUAGES}) == len(LANGUAGES)
    assert len({language.code for language in LANGUAGES}) == len(LANGUAGES)


@given(st.sampled_from(LANGUAGES))
def test_lookup_round_trips_every_name_and_code(language: Language) -> None:
    assert find_language(language.name) == language
    assert find_language(language.code.upper()) == language
    assert find_language(language) is language


def test_a_close_miss_suggests_the_language() -> None:
    with pytest.raises(UnknownLanguageError, match=r"Did you mean: .*English") as caught:
        find_language("Englsh")
    assert "qasr --list-languages" in str(caught.value)


def test_a_far_miss_names_the_listing_but_guesses_nothing() -> None:
    with pytest.raises(UnknownLanguageError) as caught:
        find_language("Klingon-xx")
    assert "Did you mean" not in str(caught.value)
    assert "Klingon-xx" in str(caught.value)


def test_unknown_language_is_also_a_value_error() -> None:
    with pytest.raises(ValueError):
        find_language("nope")


@pytest.mark.parametrize(
    ("name", "spaceless"),
    [("Chinese", True), ("Japanese", True), ("Cantonese", True), ("Thai", True),
     ("Sichuan", True), ("English", False), ("Korean", False), ("Arabic", False)],
)  # fmt: skip
def test_spaceless_languages_are_the_ones_written_without_spaces(
    name: str, spaceless: bool
) -> None:
    assert find_language(name).is_spaceless is spaceless


def test_a_dialect_is_forced_through_its_parent() -> None:
    assert find_language("Cantonese (Hong Kong)").prompt_name == "Cantonese"
    assert find_language("Wu").prompt_name == "Chinese"
    assert find_language("German").prompt_name == "German"
    assert str(find_language("de")) == "German"
