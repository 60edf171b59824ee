"""What every `qasr` subcommand shares: one-line errors, an argparse that returns them, and the
checks of where outputs go, done before any model loads or any audio is decoded."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from qasr.errors import InvalidInputError, QasrError

USER_ERROR = 2
BUG = 1


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage plus the message and exits; the CLI wants one line and a return.
        raise UsageError(message)


def parse_words(
    parser: argparse.ArgumentParser, words: Sequence[str], help_hint: str
) -> argparse.Namespace | int:
    """The parsed arguments, or the exit status: 0 after --help, 2 after a one-line usage error."""
    try:
        return parser.parse_args(list(words))
    except UsageError as error:
        return report_error(f"{error} (see {help_hint})")
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0


def run_command(
    parser: argparse.ArgumentParser,
    words: Sequence[str],
    body: Callable[[argparse.Namespace], int],
    *,
    help_hint: str | None = None,
    interrupted: str = "interrupted",
    report_bugs: bool = False,
) -> int:
    """Parse `words` and return `body`'s exit status, under the error contract of every `qasr`
    command: a usage error or a `QasrError` is one line and status 2 (`--verbose` adds the
    traceback), Ctrl-C one line (`interrupted`) and status 130. With `report_bugs`, any other
    exception is one line saying it is a bug, status 1; without, its traceback shows as Python
    prints it (convert and train: a run of minutes or hours is not repeated just to see it)."""
    args = parse_words(parser, words, help_hint or f"{parser.prog} --help")
    if isinstance(args, int):
        return args
    try:
        return body(args)
    except QasrError as error:
        return report_error(error, verbose=args.verbose)
    except KeyboardInterrupt:
        return report_error(interrupted, status=130)
    except Exception as error:
        if not report_bugs:
            raise
        if args.verbose:
            traceback.print_exc()
        return report_error(
            f"internal error ({type(error).__name__}: {error}); this is a bug in qasr, please "
            "report it with the output of --verbose",
            status=BUG,
        )


def one_line(message: object) -> str:
    return " ".join(line.strip() for line in str(message).splitlines() if line.strip())


def report_error(
    message: object, *, verbose: bool = False, cause: object = None, status: int = USER_ERROR
) -> int:
    shown = cause if cause is not None else message
    if verbose and isinstance(shown, BaseException) and shown.__traceback__ is not None:
        traceback.print_exception(type(shown), shown, shown.__traceback__, file=sys.stderr)
    print(f"qasr: error: {one_line(message)}", file=sys.stderr, flush=True)
    return status


def warn(message: str) -> None:
    print(f"qasr: warning: {one_line(message)}", file=sys.stderr, flush=True)


# The recognizer's own choice when no --batch-size is given (adapters/mlx/batch_size.py).
BATCH_SIZE_HELP = (
    "chunks decoded together (default: 8 on a CPU; on a GPU as many as fit in half its memory)"
)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def check_output_dir(folder: str) -> None:
    """Refuse, in one line naming `folder`, an output folder that cannot receive files: a file,
    a path under a file, or a folder (or the nearest existing parent of one to be made) that this
    user cannot write into. Nothing is created."""
    path = Path(folder)
    if path.exists():
        if not path.is_dir():
            kind = "a file, not a folder" if path.is_file() else "not a folder"
            raise InvalidInputError(f"the output folder {folder!r} (-o) is {kind}")
        if not os.access(path, os.W_OK | os.X_OK):
            raise InvalidInputError(
                f"cannot write into the output folder {folder!r} (-o): permission denied or a "
                "read-only file system"
            )
        return
    if path.is_symlink():
        raise InvalidInputError(f"the output folder {folder!r} (-o) is a link to nothing")
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InvalidInputError(
            f"cannot make the output folder {folder!r} (-o): {str(parent)!r} is a file"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidInputError(
            f"cannot make the output folder {folder!r} (-o): {str(parent)!r} is not writable"
        )


def same_file_once(names: Sequence[str]) -> list[str]:
    """`names` without the ones that name a file already listed (`x.wav ./x.wav`), with a
    warning for each: one file is transcribed once, not written twice over itself."""
    seen: dict[Path, str] = {}
    kept = []
    for name in names:
        real = Path(name).resolve()
        if real in seen:
            warn(f"{name!r} is the same file as {seen[real]!r}; it is transcribed once")
            continue
        seen[real] = name
        kept.append(name)
    return kept


def output_stems(names: Sequence[str]) -> dict[str, str]:
    """The stem of each input's output files: `<stem>.txt`, `<stem>.json`...

    An input keeps its own stem (`talk.wav` -> `talk`) unless another input has the same one;
    then both keep their extension (`x.wav`, `x.mp3`), and while names still clash the names of
    their parent folders go in front, joined by `_` (`a_x.wav`, `b_x.wav`). Names that differ
    only in letter case clash: they are one file on macOS and Windows. `names` are distinct
    files (`same_file_once`); a clash that the whole path cannot resolve is refused.
    """
    levels = dict.fromkeys(names, 0)
    while True:
        stems = {name: _stem_at(name, level) for name, level in levels.items()}
        clashes = _clashes(stems)
        if not clashes:
            return stems
        for group in clashes:
            longer = [name for name in group if levels[name] < 1 + len(_folders(name))]
            if not longer:
                raise InvalidInputError(
                    "these inputs would write the same output files: "
                    + ", ".join(repr(name) for name in group)
                )
            for name in longer:
                levels[name] += 1


def _folders(name: str) -> list[str]:
    """The names of the folders holding `name`, innermost first."""
    return [parent.name for parent in Path(name).resolve().parents if parent.name]


def _stem_at(name: str, level: int) -> str:
    if level == 0:
        return Path(name).stem
    return "_".join([*reversed(_folders(name)[: level - 1]), Path(name).name])


def _clashes(stems: dict[str, str]) -> list[list[str]]:
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for name, stem in stems.items():
        groups[stem.casefold()].append(name)
    return [group for group in groups.values() if len(group) > 1]
