"""The shipped demo model in the official `qwen-asr`: the same words as qasr from the same weights.

The official code cannot read MLX's 4-bit layers, so it loads tiny-en dequantized at float32
(exactly the numbers qasr's quantized matmuls multiply with); the held-out benchmark of the same
check on 400 clips is docs/benchmarks/tiny-en.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.app.entry.test_tiny_en import EXAMPLES, SPOKEN, needs_model

pytestmark = [pytest.mark.parity, needs_model]
torch = pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from qasr import Session, load_audio  # noqa: E402
from qasr.adapters.mlx.checkpoint.dequantize import write_dequantized_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from qwen_asr import Qwen3ASRModel

    folder = write_dequantized_checkpoint("tiny-en", tmp_path_factory.mktemp("tiny-en") / "f32")
    return Qwen3ASRModel.from_pretrained(str(folder), dtype=torch.float32, max_new_tokens=64)


def test_official_transcribes_the_examples_as_qasr_does(official: Any) -> None:
    clips = [load_audio(EXAMPLES / name) for name in SPOKEN]
    theirs = official.transcribe(audio=[(clip, 16_000) for clip in clips])
    ours = Session(model="tiny-en", dtype="float32").transcribe_batch(clips)
    assert [t.text for t in theirs] == [t.text for t in ours] == list(SPOKEN.values())
    assert [t.language for t in theirs] == ["English", "English"]


def test_the_copy_is_float_and_complete(tmp_path: Path) -> None:
    folder = write_dequantized_checkpoint("tiny-en", tmp_path / "copy")
    names = {path.name for path in folder.iterdir()}
    assert {"config.json", "vocab.json", "merges.txt", "chat_template.json"} <= names
    assert "quantization" not in (folder / "config.json").read_text()
