"""One line redrawn in place on a terminal, and the progress bar it carries for the service's
progress events (`qasr batch` draws its own line on the same `StatusLine`)."""

from __future__ import annotations

import time
from typing import TextIO

from qasr.domain import ProgressEvent, Stage

WIDTH = 24


class StatusLine:
    """One terminal line redrawn in place (`\\r`); `clear()` it before printing anything else."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown = False

    def draw(self, line: str) -> None:
        self.out.write("\r\x1b[2K" + line)
        self.out.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.out.write("\r\x1b[2K")
            self.out.flush()
            self.shown = False


class ProgressBar(StatusLine):
    """Redraws one line (`\\r`) with the file, the chunk count, a bar and the elapsed time.

    Callers `clear()` it before printing anything else, so transcripts never share its line.
    """

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.started = time.monotonic()
        self.file = ""

    def __call__(self, event: ProgressEvent) -> None:
        if event.stage is Stage.FILE_STARTED and event.total:
            self.file = f"[{(event.index or 0) + 1}/{event.total}] {event.name}"
        elif event.stage in (Stage.CHUNK_STARTED, Stage.CHUNK_COMPLETED) and event.total:
            done = int(event.fraction * WIDTH)
            bar = "#" * done + "-" * (WIDTH - done)
            chunk = (event.index or 0) + (event.stage is Stage.CHUNK_COMPLETED)
            elapsed = time.monotonic() - self.started
            self.draw(f"{self.file} chunks {chunk}/{event.total} [{bar}] {elapsed:.0f}s")
        elif event.stage is Stage.ALIGNED:
            self.draw(f"{self.file} aligning words done")
