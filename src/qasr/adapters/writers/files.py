"""Writing transcripts to files, all or nothing.

Every output is rendered in memory before any file is touched, so a format that cannot be
written (subtitles without word times) leaves no file behind, not even the others. Each file is
then written to a temporary file in the same folder and moved into place with `os.replace`,
which is atomic on POSIX and Windows: a reader never sees half a file, and an old file of the
same name survives a failed write.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from qasr.adapters.writers.registry import writers_for
from qasr.domain import Transcript
from qasr.errors import InvalidInputError
from qasr.ports import Writer


def render(writer: Writer, transcript: Transcript) -> str:
    """What `writer` would write, as a string."""
    buffer = io.StringIO()
    writer.write(transcript, buffer)
    return buffer.getvalue()


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8, "\\n" newlines) in one step."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _writers(format: str | Writer | Iterable[Writer]) -> tuple[Writer, ...]:
    if isinstance(format, str):
        return writers_for(format)
    if isinstance(format, Writer):
        return (format,)
    return tuple(format)


def write_files(
    transcript: Transcript,
    output_dir: str | os.PathLike[str],
    stem: str,
    format: str | Writer | Iterable[Writer] = "txt",
) -> list[Path]:
    """Write `<output_dir>/<stem><extension>` for each format; return the paths written.

    `format` is a name ("srt"), several ("srt,json"), "all", or writer objects. The folder is
    created if missing. Nothing is written unless every format can be rendered.
    """
    if not stem or stem in (".", "..") or Path(stem).name != stem:
        raise InvalidInputError(f"the output file stem must be a plain file name, got {stem!r}")
    rendered = [(writer, render(writer, transcript)) for writer in _writers(format)]
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for writer, text in rendered:
        path = folder / f"{stem}{writer.extension}"
        write_atomically(path, text)
        paths.append(path)
    return paths
