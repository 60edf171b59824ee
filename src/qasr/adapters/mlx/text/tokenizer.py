"""The Qwen byte-level BPE tokenizer, in pure Python (docs/adr/0005-native-tokenizer.md).

It gives the ids of the official `Qwen2TokenizerFast` (Hugging Face `tokenizers`) without needing
`transformers` or `tokenizers` at run time: added tokens are split out first (leftmost, longest
first), the rest is NFC-normalised, cut by Qwen's pre-tokenizer regex, mapped to GPT-2's byte
alphabet and merged by the ranks of `merges.txt`.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import attrs

from qasr.errors import CheckpointError, InvalidInputError

# Hugging Face `tokenizers` runs this pattern with Oniguruma, whose \s is the Unicode White_Space
# property (Python's `re` \s also matches U+001C-U+001F) and whose \p{L}/\p{N} follow Unicode 16.
# Python's `re` has no \p{..}: the classes are built from `unicodedata` (Unicode 13.0 on Python
# 3.10) plus the letters and digits that Unicode 14.0-16.0 added, measured against Oniguruma.
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NEWER_LETTERS = """
870-887 889-88E 8B5 8C8-8C9 C5D CDD 170D 171F 1B4C 1C89-1C8A 2C2F 2C5F 9FFD-9FFF A7C0-A7C1
A7CB-A7CD A7D0-A7D1 A7D3 A7D5-A7DC A7F2-A7F4 10570-1057A 1057C-1058A 1058C-10592
10594-10595 10597-105A1 105A3-105B1 105B3-105B9 105BB-105BC 105C0-105F3 10780-10785
10787-107B0 107B2-107BA 10D4A-10D65 10D6F-10D85 10EC2-10EC4 10F70-10F81 11071-11072 11075
1123F-11240 11380-11389 1138B 1138E 11390-113B5 113B7 113D1 113D3 11740-11746 11AB0-11ABF
11BC0-11BE0 11F02 11F04-11F10 11F12-11F33 12F90-12FF0 1342F 13441-13446 13460-143FA
16100-1611D 16A70-16ABE 16D40-16D6C 18CFF 1AFF0-1AFF3 1AFF5-1AFFB 1AFFD-1AFFE 1B11F-1B122
1B132 1B155 1DF00-1DF1E 1DF25-1DF2A 1E030-1E06D 1E290-1E2AD 1E4D0-1E4EB 1E5D0-1E5ED 1E5F0
1E7E0-1E7E6 1E7E8-1E7EB 1E7ED-1E7EE 1E7F0-1E7FE 2A6DE-2A6DF 2B735-2B739 2EBF0-2EE5D
31350-323AF
"""
_NEWER_DIGITS = """
10D40-10D49 116D0-116E3 11BF0-11BF9 11F50-11F59 16130-16139 16AC0-16AC9 16D70-16D79
1CCF0-1CCF9 1D2C0-1D2D3 1E4F0-1E4F9 1E5F1-1E5FA
"""
_WORD_CACHE_LIMIT = 50_000


def _parse_ranges(table: str) -> list[tuple[int, int]]:
    ranges = []
    for item in table.split():
        first, _, last = item.partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    return ranges


def _class_body(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(
        f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}"
        for first, last in ranges
    )


def _one_of(ranges: Sequence[tuple[int, int]]) -> str:
    """A regex for one character in `ranges`. `re` tests characters above U+FFFF against a set's
    ranges one by one, so those go behind a cheap guard: 4x faster on text that is mostly BMP."""
    basic = [(first, min(last, 0xFFFF)) for first, last in ranges if first <= 0xFFFF]
    astral = [(max(first, 0x10000), last) for first, last in ranges if last > 0xFFFF]
    if not astral:
        return f"[{_class_body(basic)}]"
    return rf"(?:[{_class_body(basic)}]|(?=[\U00010000-\U0010ffff])[{_class_body(astral)}])"


@lru_cache(maxsize=1)
def letter_and_digit_ranges() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Code point ranges of \\p{L} and \\p{N} as Oniguruma (Unicode 16) has them; one scan of
    the code space, ~0.3 s."""
    letters: list[tuple[int, int]] = _parse_ranges(_NEWER_LETTERS)
    digits: list[tuple[int, int]] = _parse_ranges(_NEWER_DIGITS)
    current, start = "", 0
    for code in range(0x110001):
        major = unicodedata.category(chr(code))[0] if code <= 0x10FFFF else ""
        if major != current:
            if current == "L":
                letters.append((start, code - 1))
            elif current == "N":
                digits.append((start, code - 1))
            current, start = major, code
    return sorted(letters), sorted(digits)


