"""AdamW with a linear warm-up and a cosine decay of the learning rate."""

from __future__ import annotations

import math
from collections.abc import Callable

from qasr.adapters.mlx.backend import mx, optim
from qasr.errors import InvalidInputError

Schedule = Callable[[mx.array], mx.array]


def warmup_cosine(
    peak: float, warmup_steps: int, total_steps: int, final_ratio: float = 0.1
) -> Schedule:
    """The learning rate of (0-based) step s: peak * (s + 1) / warmup during the warm-up, then
    a half cosine from peak down to peak * final_ratio at the last step.

    The warm-up counts from s + 1 because MLX applies step 0 with schedule(0): a warm-up from
    0 would spend the first step doing nothing.
    """
    if peak <= 0 or not math.isfinite(peak):
        raise InvalidInputError(f"the learning rate must be a positive number, got {peak}")
    if total_steps < 1 or not 0 <= warmup_steps <= total_steps:
        raise InvalidInputError(
            f"need 0 <= warm-up steps ({warmup_steps}) <= steps ({total_steps}) and steps >= 1"
        )
    final = peak * final_ratio
    decay_steps = max(total_steps - warmup_steps - 1, 1)

    def schedule(step: mx.array) -> mx.array:
        s = mx.array(step).astype(mx.float32)
        warm = peak * (s + 1) / max(warmup_steps, 1)
        progress = mx.clip((s - warmup_steps) / decay_steps, 0.0, 1.0)
        cosine = final + (peak - final) * 0.5 * (1 + mx.cos(math.pi * progress))
        return mx.where(s < warmup_steps, warm, cosine)

    return schedule


def make_optimizer(schedule: Schedule, weight_decay: float = 0.01) -> optim.AdamW:
    # PyTorch's AdamW corrects the moments' bias; MLX's default does not.
    return optim.AdamW(learning_rate=schedule, weight_decay=weight_decay, bias_correction=True)


__all__ = ["Schedule", "make_optimizer", "warmup_cosine"]
