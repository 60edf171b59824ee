"""Speculative decoding on real (random) checkpoints gives the target's greedy tokens exactly.

Drafts: the target itself (every proposal right), the target's matrices with other biases and
norms (some right), and an unrelated model (almost none right). Rows differ in length, context,
language and budget, so they finish at different times, and EOS falls inside drafts.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.parity.test_static_decoding import mixed_clips
from tests.support.qwen_vocab import write_qwen_tokenizer_files

pytestmark = pytest.mark.parity
pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.domain import FinishReason, RecognitionOptions  # noqa: E402
from qasr.errors import InvalidInputError  # noqa: E402


def _recognizer(official_checkpoint: Any, target: Path, **kwargs: Any) -> MlxRecognizer:
    checkpoint = official_checkpoint(weight_scale=6.0, **kwargs)
    shutil.copytree(checkpoint.folder, target, dirs_exist_ok=True)
    write_qwen_tokenizer_files(target)
    return MlxRecognizer.from_pretrained(target, dtype="float32", batch_size=4)


OPTIONS = [
    RecognitionOptions(max_new_tokens=24),
    RecognitionOptions(context="names: Qwen, MLX", max_new_tokens=13),
    RecognitionOptions(language="English", max_new_tokens=24),
    RecognitionOptions(max_new_tokens=7),
]


@pytest.fixture(scope="module")
def models(official_checkpoint: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("speculative")
    target = _recognizer(official_checkpoint, folder / "target", seed=11, vector_noise=0.3)
    return {
        "target": target,
        "itself": target,
        "cousin": _recognizer(official_checkpoint, folder / "cousin", seed=11, vector_noise=0.32),
        "stranger": _recognizer(official_checkpoint, folder / "other", seed=12, vector_noise=0.3),
    }


@pytest.mark.parametrize(("draft_name", "k"), [("itself", 4), ("cousin", 3), ("stranger", 5)])
def test_speculative_equals_greedy_batch_and_one_by_one(
    models: dict[str, Any], speech_16k: np.ndarray, draft_name: str, k: int
) -> None:
    target: MlxRecognizer = models["target"].with_draft(None)
    clips = mixed_clips(speech_16k)
    # Random models rarely say EOS: make a token that row 0 says mid-way an end token too.
    first = target.decode(clips[0], OPTIONS[0])
    target.eos_ids = target.eos_ids | {first.tokens[9]}
    greedy = [target.decode(clip, option) for clip, option in zip(clips, OPTIONS, strict=True)]
    speculative = target.with_draft(models[draft_name], k)
    speculative.eos_ids = target.eos_ids
    alone = [speculative.decode(c, o) for c, o in zip(clips, OPTIONS, strict=True)]
    together = speculative.decode_batch(clips, OPTIONS)
    assert speculative.last_generation is not None
    expected = [(d.tokens, d.finish_reason) for d in greedy]
    assert [(d.tokens, d.finish_reason) for d in alone] == expected
    assert [(d.tokens, d.finish_reason) for d in together] == expected
    # Meaningful only if rows differ and both endings occur.
    assert len({d.tokens for d in greedy}) == len(greedy)
    assert {d.finish_reason for d in greedy} == {FinishReason.STOP, FinishReason.LENGTH}
    generation = speculative.last_generation
    if draft_name == "itself":
        assert generation.accepted == generation.drafted > 0


def test_the_cousin_draft_is_partly_right(models: dict[str, Any], speech_16k: np.ndarray) -> None:
    speculative = models["target"].with_draft(models["cousin"], 4)
    speculative.decode(speech_16k, RecognitionOptions(max_new_tokens=24))
    generation = speculative.last_generation
    assert generation is not None and 0 < generation.accepted < generation.drafted


def test_a_draft_needs_a_valid_number_of_tokens(models: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match="num_draft_tokens"):
        models["target"].with_draft(models["cousin"], 0)
