"""Greedy decoding, independent of the model: a `step` function advances it by one token.

The host loop is pipelined as in mlx-lm: the graph for token i+1 is built and queued with
`mx.async_eval` before token i is read back, so the device never waits on Python. The only
read-back per step is the [B] token ids, which the EOS check needs anyway.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import cast

import attrs

from qasr.adapters.mlx.backend import mx
from qasr.domain import FinishReason
from qasr.errors import InvalidInputError

# step(token_ids [B, 1] int32) -> logits [B, V] (or [B, 1, V]) for the next position.
Step = Callable[[mx.array], mx.array]

# Budget rule of `default_max_new_tokens`. Fast speech is ~4 words/s in English (~5 tokens/s)
# and ~7 characters/s in Chinese or Japanese (~7 tokens/s); scripts the BPE splits finely
# (Thai, Hindi, Arabic) double that. 20 tokens/s leaves headroom above the fastest, the floor
# covers the `language X<asr_text>` preamble and a short clip, and the cap bounds the damage of
# a repetition loop on a long chunk. The reference instead fixes 512 (`Qwen3ASRModel`), which
# truncates speech longer than about a minute.
TOKENS_PER_SECOND = 20
TOKEN_FLOOR = 64
TOKEN_CAP = 8192


@attrs.frozen
class GenerationResult:
    """Per row: generated token ids (EOS excluded) and why generation stopped.

    With a draft model, `drafted` counts the draft tokens the target checked and `accepted`
    those it kept (per row, summed): `accepted / drafted` is the acceptance rate.
    """

    tokens: tuple[tuple[int, ...], ...]
    finish_reasons: tuple[FinishReason, ...]
    drafted: int = 0
    accepted: int = 0


def default_max_new_tokens(audio_seconds: float) -> int:
    """A token budget for `audio_seconds` of audio: 20 per second, at least 64, at most 8192."""
    if not math.isfinite(audio_seconds) or audio_seconds < 0:
        raise InvalidInputError(
            f"audio length must be a finite number of seconds >= 0, got {audio_seconds!r}"
        )
    return min(TOKEN_CAP, max(TOKEN_FLOOR, math.ceil(audio_seconds * TOKENS_PER_SECOND)))


def next_tokens(logits: mx.array) -> mx.array:
    if logits.ndim == 3:
        logits = logits[:, -1, :]
    return mx.argmax(logits, axis=-1).astype(mx.int32)


def greedy_generate(
    step: Step,
    first_logits: mx.array,
    *,
    eos_ids: Collection[int],
    max_new_tokens: int,
) -> GenerationResult:
    """Pick the most likely token until every row has produced an EOS or `max_new_tokens`.

    `first_logits` [B, V] are the prefill's logits at the last position. A row's first EOS
    ends it ("stop"); rows that end early keep being stepped (their outputs are ignored) so
    the batch stays rectangular. `max_new_tokens` counts generated tokens including the EOS,
    as transformers' `generate` does. The step after the last token may already have run:
    the caller's cache is left one position ahead.
    """
    if max_new_tokens < 1:
        raise InvalidInputError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    eos = frozenset(int(token) for token in eos_ids)
    batch = first_logits.shape[0]
    rows: list[list[int]] = [[] for _ in range(batch)]
    reasons: list[FinishReason | None] = [None] * batch

    current = next_tokens(first_logits)
    mx.async_eval(current)
    for index in range(max_new_tokens):
        upcoming = None
        if index + 1 < max_new_tokens:
            upcoming = next_tokens(step(current[:, None]))
            mx.async_eval(upcoming)
        for row, token in enumerate(cast("list[int]", current.tolist())):
            if reasons[row] is not None:
                continue
            if token in eos:
                reasons[row] = FinishReason.STOP
            else:
                rows[row].append(token)
        if upcoming is None or all(reason is not None for reason in reasons):
            break
        current = upcoming

    return GenerationResult(
        tokens=tuple(tuple(row) for row in rows),
        finish_reasons=tuple(reason or FinishReason.LENGTH for reason in reasons),
    )


__all__ = [
    "GenerationResult",
    "Step",
    "default_max_new_tokens",
    "greedy_generate",
    "next_tokens",
]
