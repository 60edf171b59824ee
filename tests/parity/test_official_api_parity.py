"""The official `qwen-asr` API, loading qasr's dequantized copy, says what qasr says.

A random official checkpoint (real vocabulary, the parity tests' large weights) is quantized as
tiny-en ships (`qasr convert --quantize 4 --encoder-bits 16 --dtype float16`, here with groups of
32 so that the tiny decoder's 96-wide layers quantize) and written back as a float copy
(`write_dequantized_checkpoint`, which adds the processor's side files). The official
`Qwen3ASRModel.from_pretrained(copy)` must then build qasr's prompt and, through its public
`transcribe()` (batched, left-padded), return exactly qasr's text for the quantized model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from tests.parity.test_recognizer_parity import SCALE, noise, qasr_folder  # noqa: E402

from qasr import Session  # noqa: E402
from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint  # noqa: E402
from qasr.adapters.mlx.checkpoint.dequantize import write_dequantized_checkpoint  # noqa: E402
from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan  # noqa: E402
from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.adapters.mlx.text.prompt import build_prompt  # noqa: E402

NEW_TOKENS = 24
PLAN = QuantizationPlan(bits=4, group_size=32, encoder_bits=16)
# The official tokenizer loads with `fix_mistral_regex=True`, which (for a config.json saved by
# transformers 4.57.3-4.x) swaps in a pre-tokenizer that splits camel case ("iPhone" -> "i",
# "Phone"); these contexts pre-tokenize the same either way.
CONTEXTS = ["", "Qwen, MLX, parity", "two\nlines", "  spaced  ", "中文和English"]


@pytest.fixture(scope="module")
def checkpoints(official_checkpoint: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(quantized qasr folder, its dequantized copy)."""
    root = tmp_path_factory.mktemp("official-api")
    source = qasr_folder(official_checkpoint(seed=11, **SCALE).folder, root / "float")
    quantized = convert_checkpoint(
        source, root / "quantized", quantization=PLAN, dtype="float16"
    ).folder
    return quantized, write_dequantized_checkpoint(quantized, root / "dequantized")


@pytest.fixture(scope="module")
def official(checkpoints: tuple[Path, Path]) -> Any:
    from qwen_asr import Qwen3ASRModel

    return Qwen3ASRModel.from_pretrained(
        str(checkpoints[1]), dtype=torch.float32, max_new_tokens=NEW_TOKENS
    )


@pytest.fixture(scope="module")
def session(checkpoints: tuple[Path, Path]) -> Session:
    return Session(MlxRecognizer.from_pretrained(checkpoints[0], dtype="float32"))


@pytest.mark.parametrize("language", [None, "English"])
@pytest.mark.parametrize("context", CONTEXTS)
def test_official_prompt_is_qasrs(official: Any, context: str, language: str | None) -> None:
    expected = build_prompt(context, language, n_audio_tokens=1)
    assert official._build_text_prompt(context, language) == expected


@pytest.mark.parametrize(
    ("context", "language"), [("", None), ("Qwen, MLX, parity", None), ("", "English")]
)
def test_official_transcribe_says_what_qasr_says(
    official: Any,
    session: Session,
    speech_16k: np.ndarray,
    context: str,
    language: str | None,
) -> None:
    clips = [speech_16k, noise(3.3, 1), speech_16k[:20_000], noise(1.05, 2)]
    theirs = official.transcribe(
        audio=[(clip, 16_000) for clip in clips], context=context, language=language
    )
    ours = session.transcribe_batch(
        clips, context=context, language=language, max_new_tokens=NEW_TOKENS
    )
    assert [t.text for t in ours] == [t.text for t in theirs]
    # Equal texts mean something only if the random model says different, non-empty things.
    assert len({t.text for t in theirs}) >= 3 and all(t.text for t in theirs)
