"""The native Qwen tokenizer: BPE, added tokens, decoding, streaming and file errors.

Most tests use a tiny byte-level vocabulary (milliseconds); the last ones load the real Qwen
vocabulary built by `tests/support/qwen_vocab.py`. Equality with Hugging Face and tiktoken on a
large corpus is in `test_tokenizer_parity.py`.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.text.tokenizer import (
    AddedToken,
    Tokenizer,
    byte_alphabet,
    pretokenizer,
)
from qasr.errors import CheckpointError, InvalidInputError

ALPHABET = byte_alphabet()
TINY_MERGES = [("l", "l"), ("h", "e"), ("he", "ll"), ("hell", "o"), ("Ġ", "w"), ("Ġw", "o")]
TINY_ADDED = [
    AddedToken(1000, "<|end|>", special=True),
    AddedToken(1001, "<tag>", special=False),
    AddedToken(1002, "<tag>x", special=True),
]


def tiny_vocab() -> dict[str, int]:
    vocab = {symbol: byte for byte, symbol in enumerate(ALPHABET)}
    for left, right in TINY_MERGES:
        vocab[left + right] = len(vocab)
    return vocab


@pytest.fixture(scope="module")
def tiny() -> Tokenizer:
    return Tokenizer(tiny_vocab(), TINY_MERGES, TINY_ADDED, eos_token="<|end|>")


def write_tiny_folder(folder: Path) -> Path:
    (folder / "vocab.json").write_text(json.dumps(tiny_vocab()), encoding="utf-8")
    merges = "".join(f"{left} {right}\n" for left, right in TINY_MERGES)
    (folder / "merges.txt").write_text("#version: 0.2\n" + merges, encoding="utf-8")
    decoder = {
        str(token.id): {"content": token.content, "special": token.special} for token in TINY_ADDED
    }
    config = {"added_tokens_decoder": decoder, "eos_token": "<|end|>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def split(text: str) -> list[str]:
    return pretokenizer().findall(text)


# --- the byte alphabet and the pre-tokenizer -------------------------------------------------


def test_byte_alphabet_is_one_visible_character_per_byte() -> None:
    assert len(set(ALPHABET)) == 256
    assert ALPHABET[ord("a")] == "a" and ALPHABET[ord(" ")] == "Ġ" and ALPHABET[ord("\n")] == "Ċ"
    assert all(not symbol.isspace() and symbol.isprintable() for symbol in ALPHABET)


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("Hello world", ["Hello", " world"]),
        ("2024 was", ["2", "0", "2", "4", " was"]),  # \p{N} takes one digit at a time
        ("they'RE here", ["they", "'RE", " here"]),  # contractions are case-insensitive
        ("a  b", ["a", " ", " b"]),  # \s+(?!\S) leaves the last space to the word
        ("x\r\n\ty", ["x", "\r\n", "\ty"]),  # one non-letter may lead a word
        ("!!?\n\nok", ["!!?\n\n", "ok"]),
        ("你好，世界", ["你好", "，世界"]),
        ("\x1c\x1fz", ["\x1c\x1f", "z"]),  # not whitespace for Oniguruma, unlike Python's \s
    ],
)
def test_pretokenizer_follows_the_qwen_pattern(text: str, pieces: list[str]) -> None:
    assert split(text) == pieces


@given(st.text())
def test_pretokenizer_pieces_cover_the_text(text: str) -> None:
    assert "".join(split(text)) == text


# --- BPE and added tokens --------------------------------------------------------------------


def test_bpe_applies_merges_in_rank_order(tiny: Tokenizer) -> None:
    vocab = tiny_vocab()
    assert tiny.encode("hello") == [vocab["hello"]]
    assert tiny.encode("hel") == [vocab["he"], vocab["l"]]
    assert tiny.encode(" wo") == [vocab["Ġwo"]]
    assert tiny.encode("é") == [0xC3, 0xA9]  # unmerged bytes are the byte symbols' ids


def test_added_tokens_match_whole_and_longest_first(tiny: Tokenizer) -> None:
    vocab = tiny_vocab()
    assert tiny.encode("<tag>xhello<|end|>") == [1002, vocab["hello"], 1000]
    assert tiny.encode("<tag>hello") == [1001, vocab["hello"]]
    assert tiny.encode("<|end") == [ord(char) for char in "<|end"]


def test_text_is_nfc_normalised_between_added_tokens(tiny: Tokenizer) -> None:
    assert tiny.encode("e\u0301") == tiny.encode("é")
    # NFC would fuse ">" and U+0338 into "≯"; an added token is matched on the raw text first.
    assert tiny.encode("<|end|>\u0338") == [1000, *tiny.encode("\u0338")]


def test_lone_surrogate_is_a_clear_error(tiny: Tokenizer) -> None:
    with pytest.raises(InvalidInputError, match="surrogate"):
        tiny.encode("ok\ud800")


@settings(max_examples=300)
@given(st.text())
def test_decode_inverts_encode_up_to_nfc(text: str) -> None:
    tokenizer = Tokenizer(tiny_vocab(), TINY_MERGES, TINY_ADDED)
    assert tokenizer.decode(tokenizer.encode(text)) == unicodedata.normalize("NFC", text)


# --- decoding --------------------------------------------------------------------------------


def test_skip_special_tokens_drops_only_special_added_tokens(tiny: Tokenizer) -> None:
    ids = tiny.encode("<tag>hello<|end|><tag>x")
    assert tiny.decode(ids) == "<tag>hello<|end|><tag>x"
    assert tiny.decode(ids, skip_special_tokens=True) == "<tag>hello"


def test_unknown_ids_are_skipped_and_bad_utf8_is_replaced(tiny: Tokenizer) -> None:
    assert tiny.decode([ord("a"), 99_999, ord("b")]) == "ab"
    assert tiny.decode([0xE4, 0xBD, ord("a")]) == "\ufffda"


def test_lookups_and_stop_ids(tiny: Tokenizer) -> None:
    assert tiny.token_to_id("<|end|>") == 1000 and tiny.id_to_token(1000) == "<|end|>"
    assert tiny.token_to_id("Ġwo") == tiny_vocab()["Ġwo"] and tiny.token_to_id("nope") is None
    assert tiny.id_to_token(99_999) is None
    assert tiny.vocab_size == 256 + len(TINY_MERGES) + len(TINY_ADDED)
    assert tiny.special_ids == {1000, 1002}
    assert tiny.eos_ids == {1000}


token_ids = st.lists(st.integers(0, 255) | st.sampled_from([256, 259, 1000, 1001, 5000]))


@given(ids=token_ids, data=st.data())
def test_streaming_equals_full_decode_for_any_split(ids: list[int], data: st.DataObject) -> None:
    tokenizer = Tokenizer(tiny_vocab(), TINY_MERGES, TINY_ADDED)
    skip = data.draw(st.booleans())
    stream = tokenizer.streaming_decoder(skip_special_tokens=skip)
    pieces = [stream.feed(token_id) for token_id in ids]
    assert "".join(pieces) + stream.flush() == tokenizer.decode(ids, skip_special_tokens=skip)


def test_streaming_holds_back_a_split_character(tiny: Tokenizer) -> None:
    stream = tiny.streaming_decoder()
    first, second, third = "你".encode()
    assert [stream.feed(first), stream.feed(second), stream.feed(third)] == ["", "", "你"]
    assert stream.feed(first) == "" and stream.flush() == "\ufffd"
    assert stream.feed(ord("a")) == "a"  # flush restarts the decoder


# --- files -----------------------------------------------------------------------------------


def test_from_folder_reads_the_three_files(tmp_path: Path, tiny: Tokenizer) -> None:
    loaded = Tokenizer.from_folder(write_tiny_folder(tmp_path))
    text = "<tag>xhello world<|end|>é"
    assert loaded.encode(text) == tiny.encode(text)
    assert loaded.special_ids == tiny.special_ids and loaded.eos_ids == {1000}


def test_from_folder_reads_a_tokenizer_json(tmp_path: Path, tiny: Tokenizer) -> None:
    document = {
        "model": {"type": "BPE", "vocab": tiny_vocab(), "merges": [list(m) for m in TINY_MERGES]},
        "added_tokens": [
            {"id": token.id, "content": token.content, "special": token.special}
            for token in TINY_ADDED
        ],
    }
    (tmp_path / "tokenizer.json").write_text(json.dumps(document), encoding="utf-8")
    text = "<tag>xhello world<|end|>"
    assert Tokenizer.from_folder(tmp_path).encode(text) == tiny.encode(text)


@pytest.mark.parametrize("name", ["vocab.json", "merges.txt", "tokenizer_config.json"])
def test_a_missing_file_is_named(tmp_path: Path, name: str) -> None:
    (write_tiny_folder(tmp_path) / name).unlink()
    with pytest.raises(CheckpointError, match=name):
        Tokenizer.from_folder(tmp_path)


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        Tokenizer.from_folder(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vocab.json", '{"a": 1', "vocab.json is not valid JSON"),
        ("vocab.json", "[1, 2]", "not a token-to-id object"),
        ("vocab.json", '{"a": 0}', "lacks 255 of the 256 byte symbols"),
        ("merges.txt", "#version: 0.2\nh e l\n", "merges.txt line 2"),
        ("merges.txt", "q z\n", "merge 1"),
        ("tokenizer_config.json", '{"added_tokens_decoder": {"x": {}}}', "added_tokens_decoder"),
    ],
)
def test_a_corrupt_file_is_named(tmp_path: Path, name: str, content: str, message: str) -> None:
    (write_tiny_folder(tmp_path) / name).write_text(content, encoding="utf-8")
    with pytest.raises(CheckpointError, match=message):
        Tokenizer.from_folder(tmp_path)


# --- the real Qwen vocabulary ----------------------------------------------------------------


@pytest.fixture(scope="module")
def qwen(tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    return Tokenizer.from_folder(write_qwen_tokenizer_files(tmp_path_factory.mktemp("qwen")))


def test_real_vocabulary_gives_the_published_qwen_ids(qwen: Tokenizer) -> None:
    prompt = (
        "<|im_start|>system\n<|im_end|>\n<|im_start|>user\n"
        "<|audio_start|><|audio_pad|><|audio_end|><|im_end|>\n<|im_start|>assistant\n"
        "language English<asr_text>Hello world"
    )
    assert qwen.encode(prompt) == [
        151644, 8948, 198, 151645, 198, 151644, 872, 198,
        151669, 151676, 151670, 151645, 198, 151644, 77091, 198,
        11528, 6364, 151704, 9707, 1879,
    ]  # fmt: skip
    assert qwen.vocab_size == 151_705 and qwen.eos_ids == {151643, 151645}
    assert qwen.token_to_id("<asr_text>") not in qwen.special_ids
    assert qwen.decode([151645, 11528, 151704, 9707], skip_special_tokens=True) == (
        "language<asr_text>Hello"
    )


def test_aligner_files_add_the_timestamp_token(tmp_path: Path) -> None:
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    aligner = Tokenizer.from_folder(write_qwen_tokenizer_files(tmp_path, aligner=True))
    assert aligner.encode("hi<timestamp><timestamp>") == [*aligner.encode("hi"), 151705, 151705]
    assert aligner.vocab_size == 151_706
