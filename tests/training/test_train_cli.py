"""`qasr train` end to end on a tiny model, and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from qasr.app.entry.cli import main


def test_train_writes_a_model(
    tiny_folder: Path,
    manifests: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = tmp_path / "out"
    words = ["train", "--data", str(manifests[0]), "--model", str(tiny_folder)]
    words += ["--output", str(output), "--steps", "2", "--batch-size", "2", "--lora-rank", "2"]
    assert main(words) == 0
    captured = capsys.readouterr()
    assert f"wrote {output}" in captured.out
    assert "step 2/2" in captured.err and "ETA" in captured.err
    assert (output / "model.safetensors").is_file()
    assert (output / "checkpoints" / "step-000002" / "trainer_state.json").is_file()


def test_a_bad_manifest_row_is_one_clear_line(
    tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "bad.jsonl"
    manifest.write_text('{"audio": "missing.wav", "text": "x", "language": "en"}\n')
    words = ["train", "--data", str(manifest), "--model", str(tiny_folder)]
    assert main([*words, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qasr: error:") and f"{manifest}:1" in err and "\n" not in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", "x.jsonl"]) == 2
    assert "qasr train --help" in capsys.readouterr().err


def test_ctc_weight_reaches_the_run_and_the_resume_check(
    tiny_folder: Path,
    manifests: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = tmp_path / "out"
    words = ["train", "--data", str(manifests[0]), "--model", str(tiny_folder)]
    words += ["--output", str(output), "--steps", "2", "--batch-size", "2", "--save-every", "1"]
    assert main([*words, "--ctc-weight", "0.5"]) == 0
    state = (output / "checkpoints" / "step-000002" / "trainer_state.json").read_text()
    assert '"ctc_weight": 0.5' in state
    capsys.readouterr()
    assert main([*words, "--ctc-weight", "0.3", "--resume"]) == 2  # other settings than the run
    assert "ctc_weight" in capsys.readouterr().err
    assert main([*words, "--ctc-weight", "-1"]) == 2
    assert "ctc-weight must be >= 0" in capsys.readouterr().err
