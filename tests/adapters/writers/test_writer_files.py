"""Picking writers by name, the txt/json/tsv formats, and writing each format's file on its own."""

from __future__ import annotations

import errno
import io
import os
import stat
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
from qasr.errors import InvalidInputError, OutputFormatError, OutputWriteError

TIMED = Transcript(
    "Hello, world. Bye.",
    language="en",
    segments=[Segment("Hello", 0.0, 0.4), Segment("world", 0.5, 0.9), Segment("Bye", 2.5, 2.8)],
)
UNTIMED = Transcript("Hello, world.")


class FailingWriter:
    format_name = "broken"
    extension = ".broken"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def write(self, transcript: Transcript, out: TextIO) -> None:
        raise self.error


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


def test_a_format_that_cannot_be_written_costs_no_other_format(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    with pytest.raises(OutputWriteError) as raised:
        write_files(UNTIMED, folder, "talk", "txt,srt,json")
    [(path, reason)] = raised.value.failures
    assert path == folder / "talk.srt" and "word timestamps" in reason
    assert raised.value.written == [folder / "talk.txt", folder / "talk.json"]
    assert sorted(os.listdir(folder)) == ["talk.json", "talk.txt"], "no srt, no temp files"
    assert str(folder / "talk.srt") in str(raised.value)


def test_a_file_the_disk_refuses_keeps_its_old_version_and_the_others_are_written(
    tmp_path: Path,
) -> None:
    (tmp_path / "talk.broken").write_text("old\n")
    full = OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(OutputWriteError, match=r"talk\.broken: No space left on device"):
        write_files(TIMED, tmp_path, "talk", [FailingWriter(full), TextWriter()])
    assert sorted(os.listdir(tmp_path)) == ["talk.broken", "talk.txt"]
    assert (tmp_path / "talk.broken").read_text() == "old\n"


def test_a_bug_in_a_writer_is_not_hidden_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "talk.broken").write_text("old\n")
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_files(TIMED, tmp_path, "talk", [FailingWriter(RuntimeError("disk on fire"))])
    assert os.listdir(tmp_path) == ["talk.broken"]
    assert (tmp_path / "talk.broken").read_text() == "old\n"


def test_an_output_folder_under_a_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(OutputWriteError, match="taken"):
        write_files(TIMED, tmp_path / "taken" / "sub", "talk", "txt")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_and_folders_follow_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        (path,) = write_files(TIMED, tmp_path / "new", "talk", "txt")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o777 & ~umask


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    old = tmp_path / "talk.txt"
    old.write_text("old\n")
    old.chmod(0o640)
    write_files(TIMED, tmp_path, "talk", "txt")
    assert stat.S_IMODE(old.stat().st_mode) == 0o640 and old.read_text() != "old\n"


def test_a_failed_move_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: str, target: str) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputWriteError, match="read-only"):
        write_files(TIMED, tmp_path, "talk", "txt")
    assert os.listdir(tmp_path) == []


def test_files_are_utf8_with_unix_newlines(tmp_path: Path) -> None:
    (path,) = write_files(Transcript("你好\nworld"), tmp_path, "talk", TextWriter())
    assert path.read_bytes() == "你好\nworld\n".encode()


@pytest.mark.parametrize("stem", ["", "..", "a/b", "../escape"])
def test_the_stem_must_be_a_plain_file_name(tmp_path: Path, stem: str) -> None:
    with pytest.raises(InvalidInputError, match="stem"):
        write_files(TIMED, tmp_path, stem, "txt")
