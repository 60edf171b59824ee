"""`PrefixMlxRecognizer`: the MLX recognizer that can continue a forced text prefix (streaming).

The official streaming recipe (qwen_asr `streaming_transcribe`) re-decodes the growing audio with
the previous text, minus its last few tokens, appended to the prompt: the model then only writes
what follows. Here `ContinuationOptions.prefix` is tokenized after the prompt's last special token
(special tokens split BPE, so this equals tokenizing prompt + prefix as one string, as the
reference does) and the transcript's text is prefix + continuation, parsed as the reference parses
`prefix + generated`. Plain `RecognitionOptions` decode exactly as `MlxRecognizer` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.mel import log_mel_spectrogram
from qasr.adapters.mlx.model.text_decoder import padded_causal_mask
from qasr.adapters.mlx.recognizer import Decoded, MlxRecognizer, _Prefill, parsed_transcript
from qasr.adapters.mlx.text.prompt import build_prompt_ids
from qasr.domain import (
    AudioClip,
    RecognitionOptions,
    Transcript,
)
from qasr.ports import ContinuationOptions


def _prefix(options: RecognitionOptions) -> str:
    return options.prefix if isinstance(options, ContinuationOptions) else ""


class PrefixMlxRecognizer(MlxRecognizer):
    continues_prefix = True

    def encode_text(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def decode_tokens(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids))

    @staticmethod
    def _transcript(clip: AudioClip, options: RecognitionOptions, decoded: Decoded) -> Transcript:
        raw = _prefix(options) + decoded.raw_text
        return parsed_transcript(clip, options, raw, decoded.finish_reason)

    def _prefill(
        self, clips: Sequence[np.ndarray], options: Sequence[RecognitionOptions]
    ) -> _Prefill:
        # MlxRecognizer._prefill with the prefix tokens after each row's prompt.
        model = self.thinker.model
        mels = [log_mel_spectrogram(clip).astype(self.thinker.dtype) for clip in clips]
        audios = model.audio_tower.encode_batch(mels)
        prompts = []
        for audio, option in zip(audios, options, strict=True):
            prompt = build_prompt_ids(
                self.tokenizer, option.context, option.language, n_audio_tokens=audio.shape[0]
            )
            prefix = _prefix(option)
            prompts.append(prompt + (self.tokenizer.encode(prefix) if prefix else []))
        length = max(len(prompt) for prompt in prompts)
        pads = [length - len(prompt) for prompt in prompts]
        rows = []
        for prompt, audio, pad in zip(prompts, audios, pads, strict=True):
            ids = mx.array(prompt, dtype=mx.int32)
            embeds = model.embed_prompt(ids, audio, self.thinker.config.audio_token_id)
            rows.append(mx.pad(embeds, [(pad, 0), (0, 0)]) if pad else embeds)
        cache = model.model.make_cache()
        starts = mx.array([-pad for pad in pads], dtype=mx.int32)
        if any(pads):
            key_mask = mx.array([[0] * pad + [1] * (length - pad) for pad in pads], dtype=mx.int32)
            mask = padded_causal_mask(key_mask, length)
        else:
            key_mask, mask = None, None
        hidden = model.model(mx.stack(rows), starts, cache, mask)
        return _Prefill(prompts, cache, hidden, starts, key_mask)
