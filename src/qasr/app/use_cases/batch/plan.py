"""What a bulk job transcribes: inputs from files, globs, folders and JSON-lines manifests, each
with its options and the name of its outputs.

Everything here is decided before any model loads, so a missing path, an empty folder or a bad
manifest row costs nothing. Output names are stable from run to run (resume compares them): a
folder's files keep their place under it (`in/2019/ep1.mp3` -> `<output>/2019/ep1.txt`), a file
or a glob match is named by its stem, and a manifest row may name its output itself.
"""

from __future__ import annotations

import glob
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import attrs

from qasr.domain import RecognitionOptions, find_language
from qasr.errors import InvalidInputError, ManifestError, UnknownLanguageError

# What a folder walk picks up: the containers ffmpeg reads that hold speech, plus WAV.
AUDIO_SUFFIXES = frozenset((
    ".wav", ".wave", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".webm", ".mp4",
    ".m4v", ".mkv", ".mov", ".avi", ".wma", ".aif", ".aiff", ".amr", ".3gp", ".caf",
))  # fmt: skip
MANIFEST_SUFFIX = ".jsonl"
_ROW_SHAPE = '{"audio": "talk.wav", "language": "en", "context": "names", "output": "talk"}'
_ROW_KEYS = frozenset({"audio", "language", "context", "output"})
_GLOB_CHARACTERS = frozenset("*?[")


@attrs.frozen
class BatchItem:
    """One input file of a job: where it is, how to recognise it, where its outputs go.

    `key` (the resolved path) identifies the file in the results manifest; `output` is the
    outputs' path under the output folder without extension, in POSIX form (`2019/ep1`).
    """

    source: str
    key: str
    output: str
    options: RecognitionOptions = RecognitionOptions()
    input_bytes: int = 0


def collect_items(
    inputs: Sequence[str], defaults: RecognitionOptions = RecognitionOptions()
) -> list[BatchItem]:
    """Every input file named by `inputs`, in order, each once (the first naming wins).

    A name is a file, a folder (its audio files, recursively, in sorted order), a glob
    (`"talks/**/*.mp3"`, for shells that do not expand it) or a `.jsonl` manifest. Raises one
    `InvalidInputError` naming every missing path, empty folder and unmatched glob, or a
    `ManifestError` naming the manifest's bad lines.
    """
    if not inputs:
        raise InvalidInputError("no inputs; give audio files, folders, globs or a .jsonl manifest")
    found: list[tuple[Path, str, RecognitionOptions]] = []
    problems: list[str] = []
    for name in inputs:
        path = Path(name).expanduser()
        if path.is_dir():
            listed = _folder_files(path)
            if not listed:
                problems.append(f"the folder {name!r} holds no audio files")
            found.extend((file, _relative_output(file, path), defaults) for file in listed)
        elif path.is_file() and path.suffix.lower() == MANIFEST_SUFFIX:
            found.extend(_manifest_rows(path, defaults))
        elif path.is_file():
            found.append((path, path.stem, defaults))
        elif _GLOB_CHARACTERS & set(name):
            matches = sorted(Path(match) for match in glob.glob(name, recursive=True))
            files = [match for match in matches if match.is_file()]
            if not files:
                problems.append(f"the pattern {name!r} matches no files")
            found.extend((file, file.stem, defaults) for file in files)
        else:
            problems.append(f"no such file or folder: {name!r}")
    if problems:
        raise InvalidInputError("; ".join(problems))
    return _named(_once(found))


def _folder_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in AUDIO_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _relative_output(file: Path, folder: Path) -> str:
    return PurePosixPath(*file.relative_to(folder).parts).with_suffix("").as_posix()


def _once(
    found: Iterable[tuple[Path, str, RecognitionOptions]],
) -> list[tuple[Path, str, str, RecognitionOptions]]:
    seen: set[str] = set()
    kept = []
    for path, output, options in found:
        key = str(path.resolve())
        if key not in seen:
            seen.add(key)
            kept.append((path, key, output, options))
    return kept


