"""`qasr convert --to-layout`: the same weights in the other layout decode the same tokens."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.qwen_vocab import write_qwen_tokenizer_files

from qasr.app.entry.cli import main

pytestmark = pytest.mark.parity
pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.domain import RecognitionOptions  # noqa: E402


def test_to_hf_and_back_decodes_identically(
    official_checkpoint: Any, speech_16k: np.ndarray, tmp_path: Path, capsys: Any
) -> None:
    original = tmp_path / "original"
    shutil.copytree(
        official_checkpoint(seed=3, weight_scale=6.0, vector_noise=0.3).folder, original
    )
    write_qwen_tokenizer_files(original)
    hf, back = tmp_path / "hf", tmp_path / "back"
    assert (
        main(["convert", "--model", str(original), "--to-layout", "hf", "--output", str(hf)]) == 0
    )
    assert "audio_config" in json.loads((hf / "config.json").read_text())
    assert (
        main(["convert", "--model", str(hf), "--to-layout", "original", "--output", str(back)]) == 0
    )
    assert "hf layout" in capsys.readouterr().out

    clip, options = speech_16k[:40_000], RecognitionOptions(max_new_tokens=12)
    tokens = {
        name: MlxRecognizer.from_pretrained(folder, dtype="float32").decode(clip, options).tokens
        for name, folder in {"original": original, "hf": hf, "back": back}.items()
    }
    assert tokens["original"] == tokens["hf"] == tokens["back"]
    assert len(set(tokens["original"])) > 1


def test_to_layout_refuses_quantization_in_one_line(tmp_path: Path, capsys: Any) -> None:
    argv = ["convert", "--model", str(tmp_path), "--to-layout", "hf", "--quantize", "8"]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("qasr: error: --to-layout")
