"""Writing transcripts to files: each format on its own, each file in one step.

Each format is rendered in memory and then written, independently of the others: a format that
cannot be written (subtitles of a transcript without word times, a full disk) does not cost the
others, and `OutputWriteError` names every file that was not written. A file is first written to
a temporary file in the same folder and moved into place with `os.replace`, which is atomic on
POSIX and Windows: a reader never sees half a file, and an old file of the same name survives a
failed write. New files get the user's umask (0644 by default); a replaced file keeps its mode.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from qasr.adapters.writers.registry import writers_for
from qasr.domain import Transcript
from qasr.errors import InvalidInputError, OutputWriteError, QasrError
from qasr.ports import Writer

# What a new file's mode is before the umask, as `open()` and shell redirection use.
_NEW_FILE_MODE = 0o666


def render(writer: Writer, transcript: Transcript) -> str:
    """What `writer` would write, as a string."""
    buffer = io.StringIO()
    writer.write(transcript, buffer)
    return buffer.getvalue()


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8, "\\n" newlines) in one step."""
    kept_mode = _mode_of(path)
    descriptor, temporary = _new_file_beside(path)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            if kept_mode is not None and os.chmod in os.supports_fd:
                os.chmod(handle.fileno(), kept_mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _mode_of(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def _new_file_beside(path: Path) -> tuple[int, Path]:
    """A new, open file next to `path`. `tempfile.mkstemp` would make it 0600 whatever the
    umask; opening with 0666 lets the kernel apply the umask, as for any file a tool writes."""
    while True:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(
                temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _NEW_FILE_MODE
            ), temporary
        except FileExistsError:
            continue


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
    created if missing. A format that cannot be rendered or written leaves the others written
    and raises `OutputWriteError` afterwards (its `.written` lists those that were).
    """
    if not stem or stem in (".", "..") or Path(stem).name != stem:
        raise InvalidInputError(f"the output file stem must be a plain file name, got {stem!r}")
    writers = _writers(format)
    folder = Path(output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputWriteError([(folder, _reason(error))], []) from error
    written: list[Path] = []
    failures: list[tuple[object, str]] = []
    for writer in writers:
        path = folder / f"{stem}{writer.extension}"
        try:
            write_atomically(path, render(writer, transcript))
        except (QasrError, OSError) as error:
            failures.append((path, _reason(error)))
        else:
            written.append(path)
    if failures:
        raise OutputWriteError(failures, list(written))
    return written


def _reason(error: Exception) -> str:
    # An OSError's own text names the temporary file; its strerror ("Permission denied") is
    # what the user needs next to the output path.
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
