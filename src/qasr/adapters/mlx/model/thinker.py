"""The Qwen3-ASR thinker: audio encoder + Qwen3 decoder (+ the aligner's timestamp head).

Module names are the original checkpoint's minus `thinker.`: `audio_tower.*`, `model.*`,
`lm_head.*` — so loading (checkpoint/reading.py) is a rename plus each part's `sanitize`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from qasr.adapters.mlx.backend import mx, nn
from qasr.adapters.mlx.model.audio_encoder import AudioEncoder, AudioEncoderConfig
from qasr.adapters.mlx.model.mel import MIN_SAMPLES
from qasr.adapters.mlx.model.text_decoder import TextConfig, TextModel
from qasr.domain import SAMPLE_RATE
from qasr.errors import CheckpointError, InvalidInputError

# qwen-asr zero-pads split-off chunks shorter than 0.5 s (MIN_ASR_INPUT_SECONDS) but passes a
# short whole clip as it is; the mel frontend needs MIN_SAMPLES, so for the original layout only
# clips too short to have a spectrum are padded, to that same 0.5 s. transformers (the -hf
# layout's reference) pads every clip under 0.5 s (`CheckpointConfig.pads_short_clips`).
MIN_CLIP_SECONDS = 0.5
MIN_CLIP_SAMPLES = int(MIN_CLIP_SECONDS * SAMPLE_RATE)


def model_input_samples(samples: npt.ArrayLike, pad_short_clips: bool) -> np.ndarray:
    """Mono float32 samples as the checkpoint's reference feeds them to the mel frontend."""
    clip = np.asarray(samples, dtype=np.float32)
    if clip.ndim != 1:
        raise InvalidInputError(f"the model takes mono samples, got shape {clip.shape}")
    if clip.size >= (MIN_CLIP_SAMPLES if pad_short_clips else MIN_SAMPLES):
        return clip
    return np.pad(clip, (0, MIN_CLIP_SAMPLES - clip.size))


class Qwen3ASRThinker(nn.Module):
    def __init__(
        self,
        audio: AudioEncoderConfig,
        text: TextConfig,
        *,
        lm_head: bool,
        classify_num: int | None = None,
        head_bias: bool = False,
        whole_chunks: bool = False,
    ) -> None:
        super().__init__()
        self.audio_tower = AudioEncoder(audio, whole_chunks=whole_chunks)
        self.model = TextModel(text)
        if lm_head:  # checkpoints that store an untied output projection
            # The forced aligner's head scores `classify_num` timestamp classes, not tokens;
            # transformers' Qwen3ASRForTokenClassification may give it a bias
            # (`token_classification_bias`).
            rows = text.vocab_size if classify_num is None else classify_num
            self.lm_head = nn.Linear(text.hidden_size, rows, bias=head_bias)

    @property
    def has_lm_head(self) -> bool:
        return "lm_head" in self

    def logits(self, hidden: mx.array) -> mx.array:
        return self.lm_head(hidden) if self.has_lm_head else self.model.as_logits(hidden)

    def embed_prompt(
        self, prompt_ids: mx.array, audio_embeds: mx.array, audio_token_id: int
    ) -> mx.array:
        """Token embeddings [L, D] with the `<|audio_pad|>` rows replaced by the audio, in order."""
        embeds = self.model.embed_tokens(prompt_ids)
        is_audio = prompt_ids == audio_token_id
        n_audio = int(is_audio.sum().item())
        if n_audio != audio_embeds.shape[0]:
            raise InvalidInputError(
                f"prompt has {n_audio} audio placeholders for {audio_embeds.shape[0]} audio tokens"
            )
        # Row i of the audio goes to the i-th placeholder: gather by the running count.
        audio_index = mx.maximum(mx.cumsum(is_audio.astype(mx.int32)) - 1, 0)
        audio_rows = audio_embeds.astype(embeds.dtype)[audio_index]
        return mx.where(is_audio[:, None], audio_rows, embeds)

    @staticmethod
    def sanitize(weights: Mapping[str, mx.array]) -> dict[str, mx.array]:
        """Module-path weights (checkpoint.reading.read_weights) -> what `load_weights` takes."""
        parts: dict[str, dict[str, mx.array]] = {"audio_tower": {}, "model": {}, "lm_head": {}}
        for name, value in weights.items():
            head, _, rest = name.partition(".")
            if head not in parts:
                raise CheckpointError(f"unexpected weight {name!r}")
            parts[head][rest] = value
        audio = AudioEncoder.sanitize(parts["audio_tower"])
        out = {f"audio_tower.{k}": v for k, v in audio.items()}
        out.update({f"model.{k}": v for k, v in TextModel.sanitize(parts["model"]).items()})
        out.update({f"lm_head.{k}": v for k, v in parts["lm_head"].items()})
        return out
