"""Training examples as fixed-shape device tables, and the length-bucketed order of the steps.

The compiled step (`compiled.py`) must see few distinct shapes, and the host must do almost
nothing per step. So every example is encoded once (token row, answer span, transcript, where its
features lie in the feature cache) into tables that live on the device, and a step only sends the
[B] indices of its examples; the step gathers everything else itself.

Shapes come in buckets, one per number of encoder chunks (1 s of audio each): a batch whose
longest clip has c chunks is padded to c chunks and to the longest token row, answer and
transcript of all examples of at most c chunks. So a run compiles one step per chunk count.

The order is a pure function of (seed, step), so a resumed run sees the same batches: the epochs'
shuffled orders (`batches.example_order`) are cut into windows of `WINDOW_BATCHES` batches; each
window is sorted by length and cut into batches (little padding), and the window's batches are
shuffled (no trend in length within an epoch).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import attrs
import numpy as np
import numpy.typing as npt

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.lengths import audio_token_count
from qasr.training.batches import TextTokenizer, encode_example
from qasr.training.features import FeatureCache
from qasr.training.manifest import Example

WINDOW_BATCHES = 32
IntArray = npt.NDArray[np.int64]


@attrs.frozen
class BucketShape:
    chunks: int  # encoder chunks per clip (2 * n_window mel frames each)
    row_length: int  # L: tokens per row
    answer_length: int  # A: learnt tokens per row
    text_length: int  # S: transcript tokens per row (the CTC targets)


@attrs.frozen(eq=False)
class ExampleTables:
    """Host copies of every example's encoding; `device()` gives the arrays the step gathers."""

    tokens: IntArray  # [N, L_max] right-padded rows (compact ids when the vocabulary is compact)
    row_length: IntArray  # [N]
    answer_start: IntArray  # [N] index of the first answer token
    text: IntArray  # [N, S_max] the transcript's tokens
    text_length: IntArray  # [N]
    frames: IntArray  # [N] mel frames
    offsets: IntArray  # [N] first row of the clip in the feature rows
    audio_tokens: IntArray  # [N]
    chunks: IntArray  # [N] encoder chunks each clip is padded to
    pad_id: int  # the (compact) padding id
    audio_id: int  # the (compact) <|audio_pad|> id: the audio placeholders and the CTC blank
    _shapes: dict[int, BucketShape] = attrs.field(factory=dict, init=False)

    @classmethod
    def encode(
        cls,
        examples: Sequence[Example],
        features: FeatureCache,
        tokenizer: TextTokenizer,
        *,
        audio_token_id: int,
        n_window: int,
        pad_id: int,
        id_map: npt.NDArray[np.int32] | None = None,
        pad_chunks: int = 1,
    ) -> ExampleTables:
        """`id_map` (the compact vocabulary's lookup) maps token ids to rows, if given; each
        clip's chunk count is rounded up to a multiple of `pad_chunks` (its bucket)."""
        frames = features.frames.astype(np.int64)
        audio_tokens = np.array([audio_token_count(int(n), n_window) for n in frames])
        encoded = [
            encode_example(tokenizer, example, int(count))
            for example, count in zip(examples, audio_tokens, strict=True)
        ]
        texts = [tokenizer.encode(example.text) for example in examples]
        row_length = np.array([len(row.ids) for row in encoded], dtype=np.int64)
        text_length = np.array([len(text) for text in texts], dtype=np.int64)
        tokens = np.full((len(encoded), int(row_length.max())), pad_id, dtype=np.int64)
        text = np.full((len(texts), max(1, int(text_length.max()))), pad_id, dtype=np.int64)
        for index, (row, transcript) in enumerate(zip(encoded, texts, strict=True)):
            tokens[index, : len(row.ids)] = row.ids
            text[index, : len(transcript)] = transcript

        def mapped(ids: IntArray | int) -> IntArray:
            return np.asarray(ids if id_map is None else id_map[ids], dtype=np.int64)

        return cls(
            tokens=mapped(tokens),
            row_length=row_length,
            answer_start=np.array([row.answer_start for row in encoded], dtype=np.int64),
            text=mapped(text),
            text_length=text_length,
            frames=frames,
            offsets=features.offsets.astype(np.int64),
            audio_tokens=audio_tokens,
            chunks=-(-frames // (2 * n_window * pad_chunks)) * pad_chunks,
            pad_id=int(mapped(pad_id)),
            audio_id=int(mapped(audio_token_id)),
        )

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def answer_length(self) -> IntArray:
        return self.row_length - self.answer_start

    def shape(self, chunks: int) -> BucketShape:
        """The padded shape of a batch whose longest clip has `chunks` chunks."""
        if chunks in self._shapes:
            return self._shapes[chunks]
        fits = self.chunks <= chunks
        return self._shapes.setdefault(
            chunks,
            BucketShape(
                chunks=chunks,
                row_length=int(self.row_length[fits].max()),
                answer_length=int(self.answer_length[fits].max()),
                text_length=max(1, int(self.text_length[fits].max())),
            ),
        )

    def batch_shape(self, indices: IntArray) -> BucketShape:
        return self.shape(int(self.chunks[indices].max()))

    def device(self) -> DeviceTables:
        return DeviceTables(
            tokens=mx.array(self.tokens.astype(np.int32)),
            row_length=mx.array(self.row_length.astype(np.int32)),
            answer_start=mx.array(self.answer_start.astype(np.int32)),
            text=mx.array(self.text.astype(np.int32)),
            text_length=mx.array(self.text_length.astype(np.int32)),
            frames=mx.array(self.frames.astype(np.int32)),
            offsets=mx.array(self.offsets.astype(np.int32)),
            audio_tokens=mx.array(self.audio_tokens.astype(np.int32)),
        )


@attrs.frozen(eq=False)
class DeviceTables:
    tokens: mx.array
    row_length: mx.array
    answer_start: mx.array
    text: mx.array
    text_length: mx.array
    frames: mx.array
    offsets: mx.array
    audio_tokens: mx.array


def feature_rows(features: FeatureCache) -> mx.array:
    """The cache's rows on the device plus one zero row at the end: the padding's frames."""
    rows = np.empty((features.rows.shape[0] + 1, features.n_mels), dtype=np.float32)
    rows[:-1] = features.rows
    rows[-1] = 0.0
    return mx.array(rows)


def _stream_examples(n_examples: int, seed: int, first: int, count: int) -> IntArray:
    """Examples at stream positions [first, first + count): the epochs' orders one after another."""
    from qasr.training.batches import example_order

    positions = np.arange(first, first + count)
    epochs, offsets = np.divmod(positions, n_examples)
    out = np.empty(count, dtype=np.int64)
    for epoch in np.unique(epochs):
        chosen = epochs == epoch
        out[chosen] = example_order(n_examples, seed, int(epoch))[offsets[chosen]]
    return out


@functools.lru_cache(maxsize=4)
def _window(
    tables: ExampleTables, batch_size: int, seed: int, window: int
) -> tuple[tuple[int, ...], ...]:
    count = batch_size * WINDOW_BATCHES
    examples = _stream_examples(len(tables), seed, window * count, count)
    # Longest first within a chunk count keeps the rows' padding small too.
    order = np.lexsort((-tables.row_length[examples], tables.chunks[examples]))
    batches = examples[order].reshape(WINDOW_BATCHES, batch_size)
    shuffled = np.random.default_rng([seed, 1, window]).permutation(WINDOW_BATCHES)
    return tuple(tuple(int(i) for i in batches[b]) for b in shuffled)


def bucketed_step_indices(tables: ExampleTables, batch_size: int, seed: int, step: int) -> IntArray:
    """Example indices of training step `step` (0-based) in the length-bucketed order."""
    window, position = divmod(step, WINDOW_BATCHES)
    return np.array(_window(tables, batch_size, seed, window)[position], dtype=np.int64)


__all__ = [
    "WINDOW_BATCHES",
    "BucketShape",
    "DeviceTables",
    "ExampleTables",
    "bucketed_step_indices",
    "feature_rows",
]
