"""The `qasr` command: transcribe files, list the languages, check the install.

Every mistake a user can make ends as one `qasr: error: ...` line on stderr and exit status 2;
`--verbose` adds the traceback. Anything else is a bug in qasr and says so (exit status 1).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import qasr
from qasr.app import bootstrap
from qasr.app.entry.cli_batch import batch_command
from qasr.app.entry.cli_checkpoints import convert_command, train_command
from qasr.app.entry.cli_diarize import add_speaker_arguments, diarize_command, speaker_options
from qasr.app.entry.cli_serve import serve_command
from qasr.app.entry.cli_stream import listen_command, stream_command
from qasr.app.entry.cli_support import (
    BATCH_SIZE_HELP,
    USER_ERROR,
    Parser,
    check_output_dir,
    output_stems,
    positive_int,
    report_error,
    run_command,
    same_file_once,
    warn,
)
from qasr.app.entry.progress_bar import ProgressBar
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import (
    LANGUAGES,
    LanguageKind,
    ProgressEvent,
    RecognitionOptions,
    Stage,
    find_language,
)
from qasr.errors import FeatureUnavailableError, InvalidInputError, OutputWriteError
from qasr.ports import Aligner

OUTPUT_FORMATS = ("txt", "json", "srt", "vtt", "tsv", "all")
# Subtitles and TSV rows are phrases of timed words: asking for them asks for timestamps.
_TIMED_FORMATS = frozenset({"srt", "vtt", "tsv", "all"})
_USAGE = (
    "qasr [transcribe] FILES... [options]\n"
    "       qasr convert --model SRC --output DIR [--quantize {4,8}] [options]\n"
    "       qasr align AUDIO --text TEXT [options]\n"
    "       qasr diarize AUDIO... [-o DIR] [--num-speakers N] [--diarizer {builtin,pyannote}]\n"
    "       qasr train --data TRAIN.jsonl --model BASE --output DIR [options]\n"
    "       qasr serve [--host HOST] [--port PORT] (--api-key KEY | --no-auth) [options]\n"
    "       qasr batch INPUTS... -o DIR [-f FORMAT] [--force] [--ray [ADDRESS]] [options]\n"
    "       qasr stream FILE [--realtime] [--step SECONDS] | qasr listen [--device DEVICE]\n"
    "       qasr --list-languages | --doctor | --version"
)
_ALIGN_USAGE = "qasr align AUDIO (--text TEXT | --text-file FILE) [options]"

ServiceFactory = Callable[..., TranscriptionService]
AlignerFactory = Callable[..., Aligner]


def _add_output_arguments(
    parser: argparse.ArgumentParser, default_format: str, format_note: str = ""
) -> None:
    """`-o` and `-f`, which `qasr` and `qasr align` share."""
    parser.add_argument("-o", "--output-dir", default=".", help="where files go (default: .)")
    parser.add_argument(
        "-f",
        "--output-format",
        default=default_format,
        metavar="{" + ",".join(OUTPUT_FORMATS) + "}",
        help=f"file format, or several joined by commas{format_note} (default: {default_format})",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr",
        usage=_USAGE,
        description="Transcribe speech with Qwen3-ASR on MLX. Prints each transcript (under a "
        "'==> FILE <==' line when there are several) and writes <output-dir>/<file stem>.<format>; "
        "inputs that share a stem keep their extension (x.wav.txt, x.mp3.txt), then their "
        "folder's name (a_x.wav.txt). Where outputs go is checked before anything is decoded.",
    )
    parser.add_argument("files", nargs="*", metavar="FILES", help="audio or video files")
    _add_output_arguments(parser, "txt", "; srt, vtt and tsv turn --timestamps on")
    parser.add_argument("--language", help="force a language (name or code: English, en, zh...)")
    parser.add_argument("--context", default="", help="domain words or a hint text for the model")
    parser.add_argument(
        "--model",
        default=bootstrap.DEFAULT_MODEL,
        help=f"Hugging Face repo id or local folder (default: {bootstrap.DEFAULT_MODEL})",
    )
    parser.add_argument("--dtype", help="float32, bfloat16 or float16 (default: by device)")
    parser.add_argument("--timestamps", action="store_true", help="time every word")
    parser.add_argument(
        "--diarize",
        action="store_true",
        help="say who speaks when (turns --timestamps on; the speaker options imply it)",
    )
    add_speaker_arguments(parser)
    parser.add_argument(
        "--max-new-tokens",
        type=positive_int,
        help="token budget per 30 s chunk (default: by length)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        help=BATCH_SIZE_HELP,
    )
    parser.add_argument(
        "--draft-model",
        metavar="MODEL",
        help="a smaller Qwen3-ASR model of the same family that proposes tokens for --model to "
        "check (speculative decoding: the same transcript, faster when the draft agrees often)",
    )
    parser.add_argument(
        "--num-draft-tokens",
        type=positive_int,
        help="tokens the draft proposes per check (default: 4; needs --draft-model)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (also off when stderr is not a terminal)",
    )
    parser.add_argument(
        "--forced-aligner",
        metavar="MODEL",
        help="Qwen3-ForcedAligner repo id or folder for --timestamps "
        f"(default: {bootstrap.DEFAULT_ALIGNER})",
    )
    parser.add_argument("--stdout-only", action="store_true", help="print only, write no files")
    parser.add_argument("--quiet", action="store_true", help="do not print transcripts")
    parser.add_argument("--verbose", action="store_true", help="progress and tracebacks")
    parser.add_argument("--list-languages", action="store_true", help="list languages and exit")
    parser.add_argument("--doctor", action="store_true", help="check the installation and exit")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def _build_align_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr align",
        usage=_ALIGN_USAGE,
        description="Time every word of a known transcript with Qwen3-ForcedAligner. Prints "
        "start, end and word per line and writes <output-dir>/<audio stem>.<format>.",
    )
    parser.add_argument("audio", metavar="AUDIO", help="an audio or video file")
    text = parser.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="what the audio says")
    text.add_argument("--text-file", help="a UTF-8 text file holding what the audio says")
    _add_output_arguments(parser, "srt")
    parser.add_argument(
        "--language", help="the text's language: Japanese and Korean split words differently"
    )
    parser.add_argument(
        "--forced-aligner",
        metavar="MODEL",
        default=bootstrap.DEFAULT_ALIGNER,
        help=f"repo id or local folder (default: {bootstrap.DEFAULT_ALIGNER})",
    )
    parser.add_argument("--dtype", help="float32, bfloat16 or float16 (default: by device)")
    parser.add_argument("--stdout-only", action="store_true", help="print only, write no files")
    parser.add_argument("--quiet", action="store_true", help="do not print the words")
    parser.add_argument("--verbose", action="store_true", help="tracebacks on errors")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    build_service: ServiceFactory | None = None,
    build_aligner: AlignerFactory | None = None,
) -> int:
    """Run the command line; return the exit status. `build_service` / `build_aligner` replace
    the composition root's (tests pass ones that build fakes)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["convert"]:
        return convert_command(words[1:])
    if words[:1] == ["train"]:
        return train_command(words[1:])
    if words[:1] == ["batch"]:
        return batch_command(words[1:])
    if words[:1] == ["serve"]:
        return serve_command(words[1:])
    if words[:1] == ["diarize"]:
        return diarize_command(words[1:])
    if words[:1] == ["stream"]:
        return stream_command(words[1:])
    if words[:1] == ["listen"]:
        return listen_command(words[1:])
    aligning = words[:1] == ["align"]
    if words[:1] == ["transcribe"] or aligning:
        words = words[1:]
    if aligning:
        parser = _build_align_parser()
        body = functools.partial(_align, build_aligner=build_aligner or bootstrap.build_aligner)
    else:
        parser = _build_parser()
        body = functools.partial(_dispatch, build_service=build_service or bootstrap.build_service)
    return run_command(parser, words, body, help_hint="qasr --help", report_bugs=True)


