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

from qasr.adapters.mlx.recognizer import Decoded, MlxRecognizer
from qasr.adapters.mlx.text.output import parsed_transcript
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

    def _prompt_ids(self, option: RecognitionOptions, audio_tokens: int) -> list[int]:
        # The prefix tokens after the prompt's last special token (the module docstring).
        prompt = super()._prompt_ids(option, audio_tokens)
        prefix = _prefix(option)
        return prompt + (self.tokenizer.encode(prefix) if prefix else [])
