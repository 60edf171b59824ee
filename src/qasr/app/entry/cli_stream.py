"""`qasr stream FILE` and `qasr listen`: live text from a recording or a microphone (ADR 0020).

On a terminal the tentative text of the open window is one line rewritten in place and each
committed window is printed as a line of its own; elsewhere (a pipe, a file) only committed
lines are written, or every event as a JSON line with `--json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from qasr.app import bootstrap
from qasr.app.entry.cli_support import Parser, run_command
from qasr.app.entry.session import Session
from qasr.app.use_cases.streaming import (
    CommittedText,
    FinalTranscript,
    PartialText,
    StreamEvent,
)
from qasr.errors import InvalidInputError

STREAM_USAGE = "qasr stream FILE [--realtime] [--step SECONDS] [--model MODEL] [--json]"
LISTEN_USAGE = "qasr listen [--device DEVICE] [--rate HZ] [--duration SECONDS] [--model MODEL]"


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=bootstrap.DEFAULT_MODEL, help="repo id or folder")
    parser.add_argument("--dtype", help="float32, bfloat16 or float16 (default: by device)")
    parser.add_argument("--language", help="force a language (default: detected, then kept)")
    parser.add_argument("--context", default="", help="domain words or a hint text")
    parser.add_argument(
        "--step", type=_positive_float, default=2.0, help="re-decode every SECONDS (default: 2)"
    )
    parser.add_argument(
        "--window", type=_positive_float, default=30.0, help="longest window (default: 30 s)"
    )
    parser.add_argument(
        "--commit-after-silence",
        type=_positive_float,
        metavar="SECONDS",
        help="commit at every pause this long (default: only near the window limit)",
    )
    parser.add_argument("--json", action="store_true", help="every event as a JSON line")
    parser.add_argument("--verbose", action="store_true", help="tracebacks on errors")


def _stream_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr stream",
        usage=STREAM_USAGE,
        description="Transcribe a recording as if it were live: partial text every --step "
        "seconds, committed text window by window.",
    )
    parser.add_argument("file", help="an audio or video file")
    parser.add_argument(
        "--realtime", action="store_true", help="feed the audio at the pace it was spoken"
    )
    _common(parser)
    return parser


def _listen_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr listen",
        usage=LISTEN_USAGE,
        description="Transcribe the microphone live (needs the mic extra). Ctrl-C stops.",
    )
    parser.add_argument("--device", help="input device index or name (default: the system's)")
    parser.add_argument("--rate", type=int, default=16000, help="sample rate (default: 16000)")
    parser.add_argument("--duration", type=_positive_float, help="stop after SECONDS")
    parser.add_argument("--list-devices", action="store_true", help="list input devices")
    _common(parser)
    return parser


class EventPrinter:
    """Writes events to `out`: committed lines, and on a terminal the partial line in place."""

    def __init__(self, out: TextIO, *, as_json: bool, live: bool) -> None:
        self.out, self.as_json, self.live = out, as_json, live
        self._partial_shown = False

    def __call__(self, event: StreamEvent) -> None:
        if self.as_json:
            self.out.write(json.dumps(_event_json(event), ensure_ascii=False) + "\n")
        elif isinstance(event, PartialText) and self.live:
            self.out.write("\r\033[K" + event.text[-200:])
            self._partial_shown = True
        elif isinstance(event, CommittedText):
            if self._partial_shown:
                self.out.write("\r\033[K")
                self._partial_shown = False
            if event.text:
                self.out.write(f"[{_clock(event.start)} -> {_clock(event.end)}] {event.text}\n")
        self.out.flush()


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:05.2f}"


def _event_json(event: StreamEvent) -> dict[str, Any]:
    if isinstance(event, FinalTranscript):
        transcript = event.transcript
        language = transcript.language.name if transcript.language else None
        return {
            "type": "final",
            "text": transcript.text,
            "language": language,
            "duration": transcript.duration,
        }
    kind = "partial" if isinstance(event, PartialText) else "committed"
    return {
        "type": kind,
        "text": event.text,
        "start": round(event.start, 3),
        "end": round(event.end, 3),
        "language": event.language.name if event.language else None,
    }


def _run(args: argparse.Namespace, source: Any, out: TextIO) -> int:
    session = Session(args.model, args.dtype)
    stream = session.stream(
        language=args.language,
        context=args.context,
        step=args.step,
        window=args.window,
        sample_rate=source.sample_rate,
        commit_after_silence=args.commit_after_silence,
    )
    show = EventPrinter(out, as_json=args.json, live=out.isatty())
    try:
        for piece in source.pieces():
            for event in stream.feed(piece):
                show(event)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the audio: what was heard is still committed below
    finally:
        source.close()
    for event in stream.finish():
        show(event)
    return 0


def stream_command(words: Sequence[str], out: TextIO | None = None) -> int:
    def body(args: argparse.Namespace) -> int:
        source = bootstrap.build_file_stream(args.file, realtime=args.realtime)
        return _run(args, source, out or sys.stdout)

    return run_command(_stream_parser(), words, body, report_bugs=True)


def listen_command(words: Sequence[str], out: TextIO | None = None) -> int:
    def body(args: argparse.Namespace) -> int:
        target = out or sys.stdout
        if args.list_devices:
            for index, name, rate in bootstrap.list_input_devices():
                target.write(f"{index}: {name} ({rate} Hz)\n")
            return 0
        if args.rate <= 0:
            raise InvalidInputError(f"--rate must be positive, got {args.rate}")
        device = int(args.device) if args.device and args.device.isdigit() else args.device
        source = bootstrap.build_microphone_stream(
            device=device, sample_rate=args.rate, duration=args.duration
        )
        return _run(args, source, target)

    return run_command(_listen_parser(), words, body, interrupted="stopped", report_bugs=True)
