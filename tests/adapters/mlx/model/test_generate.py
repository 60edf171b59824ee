"""Greedy generation against a scripted fake model, and the default token budget."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.generate import (
    TOKEN_CAP,
    TOKEN_FLOOR,
    TOKENS_PER_SECOND,
    default_max_new_tokens,
    greedy_generate,
)
from qasr.domain import FinishReason
from qasr.errors import InvalidInputError

VOCAB = 16
EOS = (14, 15)


class ScriptedModel:
    """Row r's logits at position t favour scripts[r][t] (a filler token past the script);
    records every token it is fed."""

    def __init__(self, scripts: list[list[int]], three_dims: bool = False) -> None:
        self.scripts = scripts
        self.position = 0
        self.fed: list[list[int]] = []
        self.three_dims = three_dims

    def logits(self) -> mx.array:
        rows = []
        for script in self.scripts:
            token = script[self.position] if self.position < len(script) else 0
            rows.append([1.0 if v == token else -float(v) / VOCAB for v in range(VOCAB)])
        logits = mx.array(rows)
        return logits[:, None, :] if self.three_dims else logits

    def step(self, token_ids: mx.array) -> mx.array:
        assert token_ids.shape == (len(self.scripts), 1)
        self.fed.append(token_ids[:, 0].tolist())
        self.position += 1
        return self.logits()


def expected(script: list[int], budget: int) -> tuple[list[int], FinishReason]:
    for index, token in enumerate(script[:budget]):
        if token in EOS:
            return script[:index], FinishReason.STOP
    padded = script[:budget] + [0] * max(0, budget - len(script))
    return padded, FinishReason.LENGTH


def test_stops_at_eos_and_leaves_it_out() -> None:
    model = ScriptedModel([[3, 5, 7, 15, 9]])
    result = greedy_generate(model.step, model.logits(), eos_ids=EOS, max_new_tokens=50)
    assert result.tokens == ((3, 5, 7),)
    assert result.finish_reasons == (FinishReason.STOP,)
    # Each step is fed the previous pick; at most one step runs past the EOS.
    assert [fed[0] for fed in model.fed][:3] == [3, 5, 7]
    assert len(model.fed) <= 4


def test_runs_out_of_budget() -> None:
    model = ScriptedModel([[1, 2, 3, 4, 5, 6]])
    result = greedy_generate(model.step, model.logits(), eos_ids=EOS, max_new_tokens=4)
    assert result.tokens == ((1, 2, 3, 4),)
    assert result.finish_reasons == (FinishReason.LENGTH,)
    assert len(model.fed) == 3  # the first token comes from the prefill logits


def test_an_eos_as_the_last_allowed_token_is_a_stop() -> None:
    model = ScriptedModel([[1, 2, 14]], three_dims=True)
    result = greedy_generate(model.step, model.logits(), eos_ids=EOS, max_new_tokens=3)
    assert result.tokens == ((1, 2),)
    assert result.finish_reasons == (FinishReason.STOP,)


def test_rows_finish_independently() -> None:
    scripts = [[1, 15], [2, 3, 4, 5, 14], [6, 7, 8, 9, 10, 11]]
    model = ScriptedModel(scripts)
    result = greedy_generate(model.step, model.logits(), eos_ids=EOS, max_new_tokens=5)
    assert result.tokens == ((1,), (2, 3, 4, 5), (6, 7, 8, 9, 10))
    assert result.finish_reasons == (FinishReason.STOP, FinishReason.STOP, FinishReason.LENGTH)


@settings(max_examples=60, deadline=None)
@given(
    scripts=st.integers(1, 3).flatmap(
        lambda rows: st.lists(
            st.lists(st.integers(0, VOCAB - 1), max_size=12), min_size=rows, max_size=rows
        )
    ),
    budget=st.integers(1, 14),
)
def test_matches_a_plain_reference_loop(scripts: list[list[int]], budget: int) -> None:
    model = ScriptedModel(scripts)
    result = greedy_generate(model.step, model.logits(), eos_ids=EOS, max_new_tokens=budget)
    for row, script in enumerate(scripts):
        tokens, reason = expected(script, budget)
        assert list(result.tokens[row]) == tokens
        assert result.finish_reasons[row] is reason
    assert len(model.fed) <= budget - 1


def test_budget_must_be_positive() -> None:
    model = ScriptedModel([[1]])
    with pytest.raises(InvalidInputError, match="max_new_tokens"):
        greedy_generate(model.step, model.logits(), eos_ids=EOS, max_new_tokens=0)


@given(seconds=st.floats(0, 3600, allow_nan=False, allow_subnormal=False))
def test_default_budget_scales_with_audio_within_floor_and_cap(seconds: float) -> None:
    budget = default_max_new_tokens(seconds)
    assert TOKEN_FLOOR <= budget <= TOKEN_CAP
    assert budget >= min(TOKEN_CAP, math.ceil(seconds * TOKENS_PER_SECOND))
    assert default_max_new_tokens(seconds + 1.0) >= budget


def test_default_budget_exceeds_the_fixed_official_512_for_long_audio() -> None:
    assert default_max_new_tokens(0.0) == TOKEN_FLOOR
    assert default_max_new_tokens(60.0) > 512  # the reference's fixed budget cuts a minute


@pytest.mark.parametrize("seconds", [-1.0, math.nan, math.inf])
def test_default_budget_rejects_impossible_lengths(seconds: float) -> None:
    with pytest.raises(InvalidInputError, match="seconds"):
        default_max_new_tokens(seconds)