@lru_cache(maxsize=1)
def pretokenizer() -> re.Pattern[str]:
    r"""Qwen's split pattern with \p{L}, \p{N} and \s spelled out as explicit classes:
    (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*
    |\s*[\r\n]+|\s+(?!\S)|\s+   (\p{N} takes one digit at a time)."""
    letters, digits = letter_and_digit_ranges()
    letter, digit = _one_of(letters), _one_of(digits)
    letter_or_digit = _one_of(sorted(letters + digits))
    space = f"[{_WHITESPACE}]"
    return re.compile(
        rf"(?i:'s|'t|'re|'ve|'m|'ll|'d)|(?:(?!{letter_or_digit})[^\r\n])?{letter}+|{digit}"
        rf"| ?(?:(?!{letter_or_digit})[^{_WHITESPACE}])+[\r\n]*|{space}*[\r\n]+"
        rf"|{space}+(?![^{_WHITESPACE}])|{space}+"
    )


@lru_cache(maxsize=1)
def byte_alphabet() -> tuple[str, ...]:
    """GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the other 68
    move to U+0100 onwards, so every byte is one visible character in `vocab.json`."""
    kept = {*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)}
    moved = iter(range(0x100, 0x200))
    return tuple(chr(byte) if byte in kept else chr(next(moved)) for byte in range(256))


@attrs.frozen
class AddedToken:
    """A token matched as a whole string before BPE (`<|im_end|>`, `<asr_text>`...). `special`
    tokens are dropped by `decode(..., skip_special_tokens=True)`."""

    id: int
    content: str
    special: bool = True


