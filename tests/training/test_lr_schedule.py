"""AdamW's learning-rate schedule: linear warm-up, then cosine down to the final ratio."""

from __future__ import annotations

import itertools

import pytest

from qasr.adapters.mlx.backend import mx
from qasr.errors import InvalidInputError
from qasr.training.optimizer import make_optimizer, warmup_cosine


def rate(schedule, step: int) -> float:  # type: ignore[no-untyped-def]
    return schedule(mx.array(step)).item()


def test_warmup_then_cosine() -> None:
    schedule = warmup_cosine(1e-3, warmup_steps=4, total_steps=20, final_ratio=0.1)
    assert [rate(schedule, s) for s in range(4)] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3])
    assert rate(schedule, 4) == pytest.approx(1e-3)
    assert rate(schedule, 19) == pytest.approx(1e-4)
    decay = [rate(schedule, s) for s in range(4, 20)]
    assert all(later < earlier for earlier, later in itertools.pairwise(decay))
    # Halfway through the decay the cosine is at the mean of peak and final.
    assert rate(schedule, 4 + 15 / 2) == pytest.approx(5.5e-4, rel=1e-5)


def test_no_warmup_starts_at_the_peak() -> None:
    assert rate(warmup_cosine(2e-4, 0, 10), 0) == pytest.approx(2e-4)


@pytest.mark.parametrize(("peak", "warmup", "total"), [(0.0, 0, 10), (1e-4, 11, 10), (1e-4, 0, 0)])
def test_bad_schedules_are_refused(peak: float, warmup: int, total: int) -> None:
    with pytest.raises(InvalidInputError):
        warmup_cosine(peak, warmup, total)


def test_the_optimizer_follows_the_schedule() -> None:
    schedule = warmup_cosine(1e-2, 2, 10)
    optimizer = make_optimizer(schedule, weight_decay=0.0)
    params = {"w": mx.array([1.0])}
    for step in range(3):
        params = optimizer.apply_gradients({"w": mx.array([1.0])}, params)
        assert optimizer.learning_rate.item() == pytest.approx(rate(schedule, step))