def _dispatch(args: argparse.Namespace, build_service: ServiceFactory) -> int:
    if args.version:
        print(f"qasr {qasr.__version__}")
        return 0
    if args.list_languages:
        print_languages(sys.stdout)
        return 0
    if args.doctor:
        from qasr.app.entry.doctor import run_doctor

        return run_doctor(sys.stdout)
    if not args.files:
        return report_error("no input files; usage: qasr FILES... (see qasr --help)")
    return _transcribe(args, build_service)


def _transcribe(args: argparse.Namespace, build_service: ServiceFactory) -> int:
    fmt = args.output_format
    options = RecognitionOptions(
        language=find_language(args.language) if args.language else None,
        context=args.context,
        max_new_tokens=args.max_new_tokens,
    )
    writes = not args.stdout_only
    if writes:
        # Before any model loads: a wrong -o or -f must not cost the decoding.
        bootstrap.check_output_format(fmt)
        check_output_dir(args.output_dir)
    diarize = args.diarize or any(
        value is not None for value in (args.num_speakers, args.min_speakers, args.max_speakers)
    )
    timestamps = args.timestamps or diarize or (writes and _needs_timestamps(fmt))
    if diarize and not (args.timestamps or args.forced_aligner):
        aligner = bootstrap.DEFAULT_ALIGNER
        if not bootstrap.model_at_hand(aligner):
            # Speakers need no word times: each turn is transcribed on its own instead.
            warn(
                f"the forced aligner {aligner} is not downloaded, so words are not timed: each "
                "speaker turn is transcribed on its own and timed by the diarizer (--timestamps "
                "fetches the aligner and times every word)"
            )
            timestamps = False

    failed = False
    present: list[str] = []
    for name in args.files:
        problem = _unreadable(Path(name))
        if problem:
            failed = True
            report_error(f"{problem}: {name!r}")
        else:
            present.append(name)
    if not present:
        return USER_ERROR
    present = same_file_once(present)
    stems = output_stems(present) if writes else {}
    renamed = [f"{name} -> {stem}.*" for name, stem in stems.items() if stem != Path(name).stem]
    if renamed:
        warn(f"inputs share a file stem, so their outputs are named: {', '.join(renamed)}")

    wanted: dict[str, Any] = {"model": args.model, "dtype": args.dtype, "timestamps": timestamps}
    if args.batch_size:
        wanted["batch_size"] = args.batch_size
    if args.draft_model or args.num_draft_tokens:
        wanted.update(draft_model=args.draft_model, num_draft_tokens=args.num_draft_tokens)
    if args.forced_aligner:
        wanted["forced_aligner"] = args.forced_aligner
    if diarize:  # built here: impossible speaker bounds fail before any model loads
        wanted.update(diarize=True, diarizer=bootstrap.build_diarizer(**speaker_options(args)))
    try:
        service = build_service(**wanted)
    except FeatureUnavailableError as error:
        needs = "--diarize" if diarize else f"-f {fmt}"
        why = "" if args.timestamps else f"{needs} needs word timestamps: "
        return report_error(f"{why}{error}", verbose=args.verbose)
    bar = None
    if args.verbose:
        progress = _print_progress
    elif not (args.no_progress or args.quiet) and sys.stderr.isatty():
        progress = bar = ProgressBar(sys.stderr)
    else:
        progress = None
    labelled = len(present) > 1
    results = service.transcribe_many(
        present, options, timestamps=timestamps, diarize=diarize, on_progress=progress
    )
    for result in results:
        if bar is not None:
            bar.clear()
        if result.error is not None or result.transcript is None:
            failed = True
            report_error(
                _about(result.name, result.error), verbose=args.verbose, cause=result.error
            )
            continue
        transcript = result.transcript
        if transcript.truncated:
            warn(f"{result.name}: the token budget ran out; the text may be cut short")
        if not args.quiet:
            if labelled:  # as `head` labels several files
                print(f"==> {result.name} <==", flush=True)
            print(transcript.text, flush=True)
        if writes:
            failed |= not _write(transcript, args, stems[result.name])
    return USER_ERROR if failed else 0


