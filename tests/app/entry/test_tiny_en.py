"""The bundled demo model: `--model tiny-en` transcribes the committed example clips offline.

The clips are espeak-ng voices that training never heard (held-out variants f3 and m4) saying
sentences that are not in the training corpus (scripts/tiny_en.py, docs/adr/0014). Until the
trained model is bundled (issue 8: CPU training has not converged yet), only the lookup's error
is tested and the rest is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qasr.adapters.mlx.checkpoint import files as model_files
from qasr.adapters.mlx.checkpoint.files import (
    bundled_model_folder,
    is_bundled,
    resolve_model_folder,
)
from qasr.app.entry.cli import main
from qasr.errors import ModelNotFoundError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SPOKEN = {
    "tiny-en-1.wav": "the national election will begin on March third",
    "tiny-en-2.wav": "Sheila Morrison will accept the offer",
}


BUNDLED = is_bundled("tiny-en")
needs_model = pytest.mark.skipif(
    not BUNDLED, reason="tiny-en is not bundled yet (issue 20: held-out WER 27.5%, target < 10%)"
)


def test_a_missing_bundled_model_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(model_files, "bundled_model_folder", lambda name: tmp_path / name)
    with pytest.raises(ModelNotFoundError, match="bundled model 'tiny-en' is missing"):
        resolve_model_folder("tiny-en")
    assert main([str(EXAMPLES / "tiny-en-1.wav"), "--model", "tiny-en", "--stdout-only"]) == 2
    assert "tiny-en" in capsys.readouterr().err


def test_errors_advertise_the_demo_model_only_once_it_ships(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_files, "bundled_model_folder", lambda name: tmp_path / name)
    with pytest.raises(ModelNotFoundError) as absent:
        resolve_model_folder("no-such-folder")
    assert "tiny-en" not in str(absent.value)
    (tmp_path / "tiny-en").mkdir()
    (tmp_path / "tiny-en" / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match="tiny-en, bundled with qasr"):
        resolve_model_folder("no-such-folder")


@needs_model
def test_the_name_resolves_to_the_packaged_folder() -> None:
    folder = resolve_model_folder("tiny-en")
    assert folder == bundled_model_folder("tiny-en")
    config = json.loads((folder / "config.json").read_text())
    assert config["quantization"]["bits"] == 4
    assert config["thinker_config"]["text_config"]["vocab_size"] == 151_936


@needs_model
def test_the_package_stays_small() -> None:
    size = sum(path.stat().st_size for path in bundled_model_folder("tiny-en").iterdir())
    assert size < 20e6


@needs_model
def test_the_cli_transcribes_the_examples_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    files = [str(EXAMPLES / name) for name in SPOKEN]
    status = main([*files, "--model", "tiny-en", "--output-dir", str(tmp_path), "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    for name, text in SPOKEN.items():
        assert text in printed
        assert (tmp_path / name).with_suffix(".txt").read_text().strip() == text


@needs_model
def test_the_session_transcribes_an_example() -> None:
    from qasr import Session

    session = Session(model="tiny-en")
    transcript = session.transcribe(EXAMPLES / "tiny-en-1.wav")
    assert transcript.text == SPOKEN["tiny-en-1.wav"]
    assert transcript.language is not None and transcript.language.name == "English"