class Tokenizer:
    """Qwen2/Qwen3 byte-level BPE with the ids of Hugging Face's `Qwen2TokenizerFast`."""

    def __init__(
        self,
        vocab: Mapping[str, int],
        merges: Sequence[tuple[str, str]],
        added_tokens: Iterable[AddedToken] = (),
        eos_token: str | None = None,
    ) -> None:
        alphabet = byte_alphabet()
        missing = [symbol for symbol in alphabet if symbol not in vocab]
        if missing:
            raise CheckpointError(
                f"the vocabulary lacks {len(missing)} of the 256 byte symbols (first "
                f"{missing[0]!r}): it is not byte-level BPE; use the checkpoint's own vocab.json"
            )
        for line, (left, right) in enumerate(merges, start=1):
            if left not in vocab or right not in vocab or left + right not in vocab:
                raise CheckpointError(
                    f"merge {line} ({left!r} {right!r}) uses or makes a token missing from the "
                    "vocabulary: vocab.json and merges.txt come from different tokenizers"
                )
        self._vocab = dict(vocab)
        self._merge_ranks = {pair: rank for rank, pair in enumerate(merges)}
        self._added = {token.content: token for token in added_tokens if token.content}
        self._tokens_by_id = {token_id: token for token, token_id in self._vocab.items()}
        self._tokens_by_id.update({token.id: token.content for token in self._added.values()})
        self._latin1_to_alphabet = str.maketrans("".join(map(chr, range(256))), "".join(alphabet))
        self._word_cache: dict[str, list[int]] = {}
        self._bytes_by_id: dict[int, bytes] | None = None
        # Hugging Face matches added tokens leftmost-longest; `re` alternation is leftmost-first,
        # so the longer contents go first.
        contents = sorted(self._added, key=len, reverse=True)
        self._added_pattern = re.compile("|".join(map(re.escape, contents))) if contents else None
        self._split = pretokenizer()
        # Qwen chat models stop at <|im_end|> (the config's eos_token) and at <|endoftext|>.
        stop_tokens = [token for token in (eos_token, "<|endoftext|>") if token is not None]
        self.eos_ids = frozenset(
            token_id for token in stop_tokens if (token_id := self.token_to_id(token)) is not None
        )
        self.special_ids = frozenset(t.id for t in self._added.values() if t.special)

    @classmethod
    def from_folder(cls, folder: str | Path) -> Tokenizer:
        """Read `vocab.json`, `merges.txt` and `tokenizer_config.json` (or `tokenizer.json`)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise CheckpointError(f"tokenizer folder {folder} does not exist")
        config_path = folder / "tokenizer_config.json"
        config = _read_json(config_path) if config_path.is_file() else {}
        if (folder / "vocab.json").is_file() or not (folder / "tokenizer.json").is_file():
            for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
                if not (folder / name).is_file():
                    raise CheckpointError(
                        f"{folder / name} is missing: a Qwen3-ASR folder needs vocab.json, "
                        "merges.txt and tokenizer_config.json; download the whole checkpoint"
                    )
            vocab = _read_json(folder / "vocab.json")
            merges = _read_merges(folder / "merges.txt")
            added = _added_from_config(config, config_path)
        else:
            vocab, merges, added = _read_tokenizer_json(folder / "tokenizer.json")
        if not isinstance(vocab, dict):
            raise CheckpointError(f"{folder / 'vocab.json'} is not a token-to-id object")
        eos = config.get("eos_token")
        if isinstance(eos, dict):  # older configs store AddedToken dicts here
            eos = eos.get("content")
        return cls(vocab, merges, added, eos_token=eos if isinstance(eos, str) else None)

    @property
    def vocab_size(self) -> int:
        """Ids it can encode or decode: the BPE vocabulary plus added tokens (HF `len(tok)`)."""
        return len(self._tokens_by_id)

    def token_to_id(self, token: str) -> int | None:
        """The id of an added token's content or of a vocabulary entry (byte-level form, `Ġhi`)."""
        added = self._added.get(token)
        return added.id if added is not None else self._vocab.get(token)

    def id_to_token(self, token_id: int) -> str | None:
        return self._tokens_by_id.get(token_id)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        start = 0
        if self._added_pattern is not None:
            for match in self._added_pattern.finditer(text):
                self._encode_ordinary(text[start : match.start()], ids)
                ids.append(self._added[match.group()].id)
                start = match.end()
        self._encode_ordinary(text[start:], ids)
        return ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        """Text of `ids`; invalid UTF-8 becomes U+FFFD, unknown ids are skipped (as HF does)."""
        return self.token_bytes(ids, skip_special_tokens).decode("utf-8", errors="replace")

    def token_bytes(self, ids: Iterable[int], skip_special_tokens: bool = False) -> bytes:
        table = self._bytes_table()
        skipped = self.special_ids if skip_special_tokens else frozenset()
        return b"".join(table.get(token_id, b"") for token_id in ids if token_id not in skipped)

    def streaming_decoder(self, skip_special_tokens: bool = False) -> StreamingDecoder:
        return StreamingDecoder(self, skip_special_tokens)

    def _encode_ordinary(self, text: str, ids: list[int]) -> None:
        if not text:
            return
        try:
            data = unicodedata.normalize("NFC", text)
            for piece in self._split.findall(data):
                word = piece.encode("utf-8").decode("latin-1").translate(self._latin1_to_alphabet)
                cached = self._word_cache.get(word)
                if cached is None:
                    cached = self._bpe(word)
                ids.extend(cached)
        except UnicodeEncodeError as error:
            surrogate = error.object[error.start : error.end]
            raise InvalidInputError(
                f"text has a lone surrogate {surrogate!r}; pass valid Unicode text"
            ) from error

    def _bpe(self, word: str) -> list[int]:
        symbols = list(word)
        ranks = self._merge_ranks
        while len(symbols) > 1:
            best_rank, best_at = len(ranks), -1
            for at in range(len(symbols) - 1):
                rank = ranks.get((symbols[at], symbols[at + 1]), best_rank)
                if rank < best_rank:
                    best_rank, best_at = rank, at
            if best_at < 0:
                break
            # Merging every occurrence of the best pair in one pass equals the one-at-a-time
            # priority queue of `tokenizers`: a new pair always ranks after the pair that made it.
            left, right = symbols[best_at], symbols[best_at + 1]
            merged, at = symbols[:best_at], best_at
            while at < len(symbols):
                if at + 1 < len(symbols) and symbols[at] == left and symbols[at + 1] == right:
                    merged.append(left + right)
                    at += 2
                else:
                    merged.append(symbols[at])
                    at += 1
            symbols = merged
        ids = [self._vocab[symbol] for symbol in symbols]
        if len(self._word_cache) >= _WORD_CACHE_LIMIT:
            self._word_cache.clear()
        self._word_cache[word] = ids
        return ids

    def _bytes_table(self) -> dict[int, bytes]:
        if self._bytes_by_id is None:
            symbols = "".join(byte_alphabet())
            to_latin1 = str.maketrans(symbols, "".join(map(chr, range(256))))
            other = re.compile(f"[^{re.escape(symbols)}]")
            # Like HF's ByteLevel decoder: a token whose characters are all byte symbols stands
            # for those bytes; any other token (added tokens, in practice) for its UTF-8.
            self._bytes_by_id = {
                token_id: token.encode("utf-8")
                if other.search(token)
                else token.translate(to_latin1).encode("latin-1")
                for token_id, token in self._tokens_by_id.items()
            }
        return self._bytes_by_id


