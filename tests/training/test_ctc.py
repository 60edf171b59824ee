"""The CTC loss equals PyTorch's, values and gradients (ours from the hand-written backward
recursion, not autodiff), on random batches of mixed lengths, eager and compiled."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def ours(
    logits: np.ndarray, input_lengths: np.ndarray, targets: np.ndarray, target_lengths: np.ndarray
) -> tuple[mx.array, mx.array]:
    """(loss [B], d(loss . weights)/d logits) with distinct weights per example, so a gradient
    sent to the wrong example shows."""
    weights = mx.arange(1, logits.shape[0] + 1).astype(mx.float32)

    def loss(x: mx.array) -> mx.array:
        log_probs = x - mx.logsumexp(x, axis=-1, keepdims=True)
        return ctc_loss(
            log_probs, mx.array(input_lengths), mx.array(targets), mx.array(target_lengths), 0
        )

    return loss(mx.array(logits)), mx.grad(lambda x: (loss(x) * weights).sum())(mx.array(logits))


def torchs(
    logits: np.ndarray, input_lengths: np.ndarray, targets: np.ndarray, target_lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    x = torch.tensor(logits, requires_grad=True)
    losses = torch.nn.functional.ctc_loss(
        x.log_softmax(-1).transpose(0, 1),
        torch.tensor(targets, dtype=torch.long),
        torch.tensor(input_lengths),
        torch.tensor(target_lengths),
        blank=0,
        reduction="none",
        zero_infinity=True,
    )
    (losses * torch.arange(1, logits.shape[0] + 1)).sum().backward()
    return losses.detach().numpy(), x.grad.numpy()


def assert_equals_torch(*case: np.ndarray) -> None:
    loss, grad = ours(*case)
    expected_loss, expected_grad = torchs(*case)
    np.testing.assert_allclose(np.array(loss), expected_loss, rtol=1e-5, atol=1e-5)
    # Relative as well as absolute: float32 rounding grows with the gradient's size (an empty
    # target over 8 frames gave -3.8334 vs torch's -3.8334, 2.1e-5 apart: 5e-6 of it).
    np.testing.assert_allclose(np.array(grad), expected_grad, rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("seed", range(3))
def test_equals_torch(seed: int) -> None:
    assert_equals_torch(*random_case(seed))


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 4),
    frames=st.integers(1, 14),
    classes=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_equals_torch_on_any_lengths(
    batch: int, frames: int, classes: int, seed: int, data: st.DataObject
) -> None:
    """Clips of one frame, empty targets, targets too long for their frames (zero loss, zero
    gradient), repeats that need a blank between them: whatever the lengths, torch's numbers."""
    rng = np.random.default_rng(seed)
    S = data.draw(st.integers(1, 7))
    input_lengths = np.array(
        data.draw(st.lists(st.integers(1, frames), min_size=batch, max_size=batch))
    )
    target_lengths = np.array(
        data.draw(st.lists(st.integers(0, S), min_size=batch, max_size=batch))
    )
    assert_equals_torch(*_case(rng, frames, classes, S, input_lengths, target_lengths))


def _case(
    rng: np.random.Generator,
    frames: int,
    classes: int,
    S: int,
    input_lengths: np.ndarray,
    target_lengths: np.ndarray,
) -> tuple[np.ndarray, ...]:
    batch = len(input_lengths)
    targets = rng.integers(1, classes, size=(batch, S)).astype(np.int32)
    logits = (rng.standard_normal((batch, frames, classes)) * 3).astype(np.float32)
    return logits, input_lengths, targets, target_lengths


def test_a_large_gradient_is_compared_relative_to_its_size() -> None:
    """Hypothesis's find: empty targets, one clip of 8 frames, a gradient of -3.83."""
    rng = np.random.default_rng(0)
    case = _case(rng, 9, 4, 1, np.array([1, 1, 1, 8]), np.array([0, 0, 0, 0]))
    assert_equals_torch(*case)


def test_compiled_equals_eager() -> None:
    """The CPU trainer compiles the whole step, the custom gradient inside it."""
    logits, input_lengths, targets, target_lengths = random_case(7)

    def loss(x: mx.array) -> mx.array:
        log_probs = x - mx.logsumexp(x, axis=-1, keepdims=True)
        return ctc_loss(
            log_probs, mx.array(input_lengths), mx.array(targets), mx.array(target_lengths), 0
        ).sum()

    eager = mx.value_and_grad(loss)(mx.array(logits))
    compiled = mx.compile(mx.value_and_grad(loss))(mx.array(logits))
    for a, b in zip(eager, compiled, strict=True):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-6, atol=1e-6)


def test_targets_longer_than_the_audio_teach_nothing() -> None:
    log_probs = mx.log(mx.full((1, 2, 3), 1 / 3))
    loss = ctc_loss(log_probs, mx.array([2]), mx.array([[1, 1, 2]]), mx.array([3]), 0)
    assert loss.item() == 0.0
    grad = mx.grad(
        lambda x: ctc_loss(x, mx.array([2]), mx.array([[1, 1, 2]]), mx.array([3]), 0).sum()
    )(log_probs)
    assert not mx.any(grad).item()
