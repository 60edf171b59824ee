"""The `qasr` command: transcribe files, list the languages, check the install.

Every mistake a user can make ends as one `qasr: error: ...` line on stderr and exit status 2;
`--verbose` adds the traceback. Anything else is a bug in qasr and says so (exit status 1).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import qasr
from qasr.app import bootstrap
from qasr.app.progress_bar import ProgressBar
from qasr.app.service import TranscriptionService
from qasr.domain import (
    LANGUAGES,
    LanguageKind,
    ProgressEvent,
    RecognitionOptions,
    Stage,
    find_language,
)
from qasr.errors import FeatureUnavailableError, InvalidInputError, QasrError
from qasr.ports import Aligner

OUTPUT_FORMATS = ("txt", "json", "srt", "vtt", "tsv", "all")
# Subtitles are cues of timed words: asking for them asks for timestamps.
_TIMED_FORMATS = frozenset({"srt", "vtt", "all"})
_USAGE = (
    "qasr [transcribe] FILES... [options]\n"
    "       qasr convert --model SRC --output DIR [--quantize {4,8}] [options]\n"
    "       qasr align AUDIO --text TEXT [options]\n"
    "       qasr train --data TRAIN.jsonl --model BASE --output DIR [options]\n"
    "       qasr --list-languages | --doctor | --version"
)
_ALIGN_USAGE = "qasr align AUDIO (--text TEXT | --text-file FILE) [options]"
USER_ERROR = 2
BUG = 1

ServiceFactory = Callable[..., TranscriptionService]
AlignerFactory = Callable[..., Aligner]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage plus the message and exits; the CLI wants one line and a return.
        raise _UsageError(message)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qasr",
        usage=_USAGE,
        description="Transcribe speech with Qwen3-ASR on MLX. Prints each transcript and writes "
        "<output-dir>/<file stem>.<format>.",
    )
    parser.add_argument("files", nargs="*", metavar="FILES", help="audio or video files")
    parser.add_argument("-o", "--output-dir", default=".", help="where files go (default: .)")
    parser.add_argument(
        "-f",
        "--output-format",
        default="txt",
        metavar="{" + ",".join(OUTPUT_FORMATS) + "}",
        help="file format, or several joined by commas; srt and vtt turn --timestamps on "
        "(default: txt)",
    )
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
        "--max-new-tokens",
        type=_positive_int,
        help="token budget per 30 s chunk (default: by length)",
    )
    parser.add_argument(
        "--batch-size", type=_positive_int, help="chunks decoded together (default: 8)"
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
    parser = _Parser(
        prog="qasr align",
        usage=_ALIGN_USAGE,
        description="Time every word of a known transcript with Qwen3-ForcedAligner. Prints "
        "start, end and word per line and writes <output-dir>/<audio stem>.<format>.",
    )
    parser.add_argument("audio", metavar="AUDIO", help="an audio or video file")
    text = parser.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="what the audio says")
    text.add_argument("--text-file", help="a UTF-8 text file holding what the audio says")
    parser.add_argument("-o", "--output-dir", default=".", help="where files go (default: .)")
    parser.add_argument(
        "-f",
        "--output-format",
        default="srt",
        metavar="{" + ",".join(OUTPUT_FORMATS) + "}",
        help="file format, or several joined by commas (default: srt)",
    )
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
    aligning = words[:1] == ["align"]
    if words[:1] == ["transcribe"] or aligning:
        words = words[1:]
    parser = _build_align_parser() if aligning else _build_parser()
    try:
        args = parser.parse_args(words)
    except _UsageError as error:
        return _error(f"{error} (see qasr --help)")
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        if aligning:
            return _align(args, build_aligner or bootstrap.build_aligner)
        return _dispatch(args, build_service or bootstrap.build_service)
    except QasrError as error:
        return _error(error, verbose=args.verbose)
    except KeyboardInterrupt:
        return _error("interrupted", status=130)
    except Exception as error:
        if args.verbose:
            traceback.print_exc()
        return _error(
            f"internal error ({type(error).__name__}: {error}); this is a bug in qasr, please "
            "report it with the output of --verbose",
            status=BUG,
        )


def _dispatch(args: argparse.Namespace, build_service: ServiceFactory) -> int:
    if args.version:
        print(f"qasr {qasr.__version__}")
        return 0
    if args.list_languages:
        print_languages(sys.stdout)
        return 0
    if args.doctor:
        from qasr.app.doctor import run_doctor

        return run_doctor(sys.stdout)
    if not args.files:
        return _error("no input files; usage: qasr FILES... (see qasr --help)")
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
        bootstrap.check_output_format(fmt)
    timestamps = args.timestamps or (writes and _needs_timestamps(fmt))

    failed = False
    present: list[str] = []
    for name in args.files:
        problem = _unreadable(Path(name))
        if problem:
            failed = True
            _error(f"{problem}: {name!r}")
        else:
            present.append(name)
    if not present:
        return USER_ERROR

    wanted: dict[str, Any] = {"model": args.model, "dtype": args.dtype, "timestamps": timestamps}
    if args.batch_size:
        wanted["batch_size"] = args.batch_size
    if args.forced_aligner:
        wanted["forced_aligner"] = args.forced_aligner
    try:
        service = build_service(**wanted)
    except FeatureUnavailableError as error:
        why = "" if args.timestamps else f"-f {fmt} needs word timestamps: "
        return _error(f"{why}{error}", verbose=args.verbose)
    bar = None
    if args.verbose:
        progress = _print_progress
    elif not (args.no_progress or args.quiet) and sys.stderr.isatty():
        progress = bar = ProgressBar(sys.stderr)
    else:
        progress = None
    results = service.transcribe_many(present, options, timestamps=timestamps, on_progress=progress)
    for result in results:
        if bar is not None:
            bar.clear()
        if result.error is not None or result.transcript is None:
            failed = True
            _error(_about(result.name, result.error), verbose=args.verbose, cause=result.error)
            continue
        transcript = result.transcript
        if transcript.truncated:
            _warn(f"{result.name}: the token budget ran out; the text may be cut short")
        if not args.quiet:
            print(transcript.text, flush=True)
        if writes:
            failed |= not _write(transcript, args, Path(result.name).stem, result.name)
    return USER_ERROR if failed else 0


def _align(args: argparse.Namespace, build_aligner: AlignerFactory) -> int:
    from qasr.app.session import align

    problem = _unreadable(Path(args.audio))
    if problem:
        return _error(f"{problem}: {args.audio!r}")
    text = args.text if args.text is not None else _read_text(Path(args.text_file))
    if not args.stdout_only:
        bootstrap.check_output_format(args.output_format)
    language = find_language(args.language) if args.language else None
    aligner = build_aligner(model=args.forced_aligner, dtype=args.dtype)
    transcript = align(args.audio, text, language=language, aligner=aligner)
    if not args.quiet:
        for word in transcript.segments:
            print(f"{word.start:.3f}\t{word.end:.3f}\t{word.text}", flush=True)
    if not transcript.segments:
        _warn(f"{args.audio}: the text has no words to time")
    if args.stdout_only:
        return 0
    return 0 if _write(transcript, args, Path(args.audio).stem, args.audio) else USER_ERROR


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"cannot read the text file {str(path)!r}: {error}") from None


def _write(transcript: Any, args: argparse.Namespace, stem: str, name: str) -> bool:
    try:
        Path(args.output_dir).mkdir(parents=True, exist_ok=True)
        paths = bootstrap.write_outputs(transcript, args.output_dir, stem, args.output_format)
    except (QasrError, OSError) as error:
        _error(_about(name, error), verbose=args.verbose, cause=error)
        return False
    if args.verbose:
        for path in paths:
            print(f"qasr: wrote {path}", file=sys.stderr)
    return True


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


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


def _build_convert_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qasr convert",
        usage="qasr convert --model SRC [--quantize {4,8}] [--dtype DTYPE] --output DIR\n"
        "       qasr convert --model SRC --to-layout {original,hf} --output DIR",
        description="Write a quantized (and/or float16/bfloat16/float32) MLX copy of a "
        "checkpoint, or the same weights in the other published layout; load it with --model DIR.",
    )
    parser.add_argument("--model", required=True, help="Hugging Face repo id or local folder")
    parser.add_argument("--output", required=True, help="folder to write (must be empty)")
    parser.add_argument("--quantize", type=int, choices=(4, 8), help="decoder bit width")
    parser.add_argument(
        "--group-size", type=int, default=64, help="weights per scale: 32, 64 or 128 (default 64)"
    )
    parser.add_argument(
        "--encoder-bits",
        type=int,
        choices=(4, 8, 16),
        help="audio encoder bit width; 16 leaves it float (default: as --quantize)",
    )
    parser.add_argument("--dtype", help="float16, bfloat16 or float32 (default: the source's)")
    parser.add_argument(
        "--to-layout",
        choices=("original", "hf"),
        help="rewrite in the qwen-asr (original) or transformers (hf) layout, weights unchanged",
    )
    parser.add_argument("--force", action="store_true", help="replace a non-empty --output")
    parser.add_argument("--verbose", action="store_true", help="tracebacks")
    return parser


def convert_command(words: Sequence[str]) -> int:
    """`qasr convert ...`: the exit status, with the same error contract as `main`."""
    try:
        args = _build_convert_parser().parse_args(list(words))
    except _UsageError as error:
        return _error(f"{error} (see qasr convert --help)")
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    if args.to_layout:
        if args.quantize or args.dtype:
            return _error(
                "--to-layout copies the weights unchanged; use it without --quantize/--dtype"
            )
        try:
            folder = bootstrap.convert_layout(args.model, args.output, args.to_layout)
        except QasrError as error:
            return _error(error, verbose=args.verbose)
        print(f"qasr: wrote {folder} ({args.to_layout} layout)")
        return 0
    try:
        conversion = bootstrap.convert_model(
            args.model,
            args.output,
            bits=args.quantize,
            group_size=args.group_size,
            encoder_bits=args.encoder_bits,
            dtype=args.dtype,
            force=args.force,
        )
    except QasrError as error:
        return _error(error, verbose=args.verbose)
    except KeyboardInterrupt:
        return _error("interrupted", status=130)
    block = conversion.quantization
    bits = f"{block['bits']}-bit, group size {block['group_size']}, " if block else ""
    size = conversion.weight_bytes / 1e6
    print(f"qasr: wrote {conversion.folder} ({bits}{conversion.dtype}, {size:.1f} MB of weights)")
    return 0


def _build_train_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qasr train",
        usage="qasr train --data TRAIN.jsonl [--valid VALID.jsonl] --model BASE --output DIR "
        "[--lora-rank R] [--steps N] [--batch-size B] [--lr X] [--resume] [options]",
        description="Fine-tune a Qwen3-ASR checkpoint (all weights, or LoRA adapters) on a "
        'JSON-lines manifest of {"audio": path, "text": ..., "language": ...} rows. Writes '
        "resumable checkpoints to DIR/checkpoints and the trained model to DIR, loadable with "
        "--model DIR and by qwen-asr.",
    )
    parser.add_argument("--data", required=True, help="training manifest (JSON lines)")
    parser.add_argument("--valid", help="validation manifest: loss and WER/CER every --eval-every")
    parser.add_argument("--model", required=True, help="base model: Hugging Face repo id or folder")
    parser.add_argument("--output", required=True, help="folder for checkpoints and the model")
    parser.add_argument("--lora-rank", type=int, default=0, help="LoRA rank; 0 trains all weights")
    parser.add_argument("--lora-alpha", type=float, default=16.0, help="LoRA scale numerator")
    parser.add_argument("--lora-encoder", action="store_true", help="LoRA on the audio encoder too")
    parser.add_argument("--steps", type=_positive_int, default=1000, help="optimizer steps")
    parser.add_argument("--batch-size", type=_positive_int, default=8, help="clips per step")
    parser.add_argument(
        "--lr", type=float, help="peak learning rate (default: 1e-5 full, 1e-4 LoRA)"
    )
    parser.add_argument("--warmup-steps", type=int, help="linear warm-up (default: 5%% of steps)")
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument(
        "--max-grad-norm", type=float, default=1.0, help="gradient clipping; 0 turns it off"
    )
    parser.add_argument("--dtype", default="float32", help="weights: float32 or bfloat16")
    parser.add_argument("--seed", type=int, default=0, help="data order and LoRA init")
    parser.add_argument("--eval-every", type=int, default=100, help="steps between validations")
    parser.add_argument("--save-every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument(
        "--eval-clips", type=int, default=16, help="validation clips decoded for WER/CER"
    )
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--verbose", action="store_true", help="tracebacks")
    return parser


def train_command(words: Sequence[str]) -> int:
    """`qasr train ...`: the exit status, with the same error contract as `main`."""
    try:
        args = _build_train_parser().parse_args(list(words))
    except _UsageError as error:
        return _error(f"{error} (see qasr train --help)")
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        from qasr.training.trainer import TrainingConfig, train

        config = TrainingConfig(
            data=args.data,
            valid=args.valid,
            model=args.model,
            output=args.output,
            steps=args.steps,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            warmup_steps=args.warmup_steps,
            weight_decay=args.weight_decay,
            max_grad_norm=args.max_grad_norm,
            lora_rank=args.lora_rank,
            lora_alpha=args.lora_alpha,
            lora_encoder=args.lora_encoder,
            dtype=args.dtype,
            seed=args.seed,
            eval_every=args.eval_every,
            save_every=args.save_every,
            eval_clips=args.eval_clips,
            resume=args.resume,
        )
        folder = train(config, on_progress=lambda line: print(f"qasr: {line}", file=sys.stderr))
    except QasrError as error:
        return _error(error, verbose=args.verbose)
    except KeyboardInterrupt:
        return _error("interrupted; continue with --resume", status=130)
    print(f"qasr: wrote {folder}")
    return 0


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
        print(f"  {dialect.code:<15} {dialect.name} ({dialect.parent})", file=out)


def _one_line(message: object) -> str:
    return " ".join(line.strip() for line in str(message).splitlines() if line.strip())


def _error(
    message: object, *, verbose: bool = False, cause: object = None, status: int = USER_ERROR
) -> int:
    shown = cause if cause is not None else message
    if verbose and isinstance(shown, BaseException) and shown.__traceback__ is not None:
        traceback.print_exception(type(shown), shown, shown.__traceback__, file=sys.stderr)
    print(f"qasr: error: {_one_line(message)}", file=sys.stderr, flush=True)
    return status


def _warn(message: str) -> None:
    print(f"qasr: warning: {_one_line(message)}", file=sys.stderr, flush=True)
