"""Manifest rows: good ones become examples, a bad one stops with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qasr.domain import find_language
from qasr.errors import InvalidInputError
from qasr.training.manifest import ManifestError, read_manifest


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "b.wav").write_bytes(b"RIFF")
    return tmp_path


def write(folder: Path, *lines: object) -> Path:
    path = folder / "train.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


def test_rows_become_examples_with_paths_relative_to_the_manifest(folder: Path) -> None:
    path = write(
        folder,
        {"audio": "a.wav", "text": "hello", "language": "en"},
        "",
        {"audio": str(folder / "clips" / "b.wav"), "text": "你好", "language": "Sichuan"},
        {"audio": "clips/b.wav", "text": "", "language": None, "context": "names: Qwen"},
    )
    first, second, third = read_manifest(path)
    assert first.audio == folder / "a.wav"
    assert first.language == find_language("English")
    assert first.where == f"{path}:1"
    # A dialect trains the name the model writes for it.
    assert second.language is not None and second.language.prompt_name == "Chinese"
    assert second.where == f"{path}:3"  # blank lines count
    assert third.language is None and third.text == "" and third.context == "names: Qwen"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"audio": "a.wav", "text": "hi"', "not valid JSON"),
        ('["a.wav", "hi"]', "expected a JSON object"),
        ({"text": "hi", "language": "en"}, 'missing "audio"'),
        ({"audio": "a.wav", "language": "en"}, 'missing "text"'),
        ({"audio": "a.wav", "text": 3, "language": "en"}, '"text" must be a string'),
        ({"audio": "a.wav", "text": "hi", "language": "Klingon"}, "Klingon"),
        ({"audio": "a.wav", "text": "hi"}, 'no "language"'),
        ({"audio": "gone.wav", "text": "hi", "language": "en"}, "gone.wav"),
        ({"audio": "", "text": "hi", "language": "en"}, '"audio" is empty'),
    ],
)
def test_a_bad_row_names_file_and_line(folder: Path, line: object, says: str) -> None:
    good = {"audio": "a.wav", "text": "fine", "language": "en"}
    path = write(folder, good, good, line)
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    message = str(caught.value)
    assert f"{path}:3" in message
    assert says in message
    assert isinstance(caught.value, InvalidInputError)


def test_missing_or_empty_manifest(folder: Path) -> None:
    with pytest.raises(ManifestError, match="not a file"):
        read_manifest(folder / "nope.jsonl")
    with pytest.raises(ManifestError, match="no rows"):
        read_manifest(write(folder, ""))
