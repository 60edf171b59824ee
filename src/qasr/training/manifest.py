"""Training data: a JSON-lines manifest, one `{"audio", "text", "language"}` object per line.

Every row is checked when the file is read; a bad row stops training with the file and line
number, because a silently skipped row is a silently different data set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs

from qasr.domain import Language, find_language
from qasr.errors import ManifestError, UnknownLanguageError

_ROW_SHAPE = '{"audio": "clip.wav", "text": "what is said", "language": "English"}'


@attrs.frozen
class Example:
    """One training utterance. `language` is None only for a clip without speech."""

    audio: Path
    text: str
    language: Language | None
    context: str = ""
    where: str = ""  # "manifest.jsonl:12", for messages about this row


def read_manifest(path: str | os.PathLike[str]) -> tuple[Example, ...]:
    """All rows of a manifest; relative audio paths are relative to the manifest's folder."""
    manifest = Path(path)
    if not manifest.is_file():
        raise ManifestError(
            f"{str(manifest)!r} is not a file; pass a JSON-lines manifest with one "
            f"{_ROW_SHAPE} object per line"
        )
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"cannot read {manifest} as UTF-8 text: {error}") from None
    examples = tuple(
        _example(line, f"{manifest}:{number}", manifest.parent)
        for number, line in enumerate(lines, start=1)
        if line.strip()
    )
    if not examples:
        raise ManifestError(f"{manifest} has no rows; write one {_ROW_SHAPE} object per line")
    return examples


def _example(line: str, where: str, folder: Path) -> Example:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ManifestError(
            f"{where}: not valid JSON ({error.msg}); expected {_ROW_SHAPE}"
        ) from None
    if not isinstance(row, dict):
        raise ManifestError(f"{where}: expected a JSON object like {_ROW_SHAPE}")
    audio = _text_field(row, "audio", where, required=True)
    text = _text_field(row, "text", where, required=True)
    if not audio:
        raise ManifestError(f'{where}: "audio" is empty; give the path of the clip')
    audio_path = Path(audio).expanduser()
    if not audio_path.is_absolute():
        audio_path = folder / audio_path
    if not audio_path.is_file():
        raise ManifestError(
            f"{where}: audio file {str(audio_path)!r} does not exist (relative paths are "
            "relative to the manifest's folder)"
        )
    return Example(
        audio=audio_path,
        text=text,
        language=_language(row, text, where),
        context=_text_field(row, "context", where, required=False),
        where=where,
    )


def _text_field(row: dict[str, Any], key: str, where: str, *, required: bool) -> str:
    if key not in row and not required:
        return ""
    if key not in row:
        raise ManifestError(f'{where}: missing "{key}"; each row needs {_ROW_SHAPE}')
    value = row[key]
    if not isinstance(value, str):
        raise ManifestError(f'{where}: "{key}" must be a string, got {type(value).__name__}')
    return value


def _language(row: dict[str, Any], text: str, where: str) -> Language | None:
    value = row.get("language")
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        if text.strip():
            # The model writes the language before every transcript; it cannot learn one that
            # the data does not give.
            raise ManifestError(
                f'{where}: no "language" for a non-empty transcript; give its name or code '
                '(e.g. "English" or "en"; see qasr --list-languages)'
            )
        return None
    if not isinstance(value, str):
        raise ManifestError(f'{where}: "language" must be a string, got {type(value).__name__}')
    try:
        return find_language(value)
    except UnknownLanguageError as error:
        raise ManifestError(f"{where}: {error}") from None


__all__ = ["Example", "ManifestError", "read_manifest"]
