"""A transcript from the model's raw output: the official parser's reading, and what qasr adds."""

from __future__ import annotations

from qasr.adapters.mlx.text.prompt import parse_asr_output, repetition_trimmed
from qasr.domain import (
    AudioClip,
    FinishReason,
    Language,
    RecognitionOptions,
    Transcript,
    find_language,
)
from qasr.errors import UnknownLanguageError


def known_language(name: str) -> Language | None:
    """The language the model named, or None: a weak model can write words where the name goes
    ("language English exercise me..."), which is no language, not the caller's mistake."""
    try:
        return find_language(name) if name else None
    except UnknownLanguageError:
        return None


def parsed_transcript(
    clip: AudioClip, options: RecognitionOptions, raw_text: str, finish: FinishReason
) -> Transcript:
    """The transcript of the model's raw output for `clip` (the official output parser)."""
    forced = options.language.prompt_name if options.language else None
    language, text = parse_asr_output(raw_text, user_language=forced)
    # The official output parser trims a repetition loop silently; qasr says it did.
    trimmed = repetition_trimmed(raw_text)
    return Transcript(
        text=text,
        language=known_language(language),
        finish_reason=FinishReason.REPETITION if trimmed else finish,
        duration=clip.duration,
    )
