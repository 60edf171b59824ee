"""`MlxAligner`: the `qasr.ports.Aligner` that runs Qwen3-ForcedAligner in MLX.

The aligner is the Qwen3-ASR thinker with a different head: instead of the next token it scores
`classify_num` timestamp classes at every position. Its prompt is no chat but the official
`encode_timestamp` text: the audio, then each word followed by two `<timestamp>` tokens, whose
argmax classes (times `timestamp_segment_time` ms) are the word's start and end. One forward
pass over the prompt, no generation; then the reference's monotonic repair
(`qasr.domain.monotonic`) and its rounding to milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from qasr.adapters.mlx.backend import default_dtype, mx, parse_dtype
from qasr.adapters.mlx.checkpoint.files import DEFAULT_ALIGNER, resolve_model_folder
from qasr.adapters.mlx.checkpoint.reading import LoadedThinker, load_thinker
from qasr.adapters.mlx.model.mel import log_mel_spectrogram
from qasr.adapters.mlx.model.thinker import model_input_samples
from qasr.adapters.mlx.text.prompt import AUDIO_END, AUDIO_PAD, AUDIO_START
from qasr.adapters.mlx.text.tokenizer import Tokenizer
from qasr.adapters.mlx.text.word_units import split_words
from qasr.domain import SAMPLE_RATE, AudioClip, Language, Segment
from qasr.domain.monotonic import repair_timestamps
from qasr.errors import CheckpointError, InvalidInputError

TIMESTAMP = "<timestamp>"


def aligner_prompt(words: Sequence[str], n_audio_tokens: int) -> str:
    """The text the official processor tokenizes: `encode_timestamp`'s, with the audio pad
    repeated once per audio token. Every word, and the empty text, ends in two timestamps."""
    timed = "".join(f"{word}{TIMESTAMP}{TIMESTAMP}" for word in words) or TIMESTAMP * 2
    return AUDIO_START + AUDIO_PAD * n_audio_tokens + AUDIO_END + timed


@attrs.frozen
class TimestampClasses:
    """One alignment before repair: what parity tests compare besides the final times."""

    words: tuple[str, ...]
    prompt_ids: tuple[int, ...]
    classes: tuple[int, ...]  # argmax class at each `<timestamp>`, two per word
    milliseconds: tuple[float, ...]  # classes times the segment time, in float32 like torch


class MlxAligner:
    def __init__(self, thinker: LoadedThinker, tokenizer: Tokenizer, *, source: str) -> None:
        config = thinker.config
        if not config.is_aligner:
            raise CheckpointError(
                f"{thinker.folder} is a speech recognition model, not a forced aligner (its "
                "config.json has no classify_num); pass a Qwen3-ForcedAligner checkpoint"
            )
        assert config.timestamp_token_id is not None and config.timestamp_segment_time is not None
        if tokenizer.encode(TIMESTAMP) != [config.timestamp_token_id]:
            raise CheckpointError(
                f"{thinker.folder}: the tokenizer does not map {TIMESTAMP} to the single token "
                f"{config.timestamp_token_id}; is tokenizer_config.json the aligner's own?"
            )
        self.thinker = thinker
        self.tokenizer = tokenizer
        self.source = source
        self.timestamp_token_id = config.timestamp_token_id
        self.segment_milliseconds = config.timestamp_segment_time

    @classmethod
    def from_pretrained(
        cls, model: str | Path = DEFAULT_ALIGNER, *, dtype: str | None = None
    ) -> MlxAligner:
        folder = resolve_model_folder(model, flag="--forced-aligner")
        thinker = load_thinker(folder, parse_dtype(dtype) or default_dtype())
        return cls(thinker, Tokenizer.from_folder(folder), source=str(model))

    @property
    def max_seconds(self) -> float:
        """The latest time the head can name: the last class's."""
        classes = self.thinker.model.lm_head.weight.shape[0]
        return (classes - 1) * self.segment_milliseconds / 1000

    def align(self, clip: AudioClip, text: str, language: Language | None) -> tuple[Segment, ...]:
        """The port: `align_words`, with times past the clip's end (a model that hears no
        speech there can still name them) clamped to its duration."""
        if clip.sample_rate != SAMPLE_RATE:
            raise InvalidInputError(f"the aligner takes 16 kHz audio, got {clip.sample_rate} Hz")
        if not split_words(text, language):
            return ()
        duration = clip.duration
        return tuple(
            Segment(word.text, min(word.start, duration), min(word.end, duration))
            for word in self.align_words(clip.samples, text, language)
        )

    def align_words(
        self, samples: np.ndarray, text: str, language: str | Language | None = None
    ) -> tuple[Segment, ...]:
        """Each unit of `text` with its (start, end) in seconds, exactly as the official
        `Qwen3ForcedAligner.align` gives them (times may exceed the clip, as there)."""
        return self.timed_words(self.timestamp_classes(samples, text, language))

    def timed_words(self, raw: TimestampClasses) -> tuple[Segment, ...]:
        """The official post-processing: monotonic repair, then seconds to the millisecond."""
        milliseconds = repair_timestamps(raw.milliseconds)
        return tuple(
            Segment(
                word,
                round(milliseconds[2 * index] / 1000.0, 3),
                round(milliseconds[2 * index + 1] / 1000.0, 3),
            )
            for index, word in enumerate(raw.words)
        )

    def timestamp_classes(
        self, samples: np.ndarray, text: str, language: str | Language | None = None
    ) -> TimestampClasses:
        words = tuple(split_words(text, language))
        model = self.thinker.model
        clip = model_input_samples(samples, self.thinker.config.pads_short_clips)
        with self.thinker.lock:  # see LoadedThinker.lock
            mel = log_mel_spectrogram(clip).astype(self.thinker.dtype)
            audio = model.audio_tower(mel)
            prompt = self.prompt_ids(words, n_audio_tokens=audio.shape[0])
            prompt_ids = mx.array(prompt, dtype=mx.int32)
            embeds = model.embed_prompt(prompt_ids, audio, self.thinker.config.audio_token_id)
            hidden = model.model(embeds[None], 0)[0]
            positions = [i for i, token in enumerate(prompt) if token == self.timestamp_token_id]
            # Only the timestamp positions are read, so only they go through the head.
            logits = model.lm_head(hidden[mx.array(positions, dtype=mx.int32)])
            classes = np.array(mx.argmax(logits.astype(mx.float32), axis=-1), dtype=np.int64)
        # torch multiplies the int64 classes by the float segment time in float32.
        milliseconds = classes.astype(np.float32) * np.float32(self.segment_milliseconds)
        return TimestampClasses(
            words=words,
            prompt_ids=tuple(prompt),
            classes=tuple(int(value) for value in classes),
            milliseconds=tuple(float(value) for value in milliseconds),
        )

    def prompt_ids(self, words: Sequence[str], *, n_audio_tokens: int) -> list[int]:
        """`tokenizer.encode(aligner_prompt(words, n))` without tokenizing the audio pads
        (special tokens split the text, so encoding around them is the same)."""
        pad = self.tokenizer.encode(AUDIO_PAD)
        timed = aligner_prompt(words, 0)[len(AUDIO_START + AUDIO_END) :]
        head = self.tokenizer.encode(AUDIO_START)
        return head + pad * n_audio_tokens + self.tokenizer.encode(AUDIO_END + timed)

    def model_info(self) -> dict[str, Any]:
        return {
            **self.thinker.describe(self.source),
            "classify_num": self.thinker.config.classify_num,
            "timestamp_segment_time": self.segment_milliseconds,
            "max_seconds": self.max_seconds,
        }


__all__ = ["TIMESTAMP", "MlxAligner", "TimestampClasses", "aligner_prompt"]
