"""What every `qasr` subcommand shares: one-line errors and an argparse that returns them."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

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


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
