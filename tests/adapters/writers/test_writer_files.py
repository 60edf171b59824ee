"""Picking writers by name, the txt/json/tsv formats, and all-or-nothing file writing."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TextIO

import pytest

from qasr.adapters import serialization
from qasr.adapters.writers import (
    WRITER_NAMES,
    CueLimits,
    JsonWriter,
    TextWriter,
    TsvWriter,
    get_writer,
    render,
    write_files,
    writers_for,
)
from qasr.domain import Segment, SpeakerSpan, Transcript
from qasr.errors import InvalidInputError, OutputFormatError

TIMED = Transcript(
    "Hello, world. Bye.",
    language="en",
    segments=[Segment("Hello", 0.0, 0.4), Segment("world", 0.5, 0.9), Segment("Bye", 2.5, 2.8)],
)
UNTIMED = Transcript("Hello, world.")


class FailingWriter:
    format_name = "broken"
    extension = ".broken"

    def write(self, transcript: Transcript, out: TextIO) -> None:
        raise RuntimeError("disk on fire")


def test_writer_names_are_looked_up_ignoring_case_and_a_leading_dot() -> None:
    assert WRITER_NAMES == ("txt", "json", "srt", "vtt", "tsv")
    for name in WRITER_NAMES:
        assert get_writer(name).format_name == name
        assert get_writer(f".{name.upper()}").extension == f".{name}"


def test_an_unknown_format_lists_the_valid_ones() -> None:
    with pytest.raises(OutputFormatError, match="txt, json, srt, vtt, tsv, all"):
        get_writer("docx")
    with pytest.raises(OutputFormatError, match="writers_for"):
        get_writer("all")
    with pytest.raises(OutputFormatError, match="no output format"):
        writers_for(" , ")


def test_writers_for_all_several_or_one() -> None:
    assert [writer.format_name for writer in writers_for("ALL")] == list(WRITER_NAMES)
    assert [writer.format_name for writer in writers_for("srt, json,srt")] == ["srt", "json"]
    limits = CueLimits(max_line_width=20)
    assert writers_for("tsv", cue_limits=limits) == (TsvWriter(limits),)


def test_txt_is_the_text_and_a_newline_or_one_line_per_speaker_turn() -> None:
    assert render(TextWriter(), UNTIMED) == "Hello, world.\n"
    turns = Transcript(
        "Hi there. Hello.",
        speakers=[
            SpeakerSpan("SPEAKER_00", 0, 1, "Hi there."),
            SpeakerSpan("SPEAKER_01", 1, 2, "Hello."),
        ],
    )
    assert render(TextWriter(), turns) == "[SPEAKER_00] Hi there.\n[SPEAKER_01] Hello.\n"


def test_json_writer_writes_the_schema_and_a_final_newline() -> None:
    text = render(JsonWriter(), TIMED)
    assert text.endswith("}\n")
    assert serialization.loads(text) == TIMED
    assert "\n" not in render(JsonWriter(indent=None), TIMED).rstrip("\n")


def test_tsv_has_whisper_header_and_integer_milliseconds() -> None:
    rows = render(TsvWriter(), TIMED).splitlines()
    assert rows == ["start\tend\ttext", "0\t900\tHello, world.", "2500\t2800\tBye."]


def test_tsv_without_word_times_is_refused() -> None:
    out = io.StringIO()
    with pytest.raises(OutputFormatError, match="TSV output needs word timestamps"):
        TsvWriter().write(UNTIMED, out)
    assert out.getvalue() == ""


def test_write_files_writes_each_format_atomically_into_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "nested"
    paths = write_files(TIMED, folder, "talk", "all")
    assert [path.name for path in paths] == [f"talk.{name}" for name in WRITER_NAMES]
    assert sorted(os.listdir(folder)) == sorted(path.name for path in paths), "no temp files"
    for path, name in zip(paths, WRITER_NAMES, strict=True):
        assert path.read_bytes() == render(get_writer(name), TIMED).encode("utf-8")


def test_a_format_that_cannot_be_written_leaves_no_file_at_all(tmp_path: Path) -> None:
    with pytest.raises(OutputFormatError, match="--timestamps"):
        write_files(UNTIMED, tmp_path / "out", "talk", "txt,srt")
    assert not (tmp_path / "out").exists()


def test_a_writer_that_raises_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    (tmp_path / "talk.txt").write_text("old\n")
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_files(TIMED, tmp_path, "talk", [TextWriter(), FailingWriter()])
    assert os.listdir(tmp_path) == ["talk.txt"]
    assert (tmp_path / "talk.txt").read_text() == "old\n"


def test_a_failed_move_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: str, target: str) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="read-only"):
        write_files(TIMED, tmp_path, "talk", "txt")
    assert os.listdir(tmp_path) == []


def test_files_are_utf8_with_unix_newlines(tmp_path: Path) -> None:
    (path,) = write_files(Transcript("你好\nworld"), tmp_path, "talk", TextWriter())
    assert path.read_bytes() == "你好\nworld\n".encode()


@pytest.mark.parametrize("stem", ["", "..", "a/b", "../escape"])
def test_the_stem_must_be_a_plain_file_name(tmp_path: Path, stem: str) -> None:
    with pytest.raises(InvalidInputError, match="stem"):
        write_files(TIMED, tmp_path, stem, "txt")