class StreamingDecoder:
    """Text of ids fed one at a time; a UTF-8 character split over tokens comes out whole, once
    its last byte arrives. The pieces plus `flush()` equal `Tokenizer.decode` of all ids."""

    def __init__(self, tokenizer: Tokenizer, skip_special_tokens: bool = False) -> None:
        self._tokenizer = tokenizer
        self._skip_special_tokens = skip_special_tokens
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, token_id: int) -> str:
        data = self._tokenizer.token_bytes((token_id,), self._skip_special_tokens)
        return self._utf8.decode(data, final=False)

    def flush(self) -> str:
        """Text still held back (an unfinished character becomes U+FFFD); the decoder restarts."""
        text = self._utf8.decode(b"", final=True)
        self._utf8.reset()
        return text


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path} is not valid JSON ({error}); download it again") from error


def _read_merges(path: Path) -> list[tuple[str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise CheckpointError(f"{path} is not UTF-8 text; download it again") from error
    merges = []
    for number, line in enumerate(lines, start=1):
        if not line or (number == 1 and line.startswith("#version")):
            continue
        parts = line.split(" ")
        if len(parts) != 2:
            raise CheckpointError(f"{path} line {number} is not 'left right': {line[:40]!r}")
        merges.append((parts[0], parts[1]))
    return merges


def _added_from_config(config: dict[str, Any], path: Path) -> list[AddedToken]:
    entries = config.get("added_tokens_decoder", {})
    try:
        return [
            AddedToken(int(token_id), entry["content"], bool(entry.get("special", False)))
            for token_id, entry in entries.items()
        ]
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"{path} has a malformed added_tokens_decoder ({error!r}); download it again"
        ) from error


def _read_tokenizer_json(
    path: Path,
) -> tuple[dict[str, int], list[tuple[str, str]], list[AddedToken]]:
    data = _read_json(path)
    try:
        model = data["model"]
        if model.get("type", "BPE") != "BPE":
            raise CheckpointError(f"{path} holds a {model['type']} model, not byte-level BPE")
        merges = [
            tuple(merge.split(" ")) if isinstance(merge, str) else tuple(merge)
            for merge in model["merges"]
        ]
        added = [
            AddedToken(int(entry["id"]), entry["content"], bool(entry.get("special", False)))
            for entry in data.get("added_tokens", [])
        ]
        if any(len(merge) != 2 for merge in merges):
            raise ValueError("a merge is not a pair")
        return dict(model["vocab"]), merges, added  # type: ignore[return-value]
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path} is not a BPE tokenizer.json ({error!r})") from error
