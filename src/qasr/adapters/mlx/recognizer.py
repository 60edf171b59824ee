"""`MlxRecognizer`: the `qasr.ports.Recognizer` that runs Qwen3-ASR in MLX.

Per clip: log-mel -> audio encoder -> prompt with one `<|audio_pad|>` per audio token -> prefill
-> greedy decoding -> `parse_asr_output`, exactly as the official transformers backend does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from qasr.adapters.mlx.asr_model import LoadedThinker, load_thinker, parse_dtype
from qasr.adapters.mlx.backend import default_dtype, mx
from qasr.adapters.mlx.generate import GenerationResult, default_max_new_tokens, greedy_generate
from qasr.adapters.mlx.kv_cache import KVCache
from qasr.adapters.mlx.mel import MIN_SAMPLES, log_mel_spectrogram
from qasr.adapters.mlx.model_files import resolve_model_folder
from qasr.adapters.mlx.prompt import build_prompt_ids, parse_asr_output
from qasr.adapters.mlx.tokenizer import Tokenizer
from qasr.domain import (
    SAMPLE_RATE,
    AudioClip,
    FinishReason,
    RecognitionOptions,
    Transcript,
    find_language,
    prompt_languages,
)
from qasr.errors import InvalidInputError

# The official pipeline zero-pads split-off chunks shorter than 0.5 s (MIN_ASR_INPUT_SECONDS) but
# passes a short whole clip as it is; the mel frontend needs MIN_SAMPLES, so only clips too short
# to have a spectrum are padded, to that same 0.5 s.
MIN_CLIP_SECONDS = 0.5


@attrs.frozen
class Decoded:
    """One clip's decoding, before parsing: what parity tests compare."""

    prompt_ids: tuple[int, ...]
    tokens: tuple[int, ...]
    finish_reason: FinishReason
    raw_text: str


def _padded_to_minimum(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size >= MIN_SAMPLES:
        return samples
    return np.pad(samples, (0, int(MIN_CLIP_SECONDS * SAMPLE_RATE) - samples.size))


class MlxRecognizer:
    def __init__(self, thinker: LoadedThinker, tokenizer: Tokenizer, *, source: str) -> None:
        self.thinker = thinker
        self.tokenizer = tokenizer
        self.source = source
        eos = set(thinker.config.eos_token_ids) | set(tokenizer.eos_ids)
        self.eos_ids = frozenset(eos)

    @classmethod
    def from_pretrained(cls, model: str | Path, *, dtype: str | None = None) -> MlxRecognizer:
        folder = resolve_model_folder(model)
        thinker = load_thinker(folder, parse_dtype(dtype) or default_dtype())
        return cls(thinker, Tokenizer.from_folder(folder), source=str(model))

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        if len(clips) != len(options):
            raise InvalidInputError(f"{len(clips)} clips but {len(options)} option sets")
        return [self._transcript(clip, option) for clip, option in zip(clips, options, strict=True)]

    def _transcript(self, clip: AudioClip, options: RecognitionOptions) -> Transcript:
        decoded = self.decode(clip.samples, options, sample_rate=clip.sample_rate)
        forced = options.language.prompt_name if options.language else None
        language, text = parse_asr_output(decoded.raw_text, user_language=forced)
        return Transcript(
            text=text,
            language=find_language(language) if language else None,
            finish_reason=decoded.finish_reason,
            duration=clip.duration,
        )

    def decode(
        self,
        samples: np.ndarray,
        options: RecognitionOptions = RecognitionOptions(),
        *,
        sample_rate: int = SAMPLE_RATE,
    ) -> Decoded:
        if sample_rate != SAMPLE_RATE:
            raise InvalidInputError(f"the recognizer takes 16 kHz audio, got {sample_rate} Hz")
        samples = _padded_to_minimum(samples)
        prompt, cache, hidden = self._prefill(samples, options)
        model = self.thinker.model
        first_logits = model.logits(hidden[:, -1, :])

        def step(tokens: mx.array) -> mx.array:
            position = cache[0].offset
            step_hidden = model.model(model.model.embed_tokens(tokens), position, cache)
            return model.logits(step_hidden[:, -1, :])

        budget = options.max_new_tokens or default_max_new_tokens(samples.size / SAMPLE_RATE)
        result: GenerationResult = greedy_generate(
            step, first_logits, eos_ids=self.eos_ids, max_new_tokens=budget
        )
        tokens = result.tokens[0]
        return Decoded(
            prompt_ids=tuple(prompt),
            tokens=tokens,
            finish_reason=result.finish_reasons[0],
            raw_text=self.tokenizer.decode(tokens, skip_special_tokens=True),
        )

    def prompt_logits(
        self, samples: np.ndarray, options: RecognitionOptions = RecognitionOptions()
    ) -> mx.array:
        """Logits [L, V] at every prompt position: the prefill that parity tests compare."""
        _, _, hidden = self._prefill(_padded_to_minimum(samples), options)
        return self.thinker.model.logits(hidden[0])

    def _prefill(
        self, samples: np.ndarray, options: RecognitionOptions
    ) -> tuple[list[int], list[KVCache], mx.array]:
        model = self.thinker.model
        mel = log_mel_spectrogram(samples).astype(self.thinker.dtype)
        audio = model.audio_tower(mel)
        prompt = build_prompt_ids(
            self.tokenizer, options.context, options.language, n_audio_tokens=audio.shape[0]
        )
        prompt_ids = mx.array(prompt, dtype=mx.int32)
        embeds = model.embed_prompt(prompt_ids, audio, self.thinker.config.audio_token_id)
        cache = model.model.make_cache()
        return prompt, cache, model.model(embeds[None], 0, cache)

    def model_info(self) -> dict[str, Any]:
        config = self.thinker.config
        return {
            "model": self.source,
            "path": str(self.thinker.folder),
            "layout": config.layout.value,
            "dtype": str(self.thinker.dtype).removeprefix("mlx.core."),
            "vocab_size": self.thinker.model.model.config.vocab_size,
            "quantization": config.raw.get("quantization"),
            "languages": [language.name for language in prompt_languages()],
        }