def _align(args: argparse.Namespace, build_aligner: AlignerFactory) -> int:
    from qasr.app.entry.session import align

    problem = _unreadable(Path(args.audio))
    if problem:
        return report_error(f"{problem}: {args.audio!r}")
    text = args.text if args.text is not None else _read_text(Path(args.text_file))
    if not args.stdout_only:
        bootstrap.check_output_format(args.output_format)
        check_output_dir(args.output_dir)
    language = find_language(args.language) if args.language else None
    aligner = build_aligner(model=args.forced_aligner, dtype=args.dtype)
    transcript = align(args.audio, text, language=language, aligner=aligner)
    if not args.quiet:
        for word in transcript.segments:
            print(f"{word.start:.3f}\t{word.end:.3f}\t{word.text}", flush=True)
    if not transcript.segments:
        warn(f"{args.audio}: the text has no words to time")
    if args.stdout_only:
        return 0
    return 0 if _write(transcript, args, Path(args.audio).stem) else USER_ERROR


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"cannot read the text file {str(path)!r}: {error}") from None


def _write(transcript: Any, args: argparse.Namespace, stem: str) -> bool:
    """Write every format that can be written; one error line per file that cannot, naming it."""
    try:
        paths = bootstrap.write_outputs(transcript, args.output_dir, stem, args.output_format)
    except OutputWriteError as error:
        for path, reason in error.failures:
            report_error(f"cannot write {str(path)!r}: {reason}", verbose=args.verbose, cause=error)
        paths = error.written
        ok = False
    else:
        ok = True
    if args.verbose:
        for path in paths:
            print(f"qasr: wrote {path}", file=sys.stderr)
    return ok


def _needs_timestamps(output_format: str) -> bool:
    names = {part.strip().lower().removeprefix(".") for part in output_format.split(",")}
    return bool(names & _TIMED_FORMATS)


def _unreadable(path: Path) -> str:
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "is a directory, not an audio file"
    return ""


def _about(name: str, error: object) -> str:
    message = str(error)
    return message if not name or name in message else f"{name}: {message}"


def _print_progress(event: ProgressEvent) -> None:
    if event.stage is Stage.FILE_STARTED and event.index is not None:
        print(f"qasr: [{event.index + 1}/{event.total}] {event.name}", file=sys.stderr)
    elif event.stage is Stage.CHUNK_COMPLETED and event.index is not None:
        print(f"qasr:   chunk {event.index + 1}/{event.total} done", file=sys.stderr)


def print_languages(out: TextIO) -> None:
    languages = [lang for lang in LANGUAGES if lang.kind is LanguageKind.LANGUAGE]
    dialects = [lang for lang in LANGUAGES if lang.kind is LanguageKind.DIALECT]
    print(f"Languages ({len(languages)}), for --language by name or code:", file=out)
    for language in languages:
        print(f"  {language.code:<6} {language.name}", file=out)
    print(
        f"Chinese dialects ({len(dialects)}), recognised as their parent language; "
        "forcing one forces the parent:",
        file=out,
    )
    for dialect in dialects:
        print(f"  {dialect.code:<15} {dialect.display_name}", file=out)
