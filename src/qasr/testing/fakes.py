"""In-memory stand-ins for the model ports: deterministic, instant, and honest to the contracts.

They let users test code built on qasr (and qasr test its service) without a model. Each one keeps
the promises of its port's docstring, which `tests/contracts/` checks for fakes and real adapters
alike.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence

import attrs
import numpy as np

from qasr.domain import (
    AudioClip,
    FinishReason,
    Language,
    RecognitionOptions,
    Segment,
    SpeakerSpan,
    Transcript,
    find_language,
)

# Below this peak amplitude a clip counts as silence (about -60 dBFS).
SILENCE_PEAK = 1e-3

_LATIN_WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
)  # fmt: skip
_CJK_CHARACTERS = tuple("天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏")

# One unit per CJK ideograph / kana / hangul syllable; other runs split at whitespace.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_UNIT = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")


def text_units(text: str) -> list[str]:
    """The words an aligner times: whitespace words, and each CJK character on its own."""
    return _UNIT.findall(text)


def is_silent(clip: AudioClip) -> bool:
    return clip.num_samples == 0 or float(np.max(np.abs(clip.samples))) < SILENCE_PEAK


def _seed(clip: AudioClip) -> int:
    digest = hashlib.blake2b(clip.samples.tobytes(), digest_size=8)
    digest.update(str(clip.sample_rate).encode())
    return int.from_bytes(digest.digest(), "little")


@attrs.define
class FakeRecognizer:
    """Recognises `words_per_second` words of a fixed vocabulary, chosen by a hash of the samples.

    The same clip always gives the same text; silence gives "" with language None. A forced
    language is reported as is; otherwise `language` is "detected". Spaceless languages get CJK
    characters. Each word costs one token: a `max_new_tokens` smaller than the word count cuts the
    text and reports LENGTH. `calls` records every batch, so tests can count model calls.
    """

    language: Language = attrs.field(default=find_language("English"), converter=find_language)
    words_per_second: float = 2.0
    calls: list[tuple[AudioClip, ...]] = attrs.field(factory=list, eq=False, repr=False)

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        if len(clips) != len(options):
            raise ValueError(f"{len(clips)} clips but {len(options)} options; give one each")
        self.calls.append(tuple(clips))
        return [
            self._recognize_one(clip, option) for clip, option in zip(clips, options, strict=True)
        ]

    def _recognize_one(self, clip: AudioClip, options: RecognitionOptions) -> Transcript:
        if is_silent(clip):
            return Transcript(text="", language=None, duration=clip.duration)
        language = options.language or self.language
        vocabulary = _CJK_CHARACTERS if language.is_spaceless else _LATIN_WORDS
        chooser = random.Random(_seed(clip))
        count = max(1, round(clip.duration * self.words_per_second))
        words = [chooser.choice(vocabulary) for _ in range(count)]
        finish = FinishReason.STOP
        budget = options.max_new_tokens
        if budget is not None and budget < len(words):
            words, finish = words[:budget], FinishReason.LENGTH
        joiner = "" if language.is_spaceless else " "
        return Transcript(
            text=joiner.join(words),
            language=language,
            finish_reason=finish,
            duration=clip.duration,
        )


@attrs.frozen
class FakeAligner:
    """Gives the text's units equal shares of the clip, in order, back to back."""

    def align(self, clip: AudioClip, text: str, language: Language | None) -> tuple[Segment, ...]:
        units = text_units(text)
        if not units:
            return ()
        duration = clip.duration
        share = duration / len(units)
        return tuple(
            Segment(unit, min(duration, index * share), min(duration, (index + 1) * share))
            for index, unit in enumerate(units)
        )


@attrs.frozen
class FakeDiarizer:
    """Alternates `speakers` labels over fixed `turn_seconds` turns; silence has no turns."""

    turn_seconds: float = 2.0
    speakers: int = 2

    def __attrs_post_init__(self) -> None:
        if self.turn_seconds <= 0 or self.speakers < 1:
            raise ValueError("FakeDiarizer needs turn_seconds > 0 and at least one speaker")

    def diarize(self, clip: AudioClip) -> tuple[SpeakerSpan, ...]:
        if is_silent(clip):
            return ()
        duration = clip.duration
        count = int(np.ceil(duration / self.turn_seconds))
        starts = [index * self.turn_seconds for index in range(count)]
        return tuple(
            SpeakerSpan(
                f"SPEAKER_{index % self.speakers:02d}",
                start,
                min(duration, start + self.turn_seconds),
            )
            for index, start in enumerate(starts)
            if start < duration  # float rounding can add an empty last turn
        )
