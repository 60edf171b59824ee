"""Words as shown: punctuation put back from the transcript text, speakers attached."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from qasr.adapters.writers.words import restore_punctuation, transcript_words
from qasr.domain import Segment, SpeakerSpan, Transcript


def aligner_words(text: str) -> list[str]:
    """Words as the official aligner cuts a spaced language: whitespace-separated, then only
    letters, digits and apostrophes kept ("e-mail" is timed as "email")."""
    cleaned = (
        "".join(c for c in token if c == "'" or unicodedata.category(c)[0] in "LN")
        for token in text.split()
    )
    return [word for word in cleaned if word]


def test_punctuation_returns_to_the_words_it_follows_and_opens() -> None:
    text = 'He said: "Stop!" (twice), then left.'
    restored = restore_punctuation(text, aligner_words(text))
    assert restored == [
        ("He", True),
        ("said:", True),
        ('"Stop!"', True),
        ("(twice),", True),
        ("then", True),
        ("left.", True),
    ]


def test_inner_punctuation_is_kept_within_the_word() -> None:
    text = "Send an e-mail to the U.S. office."
    words = ["Send", "an", "email", "to", "the", "US", "office"]
    assert [word for word, _ in restore_punctuation(text, words) or []] == [
        "Send", "an", "e-mail", "to", "the", "U.S.", "office.",
    ]  # fmt: skip


def test_chinese_keeps_its_spacing_and_fullwidth_punctuation() -> None:
    text = "我用Python写代码。“你好”，世界！"
    words = ["我", "用", "Python", "写", "代", "码", "你", "好", "世", "界"]
    restored = restore_punctuation(text, words)
    assert restored is not None
    assert "".join(word for word, _ in restored) == text
    assert [space for _, space in restored][1:] == [False] * 9
    assert restored[5][0] == "码。" and restored[6][0] == "“你" and restored[7][0] == "好”，"


def test_words_missing_from_the_text_give_none() -> None:
    assert restore_punctuation("hello world", ["hello", "there"]) is None
    assert restore_punctuation("hello world", ["world", "hello"]) is None


@given(st.text(max_size=60))
def test_no_character_of_the_text_is_lost_or_invented(text: str) -> None:
    words = aligner_words(text)
    assume(words)  # with no word there is nothing to attach punctuation to
    restored = restore_punctuation(text, words)
    assert restored is not None
    rebuilt = "".join(word for word, _ in restored)
    assert "".join(rebuilt.split()) == "".join(text.split())


def test_transcript_words_fall_back_to_segments_with_cjk_joining() -> None:
    transcript = Transcript(
        "something else entirely",
        segments=[Segment("你", 0, 0.2), Segment("好", 0.2, 0.4), Segment("ok", 0.4, 0.6)],
    )
    words = transcript_words(transcript)
    assert [(word.text, word.space_before) for word in words] == [
        ("你", True),
        ("好", False),
        ("ok", True),
    ]


def test_each_word_gets_the_speaker_it_overlaps_most_or_the_nearest() -> None:
    transcript = Transcript(
        "one two three four",
        segments=[
            Segment("one", 0.0, 0.5),
            Segment("two", 0.9, 1.3),  # 0.1 s in A, 0.3 s in B
            Segment("three", 5.0, 5.2),  # in no turn; B ended nearer than C starts
            Segment("four", 9.0, 9.0),  # zero length, inside C
        ],
        speakers=[
            SpeakerSpan("A", 0.0, 1.0),
            SpeakerSpan("B", 1.0, 4.5),
            SpeakerSpan("C", 6.0, 10.0),
        ],
    )
    assert [word.speaker for word in transcript_words(transcript)] == ["A", "B", "B", "C"]


def test_empty_segments_are_not_shown() -> None:
    transcript = Transcript(
        "a b", segments=[Segment("a", 0, 1), Segment(" ", 1, 2), Segment("b", 2, 3)]
    )
    assert [word.text for word in transcript_words(transcript)] == ["a", "b"]


@pytest.fixture(scope="module")
def official_processor() -> Any:
    """The official aligner's text side: how it cuts text into the words it times."""
    pytest.importorskip("torch")
    aligner = pytest.importorskip("qwen_asr.inference.qwen3_forced_aligner")
    return aligner.Qwen3ForceAlignProcessor()


@pytest.mark.parity
@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("English", 'He said: "Stop!" (twice) - then e-mail the U.S. office, at 3:30pm.'),
        ("Chinese", "我用Python写代码。“你好”，世界！"),
        ("Japanese", "今日は、いい天気ですね。「はい」"),
        ("German", "Straße, Größe! „Zitat“ – Ende."),
        ("Korean", "안녕하세요, 반갑습니다. 학교에 갑니다!"),
    ],
)
def test_the_official_aligner_words_are_all_found_again(
    official_processor: Any, language: str, text: str
) -> None:
    words, _ = official_processor.encode_timestamp(text, language)
    restored = restore_punctuation(text, words)
    assert restored is not None
    assert "".join(word for word, _ in restored).replace(" ", "") == text.replace(" ", "")
