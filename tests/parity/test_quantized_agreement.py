"""Quantized copies of a random official checkpoint against the official float model.

The reference is the official PyTorch model (qwen_asr, float32) the checkpoint was saved from,
run on the same clips and prompts as qasr's 8-bit and 4-bit copies (`convert_checkpoint`, groups
of 32 so that the tiny decoder's 96-wide layers quantize). Two measures over every prompt
position, teacher-forced so that one early difference does not decide everything after it: the
relative RMS error of the logits, and how often the most likely next token is the official one.

Weights are scaled by 3, not by the 6 of the other parity tests: at 6 a random model amplifies
4-bit errors to near noise (relative RMS 0.4-0.5). Measured with this module's fixture on seeds 0
and 1 (6 and 3 bits by lifting `QuantizationPlan`'s check), over the four inputs below
(relative RMS, then top-1 agreement):

    8 bits  0.010-0.014, 0.95-1.00        4 bits  0.18-0.23, 0.43-0.79 (mean 0.62)
    6 bits  0.044-0.062, 0.88-1.00        3 bits  0.36-0.46, 0.05-0.29 (mean 0.16)

Each bound sits between a width and the next narrower one, so a conversion that quietly loses a
bit of precision (or quantizes something it should not) fails.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest

pytestmark = pytest.mark.parity
pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from tests.parity.test_recognizer_parity import (  # noqa: E402
    noise,
    official_processor,
    official_prompt_logits,
    qasr_folder,
)

from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint  # noqa: E402
from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan  # noqa: E402
from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.domain import RecognitionOptions  # noqa: E402

__all__ = ["official_processor"]  # a fixture this module uses

WEIGHTS = dict(seed=0, weight_scale=3.0, vector_noise=0.3)
# bits: (largest relative RMS error on any input, smallest mean top-1 agreement)
BOUNDS = {8: (0.025, 0.90), 4: (0.30, 0.45)}


class Agreement(NamedTuple):
    rms: list[float]  # per input: ||ours - official|| / ||official|| over all prompt logits
    top1: list[float]  # per input: fraction of prompt positions with the official argmax


def relative_rms(ours: np.ndarray, official: np.ndarray) -> float:
    return float(np.sqrt(np.mean((ours - official) ** 2) / np.mean(official**2)))


@pytest.fixture(scope="module")
def agreement(
    official_checkpoint: Any,
    official_processor: Any,
    speech_16k: np.ndarray,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[int, Agreement]:
    inputs = [
        (speech_16k, RecognitionOptions()),
        (noise(3.3, 1), RecognitionOptions(context="Qwen, MLX, parity")),
        (speech_16k[:20_000], RecognitionOptions(language="English")),
        (noise(1.05, 2), RecognitionOptions(language="zh-cn")),
    ]
    checkpoint = official_checkpoint(**WEIGHTS)
    root = tmp_path_factory.mktemp("quantized")
    folder = qasr_folder(checkpoint.folder, root / "float")
    official = [
        official_prompt_logits(checkpoint.model, official_processor, samples, options)
        for samples, options in inputs
    ]
    results = {}
    for bits in BOUNDS:
        target = root / f"q{bits}"
        convert_checkpoint(folder, target, quantization=QuantizationPlan(bits=bits, group_size=32))
        recognizer = MlxRecognizer.from_pretrained(target, dtype="float32")
        ours = [np.array(recognizer.prompt_logits(s, o)) for s, o in inputs]
        results[bits] = Agreement(
            [relative_rms(a, b) for a, b in zip(ours, official, strict=True)],
            [
                float(np.mean(a.argmax(-1) == b.argmax(-1)))
                for a, b in zip(ours, official, strict=True)
            ],
        )
    print({bits: result._asdict() for bits, result in results.items()})
    return results


@pytest.mark.parametrize("bits", sorted(BOUNDS))
def test_quantized_logits_stay_close_to_the_official_float_model(
    agreement: dict[int, Agreement], bits: int
) -> None:
    largest_rms, smallest_top1 = BOUNDS[bits]
    result = agreement[bits]
    assert max(result.rms) < largest_rms, result
    assert np.mean(result.top1) >= smallest_top1, result


def test_fewer_bits_err_more_on_every_input(agreement: dict[int, Agreement]) -> None:
    assert all(0 < e8 < e4 for e8, e4 in zip(agreement[8].rms, agreement[4].rms, strict=True))
