"""The fixed-shape decode step (plain and `mx.compile`d) picks the same tokens as the dynamic one.

Rows differ in length (left padding), context, language and budget, and a token said mid-way is
made an end token, so rows finish at different times.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.qwen_vocab import write_qwen_tokenizer_files

pytestmark = pytest.mark.parity
pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from qasr.adapters.mlx.model.static_decoder import DECODE_STEP_VARIABLE  # noqa: E402
from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.domain import FinishReason, RecognitionOptions  # noqa: E402
from qasr.errors import InvalidInputError  # noqa: E402

OPTIONS = [
    RecognitionOptions(max_new_tokens=24),
    RecognitionOptions(context="names: Qwen, MLX", max_new_tokens=13),
    RecognitionOptions(language="English", max_new_tokens=24),
    RecognitionOptions(max_new_tokens=7),
]


def mixed_clips(speech: np.ndarray) -> list[np.ndarray]:
    """Speech, noise and cuts of the speech: rows of different lengths and endings."""
    rng = np.random.default_rng(5)
    return [
        speech,
        (rng.standard_normal(18_000) * 0.1).astype(np.float32),
        speech[8_000:40_000],
        speech[:12_345],
    ]


@pytest.mark.parametrize("seed", [11, 12])
def test_static_and_compiled_steps_equal_the_dynamic_step(
    official_checkpoint: Any, speech_16k: np.ndarray, tmp_path: Path, seed: int
) -> None:
    checkpoint = official_checkpoint(seed=seed, weight_scale=6.0, vector_noise=0.3)
    shutil.copytree(checkpoint.folder, tmp_path, dirs_exist_ok=True)
    write_qwen_tokenizer_files(tmp_path)
    dynamic = MlxRecognizer.from_pretrained(tmp_path, dtype="float32", batch_size=4)
    dynamic.decode_step = "dynamic"
    clips = mixed_clips(speech_16k)
    dynamic.eos_ids = dynamic.eos_ids | {dynamic.decode(clips[0], OPTIONS[0]).tokens[9]}
    expected = [(d.tokens, d.finish_reason) for d in dynamic.decode_batch(clips, OPTIONS)]
    assert {reason for _, reason in expected} == {FinishReason.STOP, FinishReason.LENGTH}
    assert len({tokens for tokens, _ in expected}) == len(expected)
    for step in ("static", "compiled"):
        fixed = dynamic.with_draft(None)
        fixed.decode_step = step
        together = fixed.decode_batch(clips, OPTIONS)
        alone = [fixed.decode(c, o) for c, o in zip(clips, OPTIONS, strict=True)]
        assert [(d.tokens, d.finish_reason) for d in together] == expected, step
        assert [(d.tokens, d.finish_reason) for d in alone] == expected, step


def test_the_decode_step_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, official_checkpoint: Any, tmp_path: Path
) -> None:
    checkpoint = official_checkpoint(seed=11)
    shutil.copytree(checkpoint.folder, tmp_path, dirs_exist_ok=True)
    write_qwen_tokenizer_files(tmp_path)
    monkeypatch.setenv(DECODE_STEP_VARIABLE, "compiled")
    assert MlxRecognizer.from_pretrained(tmp_path, dtype="float32").decode_step == "compiled"
    monkeypatch.setenv(DECODE_STEP_VARIABLE, "fast")
    with pytest.raises(InvalidInputError, match="decode step must be one of"):
        MlxRecognizer.from_pretrained(tmp_path, dtype="float32")
