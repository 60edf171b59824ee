"""A bulk job: skip what is done, decode the rest with a runner, write each file's outputs and
its line in the results manifest as it finishes.

The rules are the runner's no matter where it decodes: a file is skipped only when the manifest
proves its outputs complete (results.py) unless `force`; a failed file gets a `failed` line with
its error and the job goes on; an interrupted job keeps every line already written, so running
it again redoes only what had not finished.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

import attrs

from qasr.app.use_cases.batch.decode import FileOutcome
from qasr.app.use_cases.batch.plan import BatchItem, output_paths
from qasr.app.use_cases.batch.results import RESULTS_NAME, ResultsLog, is_done, result_row
from qasr.app.use_cases.batch.runners import BatchRunner
from qasr.domain import Transcript
from qasr.errors import OutputWriteError, QasrError

# bootstrap.write_outputs: (transcript, folder, stem, format) -> the paths written.
WriteOutputs = Callable[[Transcript, Path, str, str], list[Path]]


@attrs.frozen
class BatchProgress:
    """Where a job stands after each file; `outcome` is the file just finished (None at start)."""

    files_total: int
    files_done: int = 0
    failed: int = 0
    skipped: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    audio_seconds: float = 0.0
    elapsed: float = 0.0
    outcome: FileOutcome | None = None

    @property
    def audio_rate(self) -> float:
        """Audio seconds transcribed per wall-clock second."""
        return self.audio_seconds / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Time left, from the input bytes still to go at the bytes-per-second rate so far
        (durations are known only once a file is decoded; bytes are known up front)."""
        if self.bytes_done <= 0 or self.elapsed <= 0:
            return None
        return (self.bytes_total - self.bytes_done) * self.elapsed / self.bytes_done


@attrs.frozen
class BatchSummary:
    total: int
    transcribed: int
    skipped: int
    failed: tuple[tuple[str, str], ...]  # (input, error) per failed file
    audio_seconds: float
    elapsed: float
    results_path: Path
    truncated: int = 0  # transcribed files whose token budget ran out (finish_reason "length")

    @property
    def ok(self) -> bool:
        return not self.failed


def run_batch(
    items: Sequence[BatchItem],
    make_runner: Callable[[], BatchRunner],
    *,
    output_dir: str | os.PathLike[str],
    output_format: str,
    extensions: Sequence[str],
    write_outputs: WriteOutputs,
    results_path: str | os.PathLike[str] | None = None,
    force: bool = False,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> BatchSummary:
    """Transcribe the `items` not done yet; `extensions` are those of `output_format`'s writers
    (what a complete file has written). `make_runner` (which loads the model or starts the
    actors) is called once the results manifest is open and only if something is left to do."""
    started = time.monotonic()
    folder = Path(output_dir)
    manifest = Path(results_path) if results_path is not None else folder / RESULTS_NAME
    report = on_progress or (lambda progress: None)
    with ResultsLog(manifest) as log:
        todo = [
            item
            for item in items
            if force
            or not is_done(
                log.rows.get(item.key), item, folder, output_paths(item, folder, extensions)
            )
        ]
        progress = BatchProgress(
            files_total=len(todo),
            skipped=len(items) - len(todo),
            bytes_total=sum(item.input_bytes for item in todo),
        )
        report(progress)
        failed: list[tuple[str, str]] = []
        truncated = 0
        outcomes = make_runner().run(todo) if todo else iter(())
        try:
            for outcome in outcomes:
                row = _record(outcome, folder, output_format, write_outputs)
                log.append(row)
                if row["status"] != "ok":
                    failed.append((outcome.item.source, str(row["error"])))
                elif outcome.transcript is not None and outcome.transcript.truncated:
                    truncated += 1
                progress = attrs.evolve(
                    progress,
                    files_done=progress.files_done + 1,
                    failed=len(failed),
                    bytes_done=progress.bytes_done + outcome.item.input_bytes,
                    audio_seconds=progress.audio_seconds + (outcome.duration or 0.0),
                    elapsed=time.monotonic() - started,
                    outcome=outcome,
                )
                report(progress)
        finally:
            # Even on Ctrl-C, at once: a Ray runner stops its actors when its stream closes.
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()
    return BatchSummary(
        total=len(items),
        transcribed=progress.files_done - len(failed),
        skipped=progress.skipped,
        failed=tuple(failed),
        audio_seconds=progress.audio_seconds,
        elapsed=time.monotonic() - started,
        results_path=manifest,
        truncated=truncated,
    )


def _record(
    outcome: FileOutcome, folder: Path, output_format: str, write_outputs: WriteOutputs
) -> dict[str, object]:
    if not outcome.ok:
        return result_row(outcome, folder, [], 0.0)
    assert outcome.transcript is not None
    output = PurePosixPath(outcome.item.output)
    started = time.perf_counter()
    try:
        paths = write_outputs(
            outcome.transcript, folder.joinpath(*output.parent.parts), output.name, output_format
        )
    except OutputWriteError as error:
        # The formats written stay; the line says failed, so the next run writes them all again.
        written = [Path(str(path)) for path in error.written]
        return result_row(outcome, folder, written, time.perf_counter() - started, str(error))
    except QasrError as error:
        return result_row(outcome, folder, [], time.perf_counter() - started, str(error))
    return result_row(outcome, folder, paths, time.perf_counter() - started)
