"""Full-vocabulary training at the cost of the tokens the data uses: the compact vocabulary.

A model trained from scratch starts with every token its data never uses on one shared embedding
row (`scratch.py`). In full-vocabulary training those rows stay equal: their logits are equal, so
each gets the same gradient (its softmax probability times the hidden state), the same AdamW
moments and the same update. The trainer therefore keeps A + 1 rows, the A tokens with rows of
their own and one "rest" row standing for the V - A shared ones, and computes the same step:

- the loss's softmax counts the rest logit V - A times (its logit plus log(V - A));
- the rest row's gradient is one shared row's share (the autodiff sum divided by V - A);
- the global gradient norm counts that row V - A times.

Export and validation put the rest row back into every shared id. The step equals the full one
(tests/training/test_compact_vocab.py) while the softmax, its gradient and AdamW touch the used
rows (~450 for tiny-en) instead of 151,936: on a CPU this is most of a tiny model's step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from qasr.adapters.mlx.backend import mx, tree_map, tree_reduce
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.training.batches import Batch, TextTokenizer, encode_example
from qasr.training.manifest import Example

# Below this share of shared rows the compact path saves too little to be worth it.
MIN_SHARED_FRACTION = 0.5


def used_token_ids(tokenizer: TextTokenizer, examples: Iterable[Example]) -> set[int]:
    """Every token id the rows of `examples` hold (prompt, audio placeholder, answer)."""
    used: set[int] = set()
    for example in examples:
        used.update(encode_example(tokenizer, example, n_audio_tokens=1).ids)
    return used


@attrs.frozen(eq=False)
class CompactVocabulary:
    active: npt.NDArray[np.int64]  # sorted ids with rows of their own
    lookup: npt.NDArray[np.int32]  # [V]: compact row of every id; shared ids -> the rest row
    shared_id: int  # one id of the shared rows
    # `lookup` and the loss's logit offset as MLX arrays, made once rather than every batch.
    _lookup: mx.array = attrs.field(init=False)
    _offset: mx.array = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        offset = np.zeros(self.rest + 1, dtype=np.float32)
        offset[self.rest] = math.log(self.shared)
        object.__setattr__(self, "_lookup", mx.array(self.lookup))
        object.__setattr__(self, "_offset", mx.array(offset))

    @property
    def size(self) -> int:
        return int(self.lookup.shape[0])

    @property
    def rest(self) -> int:
        """The compact index of the rest row."""
        return int(self.active.shape[0])

    @property
    def shared(self) -> int:
        return self.size - self.rest

    @classmethod
    def detect(cls, embedding: mx.array, used: Iterable[int]) -> CompactVocabulary | None:
        """The compact vocabulary of `embedding` for data using `used`, or None when the rows
        outside `used` are not (mostly) one shared row."""
        size = int(embedding.shape[0])
        used_ids = np.fromiter(used, dtype=np.int64)
        free = np.setdiff1d(np.arange(size), used_ids)
        if free.size == 0:
            return None
        shared_id = int(free[-1])
        same = np.array(mx.all(embedding == embedding[shared_id], axis=1))
        same[used_ids] = False
        if same.sum() < MIN_SHARED_FRACTION * size:
            return None
        active = np.flatnonzero(~same)
        lookup = np.full(size, active.size, dtype=np.int32)
        lookup[active] = np.arange(active.size, dtype=np.int32)
        return cls(active=active, lookup=lookup, shared_id=shared_id)

    def record(self) -> dict[str, Any]:
        """What a checkpoint keeps to rebuild this vocabulary without the data (`from_record`)."""
        return {"size": self.size, "shared_id": self.shared_id, "active": self.active.tolist()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CompactVocabulary:
        active = np.asarray(record["active"], dtype=np.int64)
        lookup = np.full(int(record["size"]), active.size, dtype=np.int32)
        lookup[active] = np.arange(active.size, dtype=np.int32)
        return cls(active=active, lookup=lookup, shared_id=int(record["shared_id"]))

    def compress(self, embedding: mx.array) -> mx.array:
        """[V, D] -> [A + 1, D]: the active rows, then the shared row."""
        rows = np.append(self.active, self.shared_id).astype(np.int32)
        return embedding[mx.array(rows)]

    def expand(self, rows: mx.array) -> mx.array:
        """[A + 1, D] -> [V, D]: every shared id gets the rest row."""
        return rows[self._lookup]

    @property
    def logit_offset(self) -> mx.array:
        """[A + 1]: log(V - A) on the rest row, 0 elsewhere; added to the logits in the softmax."""
        return self._offset

    def ids(self, ids: mx.array) -> mx.array:
        return self._lookup[ids]

    def compact_batch(self, batch: Batch) -> Batch:
        return attrs.evolve(
            batch,
            input_ids=self.ids(batch.input_ids),
            targets=self.ids(batch.targets),
            text_ids=self.ids(batch.text_ids),
            blank_id=int(self.lookup[batch.blank_id]),
            logit_offset=self._offset,
        )

    def share_gradients(self, grads: dict[str, Any]) -> mx.array:
        """Turn the rest row's gradient in `grads` (the model's, in place) into one shared row's
        share; return what the V - A - 1 shared rows not held add to the squared global norm
        (0 when the embedding is not trained, as under LoRA)."""
        embedding = grads.get("model", {}).get("embed_tokens", {})
        if "weight" not in embedding:
            return mx.array(0.0)
        scale = np.ones((self.rest + 1, 1), dtype=np.float32)
        scale[self.rest] = 1.0 / self.shared
        gradient = embedding["weight"] * mx.array(scale).astype(embedding["weight"].dtype)
        embedding["weight"] = gradient
        rest = gradient[self.rest].astype(mx.float32)
        return (self.shared - 1) * mx.sum(rest * rest)


def compact_model(model: Qwen3ASRThinker, used: Iterable[int]) -> CompactVocabulary | None:
    """Compress the tied embedding of `model` in place when its unused rows are shared."""
    if model.has_lm_head:
        return None
    embedding = model.model.embed_tokens
    vocabulary = CompactVocabulary.detect(embedding.weight, used)
    if vocabulary is not None:
        embedding.weight = vocabulary.compress(embedding.weight)
        mx.eval(embedding.weight)
    return vocabulary


@contextmanager
def full_vocabulary(
    model: Qwen3ASRThinker, vocabulary: CompactVocabulary | None
) -> Iterator[Qwen3ASRThinker]:
    """`model` with its full [V, D] embedding while the block runs (validation, export)."""
    if vocabulary is None:
        yield model
        return
    embedding = model.model.embed_tokens
    compact = embedding.weight
    embedding.weight = vocabulary.expand(compact)
    try:
        yield model
    finally:
        embedding.weight = compact


def clip_gradients(
    grads: dict[str, object], max_norm: float, extra_norm_squared: mx.array
) -> tuple[dict[str, object], mx.array]:
    """`mlx.optimizers.clip_grad_norm` with `extra_norm_squared` added to the squared norm."""
    squared = tree_reduce(lambda total, g: total + mx.sum(g.astype(mx.float32) ** 2), grads, 0.0)
    norm = mx.sqrt(squared + extra_norm_squared)
    scale = mx.minimum(max_norm / (norm + 1e-6), 1.0)
    return tree_map(lambda g: (g * scale).astype(g.dtype), grads), norm


__all__ = [
    "CompactVocabulary",
    "clip_gradients",
    "compact_model",
    "full_vocabulary",
    "used_token_ids",
]
