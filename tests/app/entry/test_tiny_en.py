"""The bundled demo model: `--model tiny-en` transcribes the committed example clips offline.

The clips are two of the held-out test split (`python -m qasr.training.synth heldout --train 0
--test 1000 --seed 0 --english everyday`, clips 204 and 313, past the 200 that
docs/benchmarks/tiny-en.json scores): voice variants training never heard saying sentences that
are not in the training corpus. They were picked among the clips the first shipped model got
right (its held-out WER was 22.6%; the model shipped now scores 4.7%, docs/benchmarks/tiny-en.json),
so that the README's first command shows what a working model prints.
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
    "tiny-en-1.wav": "It was half past two in Germany.",
    "tiny-en-2.wav": "The vacation cost five hundred ninety seven dollars.",
}


BUNDLED = is_bundled("tiny-en")
needs_model = pytest.mark.skipif(
    not BUNDLED, reason="this installation ships without src/qasr/models/tiny-en"
)


def test_the_checkout_ships_the_model() -> None:
    # The skips above only spare an installation built without the model; a checkout has it.
    assert BUNDLED, f"{bundled_model_folder('tiny-en')} holds no config.json"


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
    assert size < 30e6  # issue 20: under ~30 MB


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


def test_the_readme_first_command_transcribes_these_examples() -> None:
    # The README's first line is what a newcomer runs; the test above checks what it prints.
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    first = readme.split("```bash\n", 1)[1].splitlines()[0].split("#", 1)[0]
    install, transcribe = (part.strip() for part in first.split("&&"))
    assert install == 'pip install -e ".[cpu]"'
    words = transcribe.split()
    assert words[:2] == ["qasr", "transcribe"] and words[-2:] == ["--model", "tiny-en"]
    assert sorted(
        path.name for path in EXAMPLES.glob(words[2].removeprefix("examples/"))
    ) == sorted(SPOKEN)
