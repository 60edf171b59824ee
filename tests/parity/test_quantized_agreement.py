"""Quantized copies of a random official checkpoint against the float model, on the parity inputs.

Random models with the parity tests' large weights are chaotic: a 0.4 % weight error (8-bit)
changes some greedy sequences after a few tokens, so the agreement is measured and bounded from
below rather than required to be exact (scripts/quant_agreement.py has the numbers). What must
hold exactly is the order: fewer bits, larger error.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest

pytestmark = pytest.mark.parity
pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from tests.parity.test_recognizer_parity import SCALE, noise, qasr_folder  # noqa: E402

from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint  # noqa: E402
from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan  # noqa: E402
from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.domain import RecognitionOptions  # noqa: E402

NEW_TOKENS = 12


def prefix_agreement(reference: tuple[int, ...], other: tuple[int, ...]) -> float:
    same = next((i for i, (a, b) in enumerate(zip(reference, other, strict=False)) if a != b), None)
    return 1.0 if same is None else same / len(reference)


def rel_err(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


@pytest.fixture(scope="module")
def inputs(speech_16k: np.ndarray) -> list[tuple[np.ndarray, RecognitionOptions]]:
    """The end-to-end parity test's inputs: espeak-ng speech and noise, with and without hints."""
    return [
        (speech_16k, RecognitionOptions()),
        (noise(3.3, 1), RecognitionOptions(context="Qwen, MLX, parity")),
        (speech_16k[:20_000], RecognitionOptions(language="English")),
        (noise(1.05, 2), RecognitionOptions(language="zh-cn")),
    ]


@pytest.fixture(scope="module")
def recognizers(
    official_checkpoint: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, MlxRecognizer]:
    folder = qasr_folder(official_checkpoint(seed=0, **SCALE).folder, tmp_path_factory.mktemp("f"))
    models = {"float": MlxRecognizer.from_pretrained(folder, dtype="float32")}
    for bits in (8, 4):
        target = tmp_path_factory.mktemp("q") / f"q{bits}"
        convert_checkpoint(folder, target, quantization=QuantizationPlan(bits=bits, group_size=32))
        models[f"{bits}bit"] = MlxRecognizer.from_pretrained(target, dtype="float32")
    return models


def test_prefill_logit_error_grows_as_bits_shrink(recognizers: Any, inputs: Any) -> None:
    samples, options = inputs[2]  # the shortest speech: [prompt, vocabulary] logits are large
    reference = np.array(recognizers["float"].prompt_logits(samples, options))
    error8 = rel_err(np.array(recognizers["8bit"].prompt_logits(samples, options)), reference)
    error4 = rel_err(np.array(recognizers["4bit"].prompt_logits(samples, options)), reference)
    assert 0 < error8 < error4
    assert error8 < 0.05


def test_8bit_greedy_tokens_mostly_follow_the_float_model(recognizers: Any, inputs: Any) -> None:
    agreements = []
    for samples, options in inputs:
        budget = attrs.evolve(options, max_new_tokens=NEW_TOKENS)
        reference = recognizers["float"].decode(samples, budget).tokens
        quantized = recognizers["8bit"].decode(samples, budget).tokens
        agreements.append(prefix_agreement(reference, quantized))
    print(f"8-bit prefix agreement per input: {agreements}")
    assert np.mean(agreements) >= 0.25, agreements
