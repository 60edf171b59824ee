"""`qasr stream` and `qasr listen` on a recognizer whose text is a function of the audio."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.app.use_cases.streaming.tone_words import WORDS, ToneWordRecognizer, speech

from qasr import Session
from qasr.adapters.audio import write_wav
from qasr.app.entry import cli_stream
from qasr.app.entry.cli import main

TURNS = [[0, 3, 5], [7, 9]]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli_stream, "Session", lambda *_: Session(ToneWordRecognizer()))
    pause = np.zeros(24_000, np.float32)
    audio = np.concatenate([part for turn in TURNS for part in (speech(turn), pause)])
    path = tmp_path / "talk.wav"
    write_wav(path, audio, 16_000)
    return path


def said(turn: list[int]) -> str:
    return " ".join(WORDS[index] for index in turn)


def test_committed_lines_with_times(recording: Path) -> None:
    out = io.StringIO()
    words = [str(recording), "--step", "1", "--commit-after-silence", "0.8"]
    assert cli_stream.stream_command(words, out) == 0
    lines = out.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [said(turn) for turn in TURNS]
    assert lines[0].startswith("[00:00.00 -> ")


def test_a_terminal_gets_the_partial_line_rewritten(recording: Path) -> None:
    out = Terminal()
    assert cli_stream.stream_command([str(recording), "--step", "1"], out) == 0
    text = out.getvalue()
    assert "\r\033[K" in text  # the partial line is cleared and written again
    assert text.rstrip("\n").endswith(f"{said(TURNS[0])} {said(TURNS[1])}")


def test_json_events(recording: Path) -> None:
    out = io.StringIO()
    assert cli_stream.stream_command([str(recording), "--json", "--step", "1"], out) == 0
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {event["type"] for event in events} == {"partial", "committed", "final"}
    assert events[-1]["text"] == f"{said(TURNS[0])} {said(TURNS[1])}"
    assert events[-1]["language"] == "English"


def test_user_mistakes_are_one_line(
    recording: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["stream", str(recording.parent / "missing.wav")]) == 2
    assert main(["stream", str(recording), "--step", "0"]) == 2
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    assert main(["listen", "--duration", "1"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert any("no such file" in line for line in errors)
    assert any("mic]" in line for line in errors)


def test_listen_lists_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    devices: list[Any] = [(0, "Fake mic", 48000)]
    monkeypatch.setattr(cli_stream.bootstrap, "list_input_devices", lambda: devices)
    out = io.StringIO()
    assert cli_stream.listen_command(["--list-devices"], out) == 0
    assert out.getvalue() == "0: Fake mic (48000 Hz)\n"
