"""The results manifest of a bulk job: one JSON line per file, and what makes a file done.

The manifest is appended one line per finished file (each line in one `write`, then fsync), so
a killed run loses at most the line being written; a torn last line is ignored on reading. Each
run starts by rewriting it atomically (temporary file + `os.replace`) with the last line of each
input, so it never grows past one line per file. A file counts as done only when its line says
`ok`, the input still has the size and modification time it had, and every output it lists is
there with the size it was written with: outputs are themselves written atomically, so a
half-written output never exists under its name, and one cut short by anything else is redone.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from qasr.app.use_cases.batch.decode import FileOutcome
from qasr.app.use_cases.batch.plan import BatchItem
from qasr.errors import InvalidInputError

RESULTS_NAME = "qasr-batch.jsonl"
SCHEMA = "qasr.batch-result/1"


def result_row(
    outcome: FileOutcome,
    output_dir: Path,
    outputs: Sequence[Path],
    write_seconds: float,
    write_error: str | None = None,
) -> dict[str, Any]:
    """The manifest line of a finished file; `outputs` are the files written for it, recorded
    relative to `output_dir` (an output folder moved elsewhere still resumes)."""
    item, transcript = outcome.item, outcome.transcript
    error = outcome.error or write_error
    language = transcript.language if transcript is not None else None
    stat = _stat(item.source)
    return {
        "schema": SCHEMA,
        "input": item.source,
        "key": item.key,
        "status": "ok" if error is None else "failed",
        "duration": outcome.duration,
        "language": None if language is None else language.name,
        "finish_reason": None if transcript is None else transcript.finish_reason.value,
        "outputs": [
            {"path": _relative(path, output_dir), "bytes": _size(path)} for path in outputs
        ],
        "input_bytes": None if stat is None else stat.st_size,
        "input_mtime_ns": None if stat is None else stat.st_mtime_ns,
        "timings": {
            "load_seconds": round(outcome.load_seconds, 4),
            "decode_seconds": round(outcome.decode_seconds, 4),
            "write_seconds": round(write_seconds, 4),
        },
        "worker": outcome.worker,
        "error": error,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def is_done(
    row: dict[str, Any] | None, item: BatchItem, output_dir: Path, expected: Sequence[Path]
) -> bool:
    """Whether `row` (the manifest's last line for `item`) proves its outputs complete."""
    if row is None or row.get("status") != "ok":
        return False
    stat = _stat(item.source)
    if stat is None or (row.get("input_bytes"), row.get("input_mtime_ns")) != (
        stat.st_size,
        stat.st_mtime_ns,
    ):
        return False  # the input changed since, or is gone
    listed = {entry.get("path"): entry.get("bytes") for entry in row.get("outputs") or ()}
    if set(listed) != {_relative(path, output_dir) for path in expected}:
        return False  # another format or output name this time
    return all(_size(output_dir / path) == size for path, size in listed.items())


def _relative(path: Path, output_dir: Path) -> str:
    return Path(path).relative_to(output_dir).as_posix()


class ResultsLog:
    """The manifest at `path`, locked for one run: `rows` are the last line per input key."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.rows: dict[str, dict[str, Any]] = {}
        self._handle: IO[str] | None = None
        self._lock: IO[str] | None = None

    def __enter__(self) -> ResultsLog:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A lock file beside the manifest: the manifest itself is replaced by each rewrite.
            self._lock = open(self.path.with_name(f".{self.path.name}.lock"), "a")
            _lock(self._lock, self.path)
            self.rows = read_rows(self.path)
            self._rewrite()
            self._handle = open(self.path, "a", encoding="utf-8")
        except OSError as error:
            self.__exit__()
            raise InvalidInputError(
                f"cannot write the results manifest {str(self.path)!r}: {error.strerror or error}"
            ) from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in (self._handle, self._lock):
            if handle is not None:
                handle.close()
        self._handle = self._lock = None

    def append(self, row: dict[str, Any]) -> None:
        assert self._handle is not None, "use ResultsLog as a context manager"
        self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.rows[row["key"]] = row

    def _rewrite(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            for row in self.rows.values():
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


def read_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The last line per input key; lines that are not ours (a torn last line) are skipped."""
    rows: dict[str, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return rows
    except OSError as error:
        raise InvalidInputError(
            f"cannot read the results manifest {str(path)!r}: {error}"
        ) from None
    for line in lines:
        with contextlib.suppress(json.JSONDecodeError):
            row = json.loads(line)
            if isinstance(row, dict) and row.get("schema") == SCHEMA and "key" in row:
                rows[row["key"]] = row
    return rows


def _lock(handle: IO[str], path: Path) -> None:
    """One run per manifest: two writing into one output folder would redo each other's files."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; one run at a time is on the user
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise InvalidInputError(
            f"another qasr batch is writing {str(path)!r}; wait for it or give another --output"
        ) from None


def _stat(name: str) -> os.stat_result | None:
    try:
        return os.stat(name)
    except OSError:
        return None


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def iter_failed(rows: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (row for row in rows.values() if row.get("status") != "ok")
