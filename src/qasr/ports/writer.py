from __future__ import annotations

from typing import Protocol, TextIO, runtime_checkable

from qasr.domain import Transcript


@runtime_checkable
class Writer(Protocol):
    @property
    def format_name(self) -> str:
        """The name users pick it by (`-f srt`)."""
        ...

    @property
    def extension(self) -> str:
        """The file suffix, with its dot (".srt")."""
        ...

    def write(self, transcript: Transcript, out: TextIO) -> None:
        """Write the whole transcript to `out` as text.

        Raise `qasr.errors.OutputFormatError` when the transcript lacks what the format needs
        (subtitles without word timestamps). Never write partial output before raising.
        """
        ...
