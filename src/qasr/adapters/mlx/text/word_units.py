"""The units the forced aligner times: words as `Qwen3ForceAlignProcessor` splits them.

A unit keeps only letters, digits and apostrophes (so "Hello," is timed as "Hello"). Most
languages split on whitespace, with every CJK ideograph its own unit, so Chinese is timed
character by character and "AI模型" gives "AI", "模", "型". Japanese is cut into words by nagisa
and Korean by soynlp's L-tokenizer with the official word list; both packages are the
`aligner-cjk` extra and are imported only when such text comes. As in the reference, Chinese
text goes through the whitespace rule (its `tokenize_chinese_mixed` is never called).
"""

from __future__ import annotations

import functools
import importlib.util
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qasr.domain import Language, find_language
from qasr.errors import FeatureUnavailableError, MissingExtraError

KOREAN_DICT_NAME = "korean_dict_jieba.dict"

# The reference's ranges: CJK Unified Ideographs, Extensions A-E, Compatibility Ideographs.
# Kana and Hangul are not among them, so Japanese and Korean need their own splitters.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
)


def is_kept_char(char: str) -> bool:
    """Letters, digits and the apostrophe belong to a unit; everything else is dropped."""
    return char == "'" or unicodedata.category(char)[0] in "LN"


def clean_word(word: str) -> str:
    return "".join(char for char in word if is_kept_char(char))


def is_cjk_ideograph(char: str) -> bool:
    code = ord(char)
    return any(first <= code <= last for first, last in _CJK_RANGES)


def _split_ideographs(word: str) -> list[str]:
    units: list[str] = []
    pending = ""
    for char in word:
        if is_cjk_ideograph(char):
            if pending:
                units.append(pending)
                pending = ""
            units.append(char)
        else:
            pending += char
    if pending:
        units.append(pending)
    return units


def split_on_whitespace(text: str) -> list[str]:
    """The reference's `tokenize_space_lang`: whitespace words, cleaned, ideographs apart."""
    units: list[str] = []
    for word in text.split():
        units.extend(_split_ideographs(clean_word(word)))
    return units


def split_japanese(text: str) -> list[str]:
    tagging = _nagisa_tagging()
    return [unit for unit in map(clean_word, tagging(text).words) if unit]


def split_korean(text: str) -> list[str]:
    tokenize = _korean_tokenizer()
    return [unit for unit in map(clean_word, tokenize(text)) if unit]


def _language_name(language: str | Language | None) -> str:
    if language is None or language == "":
        return ""
    return find_language(language).prompt_name.lower()


def split_words(text: str, language: str | Language | None = None) -> list[str]:
    """The units of `text` that the aligner gives one (start, end) pair each, in text order."""
    name = _language_name(language)
    if name == "japanese":
        return split_japanese(text)
    if name == "korean":
        return split_korean(text)
    return split_on_whitespace(text)


@functools.cache
def _nagisa_tagging() -> Callable[[str], Any]:
    try:
        import nagisa
    except ImportError as error:
        raise MissingExtraError("nagisa", "aligner-cjk", "Word timestamps for Japanese") from error
    tagging: Callable[[str], Any] = nagisa.tagging
    return tagging


@functools.cache
def _korean_tokenizer() -> Callable[[str], list[str]]:
    try:
        from soynlp.tokenizer import LTokenizer
    except ImportError as error:
        raise MissingExtraError("soynlp", "aligner-cjk", "Word timestamps for Korean") from error
    # Every listed word scores 1.0, as in the reference: the tokenizer then cuts each
    # whitespace word after its longest listed prefix.
    scores = {word: 1.0 for word in korean_word_list()}
    tokenizer = LTokenizer(scores=scores)
    return tokenizer.tokenize  # type: ignore[no-any-return]


def korean_dict_path() -> Path:
    """Where the official Korean word list is: shipped with qasr, or in an installed qwen-asr."""
    shipped = Path(__file__).with_name("assets") / KOREAN_DICT_NAME
    if shipped.is_file():
        return shipped
    spec = importlib.util.find_spec("qwen_asr")  # finds the package without importing torch
    if spec is not None and spec.origin:
        official = Path(spec.origin).parent / "inference" / "assets" / KOREAN_DICT_NAME
        if official.is_file():
            return official
    raise FeatureUnavailableError(
        f"word timestamps for Korean need the official Korean word list ({KOREAN_DICT_NAME}), "
        f"which is neither in {shipped.parent} nor in an installed qwen-asr: pip install qwen-asr"
    )


def korean_word_list(path: Path | None = None) -> list[str]:
    words = []
    with (path or korean_dict_path()).open(encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if fields:
                words.append(fields[0])
    return words


__all__ = [
    "KOREAN_DICT_NAME",
    "clean_word",
    "is_cjk_ideograph",
    "is_kept_char",
    "korean_dict_path",
    "korean_word_list",
    "split_japanese",
    "split_korean",
    "split_on_whitespace",
    "split_words",
]
