"""The Qwen3-ASR prompt, and the parsing of what the model writes back.

The prompt is what the checkpoint's chat template renders for a system message holding the
context and a user message holding one audio, plus the generation prompt; the processor then
repeats `<|audio_pad|>` once per audio token. Forcing a language appends `language X<asr_text>`,
so the model writes only the text. Without it the model writes `language X<asr_text>text`, or
`language None<asr_text>` for silence.

`parse_asr_output` and `fix_repetitions` reproduce `qwen_asr.inference.utils.parse_asr_output`
and `detect_and_fix_repetitions` exactly, quirks included (see the tests against them).
"""

from __future__ import annotations

import itertools
from typing import Protocol

from qasr.domain import Language, find_language
from qasr.errors import CheckpointError, InvalidInputError

AUDIO_START = "<|audio_start|>"
AUDIO_PAD = "<|audio_pad|>"
AUDIO_END = "<|audio_end|>"
ASR_TEXT_TAG = "<asr_text>"
LANGUAGE_PREFIX = "language "
REPETITION_THRESHOLD = 20
_MAX_PATTERN_CHARS = 20


class TextEncoder(Protocol):
    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, with special tokens such as `<|im_start|>` as single ids."""
        ...


def _prompt_parts(context: str, language: str | Language | None) -> tuple[str, str]:
    head = f"<|im_start|>system\n{context}<|im_end|>\n<|im_start|>user\n{AUDIO_START}"
    tail = f"{AUDIO_END}<|im_end|>\n<|im_start|>assistant\n"
    if language:  # the reference ignores an empty language, as it does None
        tail += f"{LANGUAGE_PREFIX}{find_language(language).prompt_name}{ASR_TEXT_TAG}"
    return head, tail


def build_prompt(
    context: str = "", language: str | Language | None = None, *, n_audio_tokens: int
) -> str:
    """The prompt text for one clip of `n_audio_tokens` audio tokens.

    `language` is forced by its prompt name (aliases and dialects resolve to the name the model
    was trained with, so "en" forces English and "Sichuan" forces Chinese).
    """
    if n_audio_tokens < 0:
        raise InvalidInputError(f"n_audio_tokens must be >= 0, got {n_audio_tokens}")
    head, tail = _prompt_parts(context, language)
    return head + AUDIO_PAD * n_audio_tokens + tail


def build_prompt_ids(
    tokenizer: TextEncoder,
    context: str = "",
    language: str | Language | None = None,
    *,
    n_audio_tokens: int,
) -> list[int]:
    """`tokenizer.encode(build_prompt(...))` without tokenizing thousands of audio pads.

    Special tokens split BPE, so encoding the text around the pads separately is the same.
    """
    if n_audio_tokens < 0:
        raise InvalidInputError(f"n_audio_tokens must be >= 0, got {n_audio_tokens}")
    pad = tokenizer.encode(AUDIO_PAD)
    if len(pad) != 1:
        raise CheckpointError(
            f"the tokenizer splits {AUDIO_PAD} into {len(pad)} tokens; it must be one special "
            "token: is tokenizer_config.json from a Qwen3-ASR checkpoint?"
        )
    head, tail = _prompt_parts(context, language)
    return tokenizer.encode(head) + pad * n_audio_tokens + tokenizer.encode(tail)


def fix_repetitions(text: str, threshold: int = REPETITION_THRESHOLD) -> str:
    """Cut repetition loops: a run of more than `threshold` equal characters becomes one, then
    the first substring (1-20 characters) repeated `threshold`+ times in a row becomes one
    copy, and so on for the rest of the text.

    As in the reference, the loop search only starts at positions with at least
    2 * threshold characters left, so runs of exactly `threshold` characters collapse too
    unless they sit near the end.
    """
    if threshold < 1:
        raise InvalidInputError(f"repetition threshold must be at least 1, got {threshold}")
    return _collapse_loops(_collapse_runs(text, threshold), threshold)


def _collapse_runs(text: str, threshold: int) -> str:
    pieces = []
    for char, run in itertools.groupby(text):
        length = sum(1 for _ in run)
        pieces.append(char if length > threshold else char * length)
    return "".join(pieces)


def _collapse_loops(text: str, threshold: int) -> str:
    pieces = []
    rest = text
    while len(rest) >= 2 * threshold:
        loop = _first_loop(rest, threshold)
        if loop is None:
            break
        start, pattern, end = loop
        pieces += [rest[:start], pattern]
        rest = rest[end:]
    pieces.append(rest)
    return "".join(pieces)


def _first_loop(text: str, threshold: int) -> tuple[int, str, int] | None:
    """(start, pattern, end) of the first `threshold`-fold repetition, extended greedily."""
    n = len(text)
    for start in range(n - 2 * threshold + 1):
        for size in range(1, _MAX_PATTERN_CHARS + 1):
            if start + size * threshold > n:
                break
            pattern = text[start : start + size]
            repeats = (text[start + r * size : start + (r + 1) * size] for r in range(threshold))
            if all(copy == pattern for copy in repeats):
                end = start + threshold * size
                while end + size <= n and text[end : end + size] == pattern:
                    end += size
                return start, pattern, end
    return None


def repetition_trimmed(raw: str | None) -> bool:
    """Whether `parse_asr_output` cuts a repetition loop out of this raw output."""
    text = "" if raw is None else str(raw).strip()
    return bool(text) and fix_repetitions(text) != text


def _canonical_name(name: str) -> str:
    """The reference's `normalize_language_name`: 'cHINese' -> 'Chinese'."""
    return name[:1].upper() + name[1:].lower()


def parse_asr_output(raw: str | None, user_language: str | None = None) -> tuple[str, str]:
    """Split the model's raw text into (language, text); ("", "") for silence.

    With `user_language` (the language was forced) the whole output is text. Otherwise the part
    before `<asr_text>` names the language on its first line that starts with "language" (other
    lines before it are skipped, as the official parser skips them); "language None" means
    no speech; no tag at all means the whole output is text in an unknown language. The
    language is capitalised as the model wrote it, not checked against the supported list.
    """
    if raw is None:
        return "", ""
    text = str(raw).strip()
    if not text:
        return "", ""
    text = fix_repetitions(text)
    if user_language:
        return user_language, text
    if ASR_TEXT_TAG not in text:
        return "", text.strip()
    meta, transcript = text.split(ASR_TEXT_TAG, 1)
    if "language none" in meta.lower():
        return "", transcript.strip()
    language = ""
    for line in meta.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.lower().startswith(LANGUAGE_PREFIX):
            name = line[len(LANGUAGE_PREFIX) :].strip()
            if name:
                language = _canonical_name(name)
            break
    return language, transcript.strip()


__all__ = [
    "ASR_TEXT_TAG",
    "AUDIO_END",
    "AUDIO_PAD",
    "AUDIO_START",
    "REPETITION_THRESHOLD",
    "TextEncoder",
    "build_prompt",
    "build_prompt_ids",
    "fix_repetitions",
    "parse_asr_output",
    "repetition_trimmed",
]