def _named(found: list[tuple[Path, str, str, RecognitionOptions]]) -> list[BatchItem]:
    """Items whose outputs never collide: names that clash (letter case aside, as on macOS and
    Windows) keep their input's extension (`x.wav`, `x.mp3`); a clash left after that is an
    error, since silently renaming would break resuming."""
    outputs = [output for _, _, output, _ in found]
    for group in _clashes(outputs):
        for index in group:
            outputs[index] = f"{outputs[index]}{found[index][0].suffix}"
    left = _clashes(outputs)
    if left:
        names = ", ".join(repr(str(found[index][0])) for index in left[0])
        raise InvalidInputError(
            f"these inputs would write the same output files: {names}; pass their folder "
            'instead (outputs keep the folder layout) or name them in a manifest ("output")'
        )
    return [
        BatchItem(str(path), key, output, options, _size(path))
        for (path, key, _, options), output in zip(found, outputs, strict=True)
    ]


def _clashes(outputs: Sequence[str]) -> list[list[int]]:
    groups: defaultdict[str, list[int]] = defaultdict(list)
    for index, output in enumerate(outputs):
        groups[output.casefold()].append(index)
    return [group for group in groups.values() if len(group) > 1]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _manifest_rows(
    manifest: Path, defaults: RecognitionOptions
) -> list[tuple[Path, str, RecognitionOptions]]:
    """A manifest's rows; relative paths are relative to its folder. Every bad line is named."""
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"cannot read the manifest {str(manifest)!r}: {error}") from None
    rows, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(_manifest_row(line, manifest.parent, defaults))
        except ManifestError as problem:
            problems.append(f"line {number}: {problem}")
    if problems:
        shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        raise ManifestError(
            f"{manifest}: {len(problems)} bad row(s): {shown} (each row is {_ROW_SHAPE})"
        )
    if not rows:
        raise ManifestError(f"{manifest} has no rows; write one {_ROW_SHAPE} object per line")
    return rows


def _manifest_row(
    line: str, folder: Path, defaults: RecognitionOptions
) -> tuple[Path, str, RecognitionOptions]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ManifestError(f"not valid JSON ({error.msg})") from None
    if not isinstance(row, dict):
        raise ManifestError("not a JSON object")
    unknown = sorted(set(row) - _ROW_KEYS)
    if unknown:
        raise ManifestError(f"unknown key(s) {', '.join(map(repr, unknown))}")
    audio = _text(row, "audio")
    if not audio:
        raise ManifestError('no "audio" path')
    path = Path(audio).expanduser()
    path = path if path.is_absolute() else folder / path
    if not path.is_file():
        raise ManifestError(f"no such file {str(path)!r}")
    output = _text(row, "output") or path.stem
    pure = PurePosixPath(output)
    if pure.is_absolute() or ".." in pure.parts or "\\" in output or pure.name in ("", "."):
        raise ManifestError(
            f'"output" must be a relative path inside the output folder: {output!r}'
        )
    language = _text(row, "language")
    try:
        options = RecognitionOptions(
            language=find_language(language) if language else defaults.language,
            context=_text(row, "context") if "context" in row else defaults.context,
            max_new_tokens=defaults.max_new_tokens,
        )
    except UnknownLanguageError as error:
        raise ManifestError(str(error)) from None
    return path, pure.as_posix(), options


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ManifestError(f'"{key}" must be a string, got {type(value).__name__}')
    return value.strip() if key != "context" else value


def output_paths(
    item: BatchItem, output_dir: str | os.PathLike[str], extensions: Sequence[str]
) -> list[Path]:
    """The files `item` writes: `<output_dir>/<item.output><extension>` for each extension."""
    base = Path(output_dir, *PurePosixPath(item.output).parts)
    return [base.with_name(base.name + extension) for extension in extensions]
