"""How far two float32 runs of one training step may drift apart when only the order of their
sums differs: one BLAS or another (OpenBLAS blocks and vectorises its sums, MLX's reference BLAS
adds them in a loop), a compact vocabulary or the full one.

The rounding model is Higham & Mary's ("A new approach to probabilistic rounding error
analysis", SIAM J. Sci. Comput. 41(5), 2019): a value computed through n rounded additions is
within lambda * sqrt(n) * u of the exact one, relative to the magnitudes added, except with a
probability below 2n * exp(-lambda^2 / 2); u = 2^-24 in float32. The worst case n * u is far
from what rounding does and would make every tolerance meaningless. Two runs, each within the
bound, are within twice it of each other.

AdamW then divides each gradient by its own running scale, so an element whose gradient is
small next to its module's largest one (a key bias, whose exact gradient is zero) turns the same
absolute rounding into a large step difference. `adamw_step_drift` propagates the gradients'
rounding through the update to first order and caps it by what AdamW can move a weight at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

UNIT_ROUNDOFF = 2.0**-24
LAMBDA = 6.0  # 2n * exp(-18) < 1e-3 for the n < 3 * 10^4 additions behind any one value here

Arrays = Mapping[str, npt.NDArray[np.float64]]


def drift(terms: float) -> float:
    """The relative difference two float32 evaluations of a value made of `terms` rounded
    additions, in different orders, may show."""
    return 2 * LAMBDA * math.sqrt(terms) * UNIT_ROUNDOFF


def module_of(name: str) -> str:
    return name.rsplit(".", 1)[0]


def module_maxima(gradients: Arrays) -> dict[str, float]:
    """The largest |gradient| of each module (a weight and its bias share one)."""
    maxima: dict[str, float] = {}
    for name, gradient in gradients.items():
        module = module_of(name)
        maxima[module] = max(maxima.get(module, 0.0), float(np.abs(gradient).max(initial=0.0)))
    return maxima


def gradients_from_moments(moments: Sequence[Arrays], beta1: float) -> list[dict[str, np.ndarray]]:
    """Each step's gradient, as AdamW received it, from the first moment after every step:
    m_s = beta1 * m_(s-1) + (1 - beta1) * g_s."""
    gradients = []
    previous: Arrays = {}
    for moment in moments:
        gradients.append(
            {
                name: (m - beta1 * previous.get(name, 0.0)) / (1 - beta1)
                for name, m in moment.items()
            }
        )
        previous = moment
    return gradients


def adamw_step_drift(
    gradients: Sequence[Arrays],
    learning_rate: float,
    eta: Callable[[str], float],
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> dict[str, npt.NDArray[np.float64]]:
    """Per element, how far the latest bias-corrected AdamW step of two runs from equal weights
    may differ, when every gradient so far differs by at most `eta(name)` times its module's
    largest |gradient| (`gradients` are one run's, oldest first).

    The update is u = m^/(sqrt(v^) + eps) with m^ = sum_r a_r g_r and v^ = sum_r b_r g_r^2, so
    |du/dg_r| <= a_r/(sqrt(v^)+eps) + |m^| b_r |g_r| / (sqrt(v^) (sqrt(v^)+eps)^2); and whatever
    the gradients, |u| <= sqrt(sum_r a_r^2 / b_r) (Cauchy-Schwarz), so no two updates differ by
    more than that plus |u|.
    """
    beta1, beta2 = betas
    steps = len(gradients)
    a = [(1 - beta1) * beta1 ** (steps - r) / (1 - beta1**steps) for r in range(1, steps + 1)]
    b = [(1 - beta2) * beta2 ** (steps - r) / (1 - beta2**steps) for r in range(1, steps + 1)]
    largest_update = math.sqrt(sum(ar * ar / br for ar, br in zip(a, b, strict=True)))
    maxima = [module_maxima(step) for step in gradients]
    bounds = {}
    for name in gradients[-1]:
        history = [step[name] for step in gradients]
        m_hat = sum(ar * g for ar, g in zip(a, history, strict=True))
        root = np.sqrt(sum(br * g * g for br, g in zip(b, history, strict=True)))
        update = np.abs(m_hat) / (root + eps)
        sensitivity = sum(
            (
                ar / (root + eps)
                + np.abs(m_hat) * br * np.abs(g) / (np.maximum(root, 1e-300) * (root + eps) ** 2)
            )
            * eta(name)
            * maxima[r][module_of(name)]
            for r, (ar, br, g) in enumerate(zip(a, b, history, strict=True))
        )
        bounds[name] = learning_rate * np.minimum(sensitivity, largest_update + update)
    return bounds
