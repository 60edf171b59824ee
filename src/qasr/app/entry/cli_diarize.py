"""`qasr diarize AUDIO...`: who speaks when, as RTTM, with no speech recognition.

Prints each file's RTTM lines and writes `<output-dir>/<stem>.rttm`. The built-in diarizer is the
default (offline, no token); `--diarizer pyannote` runs a pyannote.audio pipeline.
"""

from __future__ import annotations

import argparse
import functools
import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qasr.app import bootstrap
from qasr.app.entry.cli_support import (
    USER_ERROR,
    Parser,
    check_output_dir,
    positive_int,
    report_error,
    run_command,
)

DIARIZE_USAGE = (
    "qasr diarize AUDIO... [-o DIR] [--num-speakers N | --min-speakers N --max-speakers N] "
    "[--diarizer {builtin,pyannote}] [options]"
)

DiarizerFactory = Callable[..., Any]


def add_speaker_arguments(parser: argparse.ArgumentParser) -> None:
    """The speaker-count and diarizer options that `qasr diarize` and `qasr transcribe` share."""
    parser.add_argument("--num-speakers", type=positive_int, help="exactly N speakers")
    parser.add_argument("--min-speakers", type=positive_int, help="at least N speakers")
    parser.add_argument("--max-speakers", type=positive_int, help="at most N speakers")
    parser.add_argument(
        "--diarizer",
        choices=bootstrap.DIARIZERS,
        default="builtin",
        help="builtin (offline, no token; default) or pyannote (extra 'diarize', a hub token)",
    )
    parser.add_argument(
        "--pipeline",
        metavar="ID_OR_FOLDER",
        help="the pyannote pipeline for --diarizer pyannote "
        "(default: pyannote/speaker-diarization-community-1)",
    )


def speaker_options(args: argparse.Namespace) -> dict[str, Any]:
    """`bootstrap.build_diarizer`'s keywords from the parsed speaker arguments."""
    chosen: dict[str, Any] = {"kind": args.diarizer}
    for name in ("num_speakers", "min_speakers", "max_speakers", "pipeline"):
        if getattr(args, name) is not None:
            chosen[name] = getattr(args, name)
    return chosen


def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr diarize",
        usage=DIARIZE_USAGE,
        description="Say who speaks when in each file, as RTTM (SPEAKER lines): printed, and "
        "written to <output-dir>/<file stem>.rttm. The number of speakers is found "
        "automatically unless bounded.",
    )
    parser.add_argument("files", nargs="*", metavar="AUDIO", help="audio or video files")
    parser.add_argument("-o", "--output-dir", default=".", help="where files go (default: .)")
    parser.add_argument("--stdout-only", action="store_true", help="print only, write no files")
    parser.add_argument("--quiet", action="store_true", help="do not print the turns")
    add_speaker_arguments(parser)
    parser.add_argument("--verbose", action="store_true", help="tracebacks for errors")
    return parser


def _diarize(args: argparse.Namespace, build_diarizer: DiarizerFactory, audio_source: Any) -> int:
    if not args.files:
        return report_error(f"no input files; usage: {DIARIZE_USAGE}")
    if not args.stdout_only:
        check_output_dir(args.output_dir)
    # Before any audio is read: impossible speaker bounds and a missing extra fail at once.
    diarizer = build_diarizer(**speaker_options(args))
    source = audio_source or bootstrap.build_audio_source()
    failed = False
    for name in args.files:
        if not Path(name).is_file():
            failed = True
            report_error(f"no such file: {name!r}")
            continue
        clip = source.load(name)
        turns = diarizer.diarize(clip)
        text = io.StringIO()
        bootstrap.write_rttm(turns, name, text)
        if not args.quiet:
            sys.stdout.write(text.getvalue())
            sys.stdout.flush()
        if not args.stdout_only:
            target = Path(args.output_dir) / f"{Path(name).stem}.rttm"
            target.write_text(text.getvalue(), encoding="utf-8")
    return USER_ERROR if failed else 0


def diarize_command(
    words: Sequence[str],
    *,
    build_diarizer: DiarizerFactory | None = None,
    audio_source: Any = None,
) -> int:
    """`qasr diarize`; `build_diarizer` / `audio_source` replace the composition root's."""
    body = functools.partial(
        _diarize,
        build_diarizer=build_diarizer or bootstrap.build_diarizer,
        audio_source=audio_source,
    )
    return run_command(_build_parser(), words, body, help_hint="qasr diarize --help")


__all__ = ["DIARIZE_USAGE", "add_speaker_arguments", "diarize_command", "speaker_options"]
