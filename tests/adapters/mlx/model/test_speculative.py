"""Speculative decoding equals the target's greedy decoding, whatever the draft proposes.

The fake models pick their next token as a function of everything they have read, so a cache
that keeps a rejected token, or forgets a kept one, changes the output and fails the test.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.generate import greedy_generate
from qasr.adapters.mlx.model.speculative import MAX_DRAFT_TOKENS, speculative_generate
from qasr.domain import FinishReason
from qasr.errors import InvalidInputError

VOCAB = 12
EOS = (11,)


def target_pick(history: tuple[int, ...], salt: int) -> int:
    """A deterministic 'model': the next token after `history` (EOS now and then)."""
    return hash((salt, history)) % VOCAB


class HistoryModel:
    """A cached decoder whose row r reads `histories[r]`; `agree(history)` says when it picks
    the target's token, and otherwise it picks another one."""

    def __init__(self, prompts: list[tuple[int, ...]], salt: int, agreement: float = 1.0) -> None:
        self.histories = [list(prompt) for prompt in prompts]
        self.salt = salt
        self.agreement = agreement
        self.forward_passes = 0

    def pick(self, history: tuple[int, ...]) -> int:
        token = target_pick(history, self.salt)
        if hash(("draft", history)) % 1000 < 1000 * self.agreement:
            return token
        return (token + 1) % VOCAB

    def logits_after(self, history: tuple[int, ...]) -> list[float]:
        token = self.pick(history)
        return [1.0 if v == token else 0.0 for v in range(VOCAB)]

    def first_logits(self) -> mx.array:
        return mx.array([self.logits_after(tuple(h)) for h in self.histories])

    def feed(self, tokens: mx.array) -> mx.array:
        self.forward_passes += 1
        out = []
        for history, row in zip(self.histories, tokens.tolist(), strict=True):
            positions = []
            for token in row:
                history.append(token)
                positions.append(self.logits_after(tuple(history)))
            out.append(positions)
        return mx.array(out)

    def step(self, tokens: mx.array) -> mx.array:
        return self.feed(tokens)[:, -1]

    def rewind(self, positions: int) -> None:
        for history in self.histories:
            assert len(history) - positions >= 1, "rewound into the prompt"
            del history[len(history) - positions :]


def prompts_for(rows: int) -> list[tuple[int, ...]]:
    return [(row, 2 * row + 1) for row in range(rows)]


@settings(max_examples=80, deadline=None)
@given(
    rows=st.integers(1, 4),
    salt=st.integers(0, 10_000),
    budget=st.integers(1, 30),
    k=st.integers(1, 6),
    agreement=st.sampled_from([0.0, 0.5, 0.9, 1.0]),
)
def test_equals_greedy_decoding_of_the_target(
    rows: int, salt: int, budget: int, k: int, agreement: float
) -> None:
    prompts = prompts_for(rows)
    plain = HistoryModel(prompts, salt)
    expected = greedy_generate(plain.step, plain.first_logits(), eos_ids=EOS, max_new_tokens=budget)
    target = HistoryModel(prompts, salt)
    draft = HistoryModel(prompts, salt, agreement)
    result = speculative_generate(
        target,
        draft,
        target.first_logits(),
        eos_ids=EOS,
        max_new_tokens=budget,
        num_draft_tokens=k,
    )
    assert result.tokens == expected.tokens
    assert result.finish_reasons == expected.finish_reasons
    assert 0 <= result.accepted <= result.drafted
    # The target's cache holds the prompt and the tokens it read, all of them emitted ones.
    for row, history in enumerate(target.histories):
        read = history[len(prompts[row]) :]
        assert len(read) <= budget
        assert read[: len(expected.tokens[row])] == list(expected.tokens[row])[: len(read)]


def test_a_draft_that_always_agrees_takes_one_target_pass_per_k_plus_one_tokens() -> None:
    # A salt whose row says no EOS within the budget; 21 tokens = 1 from the prefill, then
    # 4 rounds of 4 kept proposals + the target's own pick: 4 target passes.
    prompts = prompts_for(1)
    salt = next(
        s
        for s in range(100)
        if not set(greedy_tokens(HistoryModel(prompts, s), 21)[0]) & set(EOS)
        and len(greedy_tokens(HistoryModel(prompts, s), 21)[0]) == 21
    )
    target, draft = HistoryModel(prompts, salt), HistoryModel(prompts, salt)
    result = speculative_generate(
        target, draft, target.first_logits(), eos_ids=EOS, max_new_tokens=21, num_draft_tokens=4
    )
    assert result.finish_reasons == (FinishReason.LENGTH,)
    assert target.forward_passes == 4
    assert result.accepted == result.drafted == 16


def test_a_draft_that_never_agrees_still_gives_the_target_output() -> None:
    prompts = prompts_for(3)
    target, draft = HistoryModel(prompts, 7), HistoryModel(prompts, 7, agreement=0.0)
    result = speculative_generate(
        target, draft, target.first_logits(), eos_ids=EOS, max_new_tokens=12, num_draft_tokens=3
    )
    assert result.accepted == 0
    assert [list(row) for row in result.tokens] == greedy_tokens(HistoryModel(prompts, 7), 12)


def test_an_end_token_inside_a_draft_ends_the_row_there() -> None:
    # Find a salt where the target says EOS early: the always-agreeing draft proposes it and
    # whatever follows it, which must not reach the output.
    prompts = prompts_for(1)
    for salt in range(1000):
        tokens = greedy_tokens(HistoryModel(prompts, salt), 30)[0]
        if 2 <= len(tokens) < 6:
            break
    target, draft = HistoryModel(prompts, salt), HistoryModel(prompts, salt)
    result = speculative_generate(
        target, draft, target.first_logits(), eos_ids=EOS, max_new_tokens=30, num_draft_tokens=8
    )
    assert list(result.tokens[0]) == tokens
    assert result.finish_reasons == (FinishReason.STOP,)


def greedy_tokens(model: HistoryModel, budget: int) -> list[list[int]]:
    result = greedy_generate(model.step, model.first_logits(), eos_ids=EOS, max_new_tokens=budget)
    return [list(row) for row in result.tokens]


@pytest.mark.parametrize("k", [0, MAX_DRAFT_TOKENS + 1])
def test_the_number_of_draft_tokens_is_bounded(k: int) -> None:
    model = HistoryModel(prompts_for(1), 0)
    with pytest.raises(InvalidInputError, match="num_draft_tokens"):
        speculative_generate(
            model, model, model.first_logits(), eos_ids=EOS, max_new_tokens=4, num_draft_tokens=k
        )
