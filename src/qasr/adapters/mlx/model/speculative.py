"""Speculative greedy decoding: a draft model proposes tokens, the target checks them at once.

Each round the draft greedily proposes k tokens after the last target token `current`; the
target reads `current` and the k proposals in one forward pass (k + 1 positions), which gives
its own greedy pick after each of them. The leading proposals equal to the target's picks are
kept, followed by the target's pick after the last kept one, so every emitted token is the
target's greedy choice given the tokens before it: the output is the target's greedy decoding,
whatever the draft proposes; a good draft only makes it take fewer target passes.

A batch shares one cache length, so a round keeps as many proposals as the row that agrees
least (among rows still decoding): rows stay rectangular and exact, at the cost of the
acceptance of the best rows. The draft and target read their inputs lazily (the proposals stay
on the device), so a round costs one read-back, of the target's picks and the proposals.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, cast

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.generate import GenerationResult, next_tokens
from qasr.adapters.mlx.sequences import common_prefix_length
from qasr.domain import FinishReason
from qasr.errors import InvalidInputError

MAX_DRAFT_TOKENS = 64


class CachedDecoder(Protocol):
    """A model with a key/value cache: read tokens after the cached ones, or forget some."""

    def feed(self, tokens: mx.array) -> mx.array:
        """Cache tokens [B, L]; the logits [B, L, V] of the position after each of them."""
        ...

    def rewind(self, positions: int) -> None:
        """Forget the last `positions` cached positions."""
        ...


def check_draft_tokens(num_draft_tokens: int) -> int:
    if not 1 <= num_draft_tokens <= MAX_DRAFT_TOKENS:
        raise InvalidInputError(
            f"num_draft_tokens must be between 1 and {MAX_DRAFT_TOKENS}, got {num_draft_tokens}"
        )
    return num_draft_tokens


def speculative_generate(
    target: CachedDecoder,
    draft: CachedDecoder,
    first_logits: mx.array,
    *,
    eos_ids: Collection[int],
    max_new_tokens: int,
    num_draft_tokens: int,
) -> GenerationResult:
    """`greedy_generate`'s result for `target`, with `draft` proposing `num_draft_tokens` a round.

    Both decoders hold the prompt; `first_logits` [B, V] are the target's after it. On return
    either cache may hold positions past the last emitted token.
    """
    if max_new_tokens < 1:
        raise InvalidInputError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    proposals_per_round = check_draft_tokens(num_draft_tokens)
    eos = frozenset(int(token) for token in eos_ids)
    batch = first_logits.shape[0]
    rows: list[list[int]] = [[] for _ in range(batch)]
    reasons: list[FinishReason | None] = [None] * batch
    drafted = accepted = 0

    current = next_tokens(first_logits)  # [B], the target's pick the draft has not read yet
    unread = current[:, None]  # tokens the draft has yet to read, [B, 1 or 2]
    emitted = 1
    _emit(rows, reasons, [[token] for token in cast("list[int]", current.tolist())], eos)
    while emitted < max_new_tokens and any(reason is None for reason in reasons):
        # Never propose past the budget: the last emitted token is the target's own pick.
        k = min(proposals_per_round, max_new_tokens - emitted - 1)
        proposals = _propose(draft, unread, k)
        block = mx.concatenate([current[:, None], *[p[:, None] for p in proposals]], axis=1)
        picks = next_tokens_all(target.feed(block))  # [B, k + 1]
        mx.eval(picks, *proposals)
        host_picks = cast("list[list[int]]", picks.tolist())
        host_proposals = cast(
            "list[list[int]]", mx.stack(proposals, axis=1).tolist() if k else [[]] * batch
        )
        kept = min(
            common_prefix_length(host_proposals[row], host_picks[row])
            for row in range(batch)
            if reasons[row] is None
        )
        drafted += k * sum(reason is None for reason in reasons)
        accepted += kept * sum(reason is None for reason in reasons)
        _emit(rows, reasons, [picks_row[: kept + 1] for picks_row in host_picks], eos)
        emitted += kept + 1
        # The target read current and k proposals; it keeps current and the kept ones.
        target.rewind(k - kept)
        current = picks[:, kept]
        if k == 0:
            unread = mx.concatenate([unread, current[:, None]], axis=1)
        elif kept == k:  # the draft never read its own last proposal
            unread = mx.concatenate([proposals[-1][:, None], current[:, None]], axis=1)
        else:  # it read current and k - 1 proposals, of which `kept` stay
            draft.rewind(k - 1 - kept)
            unread = current[:, None]

    for row, tokens in enumerate(rows):
        del tokens[max_new_tokens:]
        if reasons[row] is None:
            reasons[row] = FinishReason.LENGTH
    return GenerationResult(
        tokens=tuple(tuple(row) for row in rows),
        finish_reasons=tuple(reason or FinishReason.LENGTH for reason in reasons),
        drafted=drafted,
        accepted=accepted,
    )


def next_tokens_all(logits: mx.array) -> mx.array:
    """Greedy picks [B, L] at every position of logits [B, L, V]."""
    return mx.argmax(logits, axis=-1).astype(mx.int32)


def _propose(draft: CachedDecoder, unread: mx.array, k: int) -> list[mx.array]:
    """k greedy draft tokens [B] each, built lazily: nothing is read back here."""
    proposals: list[mx.array] = []
    tokens = unread
    for _ in range(k):
        proposal = next_tokens_all(draft.feed(tokens))[:, -1]
        proposals.append(proposal)
        tokens = proposal[:, None]
    return proposals


def _emit(
    rows: list[list[int]],
    reasons: list[FinishReason | None],
    new_tokens: list[list[int]],
    eos: frozenset[int],
) -> None:
    """Append each unfinished row's new tokens up to (not including) its first EOS."""
    for row, tokens in enumerate(new_tokens):
        for token in tokens:
            if reasons[row] is not None:
                break
            if token in eos:
                reasons[row] = FinishReason.STOP
            else:
                rows[row].append(token)


__all__ = [
    "MAX_DRAFT_TOKENS",
    "CachedDecoder",
    "check_draft_tokens",
    "next_tokens_all",
    "speculative_generate",
]
