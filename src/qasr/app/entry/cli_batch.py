"""`qasr batch`: transcribe many files, resumably, here or on a Ray cluster (`--ray`).

Exit status: 0 when every file is transcribed (or was already), 3 when the job ran to the end
but some files failed (each has a `failed` line with its error in the results manifest), 2 for
a mistake found before any work (a missing input, a bad manifest row, an unusable output
folder, an unreachable Ray address), 130 when interrupted (finished files stay done).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from qasr.app import bootstrap
from qasr.app.entry.cli_support import (
    BATCH_SIZE_HELP,
    Parser,
    check_output_dir,
    positive_int,
    report_error,
    run_command,
)
from qasr.app.entry.progress_bar import StatusLine
from qasr.app.use_cases.batch import (
    RESULTS_NAME,
    BatchProgress,
    BatchRunner,
    BatchSummary,
    GroupWorker,
    LocalRunner,
    PoolRunner,
    collect_items,
    run_batch,
)
from qasr.domain import RecognitionOptions, find_language

SOME_FILES_FAILED = 3
BATCH_USAGE = "qasr batch INPUTS... -o DIR [-f FORMAT] [--force] [--ray [ADDRESS]] [options]"
# Chunks loaded before a decode, per chunk of the recognizer's batch: full batches, bounded memory.
FILL_BATCHES = 4
DEFAULT_BATCH_SIZE = 8  # a CPU's; without --batch-size the recognizer picks its own

ServiceFactory = Callable[..., Any]
PoolFactory = Callable[..., Any]


def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr batch",
        usage=BATCH_USAGE,
        description="Transcribe many files with one model load, decoding chunks of several "
        "files together. INPUTS are files, folders (their audio files, recursively; outputs "
        "keep the folder layout), quoted globs, or .jsonl manifests of "
        '{"audio", "language", "context", "output"} rows. Writes <DIR>/<name>.<format> per '
        f"file and one line per file in <DIR>/{RESULTS_NAME}. Running it again skips the "
        "files whose outputs are complete. Exit status 3 when some files failed.",
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUTS", help="files, folders, globs")
    parser.add_argument(
        "-o",
        "--output",
        "--output-dir",
        dest="output",
        metavar="DIR",
        required=True,
        help="the output folder (made if missing)",
    )
    parser.add_argument(
        "-f",
        "--output-format",
        default="txt",
        metavar="FORMAT",
        help="txt, json, srt, vtt, tsv, several joined by commas, or all (default: txt)",
    )
    parser.add_argument("--force", action="store_true", help="redo files already done")
    parser.add_argument(
        "--results", metavar="FILE", help=f"results manifest (<DIR>/{RESULTS_NAME})"
    )
    parser.add_argument("--language", help="force a language for files that name none")
    parser.add_argument("--context", default="", help="hint text for files that give none")
    parser.add_argument("--model", default=bootstrap.DEFAULT_MODEL, help="repo id or folder")
    parser.add_argument("--dtype", help="float32, bfloat16 or float16 (default: by device)")
    parser.add_argument("--timestamps", action="store_true", help="time every word")
    parser.add_argument("--forced-aligner", metavar="MODEL", help="aligner for --timestamps")
    parser.add_argument(
        "--max-new-tokens", type=positive_int, metavar="N", help="token budget per chunk"
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help=BATCH_SIZE_HELP,
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray: nothing for a cluster on this machine, or auto, HOST:PORT, "
        "ray://HOST:PORT (write --ray=ADDRESS when inputs follow)",
    )
    parser.add_argument(
        "--ray-actors",
        type=positive_int,
        metavar="N",
        help="actors (default: one per GPU, else as many as fit)",
    )
    parser.add_argument(
        "--ray-cpus-per-actor", type=float, metavar="N", help="default: 1 with GPUs, else 4"
    )
    parser.add_argument(
        "--ray-gpus-per-actor", type=float, metavar="N", help="default: 1 when GPUs exist"
    )
    parser.add_argument(
        "--files-per-task",
        type=positive_int,
        default=4,
        metavar="N",
        help="files per Ray task (default: 4)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--quiet", action="store_true", help="no summary line")
    parser.add_argument("--verbose", action="store_true", help="a line per file, tracebacks")
    return parser


def batch_command(
    words: Sequence[str],
    *,
    build_service: ServiceFactory | None = None,
    build_pool: PoolFactory | None = None,
) -> int:
    """`qasr batch ...`; tests pass a `build_service` that builds fakes (picklable for --ray)
    and a `build_pool`."""
    body = functools.partial(
        _batch,
        build_service=build_service or bootstrap.build_service,
        build_pool=build_pool or bootstrap.build_ray_pool,
    )
    return run_command(_build_parser(), words, body, report_bugs=True)


def _batch(args: argparse.Namespace, build_service: ServiceFactory, build_pool: PoolFactory) -> int:
    from qasr.app.entry.cli import _needs_timestamps  # cli.py owns which formats need times

    # Everything a user can get wrong is checked before a model loads or a cluster starts.
    extensions = bootstrap.output_extensions(args.output_format)
    check_output_dir(args.output)
    defaults = RecognitionOptions(
        language=find_language(args.language) if args.language else None,
        context=args.context,
        max_new_tokens=args.max_new_tokens,
    )
    items = collect_items(args.inputs, defaults)
    timestamps = args.timestamps or _needs_timestamps(args.output_format)
    wanted: dict[str, Any] = {"model": args.model, "dtype": args.dtype, "timestamps": timestamps}
    if args.batch_size:
        wanted["batch_size"] = args.batch_size
    if args.forced_aligner:
        wanted["forced_aligner"] = args.forced_aligner
    fill_chunks = FILL_BATCHES * (args.batch_size or DEFAULT_BATCH_SIZE)
    make_runner: Callable[[], BatchRunner]
    if args.ray is not None:
        # Before the job: an unreachable cluster is a mistake found before any work.
        pool = build_pool(
            args.ray,
            actors=args.ray_actors,
            cpus_per_actor=args.ray_cpus_per_actor,
            gpus_per_actor=args.ray_gpus_per_actor,
        )
        worker = GroupWorker(functools.partial(build_service, **wanted), timestamps, fill_chunks)
        make_runner = functools.partial(
            PoolRunner, pool, worker, files_per_task=args.files_per_task
        )
    else:
        # The model loads only when some file is left to do.
        def make_runner() -> BatchRunner:
            service = build_service(**wanted)
            return LocalRunner(service, timestamps=timestamps, fill_chunks=fill_chunks)

    show = _Display(sys.stderr, bar=not (args.no_progress or args.quiet), verbose=args.verbose)
    summary = run_batch(
        items,
        make_runner,
        output_dir=args.output,
        output_format=args.output_format,
        extensions=extensions,
        write_outputs=bootstrap.write_outputs,
        results_path=args.results,
        force=args.force,
        on_progress=show,
    )
    show.clear()
    if not args.quiet:
        print(f"qasr: {_summary_line(summary)}", file=sys.stderr, flush=True)
    return 0 if summary.ok else SOME_FILES_FAILED


def _summary_line(summary: BatchSummary) -> str:
    rate = summary.audio_seconds / summary.elapsed if summary.elapsed > 0 else 0.0
    return (
        f"{summary.total} files: {summary.transcribed} transcribed, {summary.skipped} already "
        f"done, {len(summary.failed)} failed; {summary.audio_seconds:.1f} s of audio in "
        f"{summary.elapsed:.1f} s ({rate:.1f} audio s/s); results in {summary.results_path}"
        + (
            f"; {summary.truncated} ran out of tokens (finish_reason length)"
            if summary.truncated
            else ""
        )
    )


class _Display(StatusLine):
    """Failed files as error lines, and a one-line bar with files, audio rate and ETA on a
    terminal (or a line per file with `verbose`)."""

    def __init__(self, out: TextIO, *, bar: bool, verbose: bool) -> None:
        super().__init__(out)
        self.bar = bar and out.isatty() and not verbose
        self.verbose = verbose

    def __call__(self, progress: BatchProgress) -> None:
        outcome = progress.outcome
        if outcome is not None and not outcome.ok:
            self.clear()
            name, error = outcome.item.source, str(outcome.error)
            report_error(error if name in error else f"{name}: {error}")
        elif outcome is not None and self.verbose:
            print(
                f"qasr: [{progress.files_done}/{progress.files_total}] {outcome.item.source}",
                file=self.out,
                flush=True,
            )
        if self.bar:
            self.draw(progress_line(progress))


def progress_line(progress: BatchProgress) -> str:
    """`[12/100] 1 failed | 301 s audio, 42.0 audio s/s | 3m10s, ETA 21m05s`."""
    eta = progress.eta_seconds
    failed = f" {progress.failed} failed |" if progress.failed else ""
    return (
        f"[{progress.files_done}/{progress.files_total}]{failed} "
        f"{progress.audio_seconds:.0f} s audio, {progress.audio_rate:.1f} audio s/s | "
        f"{_clock(progress.elapsed)}, ETA {'?' if eta is None else _clock(eta)}"
    )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


__all__ = ["SOME_FILES_FAILED", "batch_command", "progress_line"]
