"""The terminal progress bar: one redrawn line, cleared before transcripts are printed."""

from __future__ import annotations

import io

from qasr.app.entry.progress_bar import ProgressBar
from qasr.domain import ProgressEvent, Stage


def test_it_draws_file_chunks_and_bar_on_one_line() -> None:
    out = io.StringIO()
    bar = ProgressBar(out)
    bar(ProgressEvent(Stage.FILE_STARTED, 0.0, 0, 2, "talk.wav"))
    for index in range(4):
        bar(ProgressEvent(Stage.CHUNK_STARTED, index / 4, index, 4, "talk.wav"))
        bar(ProgressEvent(Stage.CHUNK_COMPLETED, (index + 1) / 4, index, 4, "talk.wav"))
    text = out.getvalue()
    assert "\n" not in text
    last = text.split("\r\x1b[2K")[-1]
    assert last.startswith("[1/2] talk.wav chunks 4/4 [" + "#" * 24 + "]")
    bar.clear()
    assert out.getvalue().endswith("\r\x1b[2K")


def test_clear_without_drawing_writes_nothing() -> None:
    out = io.StringIO()
    ProgressBar(out).clear()
    assert out.getvalue() == ""
