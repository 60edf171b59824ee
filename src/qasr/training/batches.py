"""Training examples as model inputs: the inference prompt plus the assistant's answer.

A row is exactly what the recognizer feeds the model (`prompt.build_prompt_ids`: system context,
one `<|audio_pad|>` per audio token, `<|im_start|>assistant\\n`) followed by what the model
should write when no language is forced: `language {Name}<asr_text>{text}` and `<|im_end|>`
(`language None<asr_text>` for a clip without speech). Only that answer is learnt: the loss mask
is True on its tokens and False on the prompt, the audio and the padding.

Rows are right-padded, so the plain causal mask is enough: a real token never sees a pad, which
all come after it, and no pad is learnt. Clips are not padded at all: the encoder takes a list of
mels of any lengths and encodes each as it would alone (docs/adr/0012).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import attrs
import numpy as np
import numpy.typing as npt

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.lengths import audio_token_count
from qasr.adapters.mlx.model.mel import log_mel_spectrogram
from qasr.adapters.mlx.model.thinker import model_input_samples
from qasr.adapters.mlx.text.prompt import ASR_TEXT_TAG, LANGUAGE_PREFIX, build_prompt_ids
from qasr.errors import CheckpointError, InvalidInputError
from qasr.training.manifest import Example

END_OF_TURN = "<|im_end|>"
SampleLoader = Callable[[Example], npt.NDArray[np.float32]]


class TextTokenizer(Protocol):
    def encode(self, text: str) -> list[int]: ...


def answer_text(example: Example) -> str:
    """What the model writes for this clip, without the end-of-turn token."""
    name = example.language.prompt_name if example.language is not None else "None"
    return f"{LANGUAGE_PREFIX}{name}{ASR_TEXT_TAG}{example.text}"


def single_token(tokenizer: TextTokenizer, text: str) -> int:
    ids = tokenizer.encode(text)
    if len(ids) != 1:
        raise CheckpointError(
            f"the tokenizer splits {text} into {len(ids)} tokens; it must be one special token: "
            "is tokenizer_config.json from a Qwen3-ASR checkpoint?"
        )
    return ids[0]


@attrs.frozen
class EncodedExample:
    ids: tuple[int, ...]
    answer_start: int  # index of the first answer token; the rest of the row is the answer


def encode_example(
    tokenizer: TextTokenizer, example: Example, n_audio_tokens: int
) -> EncodedExample:
    prompt = build_prompt_ids(tokenizer, example.context, None, n_audio_tokens=n_audio_tokens)
    answer = [*tokenizer.encode(answer_text(example)), single_token(tokenizer, END_OF_TURN)]
    return EncodedExample(ids=(*prompt, *answer), answer_start=len(prompt))


def clip_samples(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The recognizer's input for an original-layout checkpoint (what training exports), so
    training sees exactly what inference will."""
    return model_input_samples(samples, pad_short_clips=False)


@attrs.frozen(eq=False)
class Batch:
    """B examples: mels for the encoder and [B, L] right-padded token rows."""

    mels: tuple[mx.array, ...]
    input_ids: mx.array  # [B, L] int32
    loss_mask: mx.array  # [B, L] bool: the answer tokens, the only ones learnt
    is_audio: mx.array  # [B, L] bool: the <|audio_pad|> placeholders
    audio_rows: mx.array  # [B, L] int32: row of the concatenated audio tokens per placeholder
    predict_from: mx.array  # [N] flat index (b * L + t) of each position whose next token is learnt
    targets: mx.array  # [N] int32: that next token
    # The transcripts alone, for the auxiliary CTC loss (ctc.py): [B, S] padded token ids,
    # their lengths [B], the audio tokens of each clip [B] and the blank (`<|audio_pad|>`).
    text_ids: mx.array
    text_lengths: mx.array
    audio_lengths: mx.array
    blank_id: int
    # Added to the logits inside the softmax only (vocab.py: the compact vocabulary's rest row).
    logit_offset: mx.array | None = None

    @property
    def n_targets(self) -> int:
        return int(self.targets.shape[0])


def make_batch(
    examples: Sequence[Example],
    samples: Sequence[npt.NDArray[np.float32]],
    tokenizer: TextTokenizer,
    *,
    audio_token_id: int,
    n_window: int,
    n_mels: int = 128,
    pad_id: int = 0,
) -> Batch:
    if not examples or len(examples) != len(samples):
        raise InvalidInputError(f"a batch needs as many clips as examples, got {len(samples)}")
    mels = tuple(log_mel_spectrogram(clip_samples(clip), n_mels) for clip in samples)
    encoded = [
        encode_example(tokenizer, example, audio_token_count(mel.shape[1], n_window))
        for example, mel in zip(examples, mels, strict=True)
    ]
    length = max(len(row.ids) for row in encoded)
    ids = np.full((len(encoded), length), pad_id, dtype=np.int32)
    loss_mask = np.zeros((len(encoded), length), dtype=bool)
    for b, row in enumerate(encoded):
        ids[b, : len(row.ids)] = row.ids
        loss_mask[b, row.answer_start : len(row.ids)] = True
    texts = [tokenizer.encode(example.text) for example in examples]
    text_ids = np.full((len(texts), max(1, *map(len, texts))), pad_id, dtype=np.int32)
    for b, text in enumerate(texts):
        text_ids[b, : len(text)] = text
    is_audio = ids == audio_token_id
    # Audio tokens are concatenated clip after clip, as encode_batch returns them.
    audio_rows = np.maximum(np.cumsum(is_audio.ravel()) - 1, 0).reshape(ids.shape)
    # Position t predicts token t + 1; the first answer token is predicted from the prompt.
    rows, columns = np.nonzero(loss_mask[:, 1:])
    return Batch(
        mels=mels,
        input_ids=mx.array(ids),
        loss_mask=mx.array(loss_mask),
        is_audio=mx.array(is_audio),
        audio_rows=mx.array(audio_rows.astype(np.int32)),
        predict_from=mx.array((rows * length + columns).astype(np.int32)),
        targets=mx.array(ids[rows, columns + 1]),
        text_ids=mx.array(text_ids),
        text_lengths=mx.array([len(text) for text in texts], dtype=mx.int32),
        audio_lengths=mx.array(is_audio.sum(axis=1).astype(np.int32)),
        blank_id=audio_token_id,
    )


def example_order(n_examples: int, seed: int, epoch: int) -> npt.NDArray[np.int64]:
    """The shuffled order of one epoch: a pure function of (seed, epoch), so a resumed run
    sees the same examples at the same steps without saving a generator's state."""
    return np.random.default_rng([seed, epoch]).permutation(n_examples)


def step_indices(n_examples: int, batch_size: int, seed: int, step: int) -> list[int]:
    """Indices of the examples of training step `step` (0-based); epochs follow each other."""
    orders: dict[int, npt.NDArray[np.int64]] = {}
    indices = []
    for position in range(step * batch_size, (step + 1) * batch_size):
        epoch, offset = divmod(position, n_examples)
        if epoch not in orders:
            orders[epoch] = example_order(n_examples, seed, epoch)
        indices.append(int(orders[epoch][offset]))
    return indices


__all__ = [
    "END_OF_TURN",
    "Batch",
    "EncodedExample",
    "SampleLoader",
    "answer_text",
    "clip_samples",
    "encode_example",
    "example_order",
    "make_batch",
    "step_indices",
]
