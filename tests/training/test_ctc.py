"""The CTC loss equals PyTorch's, values and gradients, on random batches of mixed lengths."""

from __future__ import annotations

import numpy as np
import pytest

from qasr.adapters.mlx.backend import mx
from qasr.training.ctc import ctc_loss

torch = pytest.importorskip("torch")


def random_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    B, T, C, S = 4, 12, 6, 5
    logits = rng.standard_normal((B, T, C)).astype(np.float32) * 2
    input_lengths = np.array([12, 9, 7, 12])
    target_lengths = np.array([5, 3, 0, 4])
    targets = rng.integers(1, C, size=(B, S)).astype(np.int32)
    targets[3, :4] = [2, 2, 3, 3]  # repeats need a blank between them
    return logits, input_lengths, targets, target_lengths


@pytest.mark.parametrize("seed", range(3))
def test_equals_torch(seed: int) -> None:
    logits, input_lengths, targets, target_lengths = random_case(seed)

    def ours(x: mx.array) -> mx.array:
        log_probs = x - mx.logsumexp(x, axis=-1, keepdims=True)
        return ctc_loss(
            log_probs, mx.array(input_lengths), mx.array(targets), mx.array(target_lengths), 0
        ).sum()

    loss, grad = mx.value_and_grad(ours)(mx.array(logits))
    x = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.ctc_loss(
        x.log_softmax(-1).transpose(0, 1),
        torch.tensor(targets, dtype=torch.long),
        torch.tensor(input_lengths),
        torch.tensor(target_lengths),
        blank=0,
        reduction="sum",
        zero_infinity=True,
    )
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    np.testing.assert_allclose(np.array(grad), x.grad.numpy(), atol=1e-5)


def test_targets_longer_than_the_audio_teach_nothing() -> None:
    log_probs = mx.log(mx.full((1, 2, 3), 1 / 3))
    loss = ctc_loss(log_probs, mx.array([2]), mx.array([[1, 1, 2]]), mx.array([3]), 0)
    assert loss.item() == 0.0
