"""`qasr diarize` and `qasr transcribe --diarize`, with fakes where a model would load."""

from __future__ import annotations

import functools
import importlib.util
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qasr.app import bootstrap
from qasr.app.entry.cli import main
from qasr.app.entry.cli_diarize import diarize_command
from qasr.app.use_cases.service import TranscriptionService
from qasr.testing import FakeAligner, FakeAudioSource, FakeDiarizer, FakeRecognizer


@pytest.fixture
def talk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    Path("talk.wav").write_bytes(b"RIFF")  # FakeAudioSource gives it a tone
    return "talk.wav"


class Factory:
    """A `build_service` stand-in that keeps what the CLI asked for."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> TranscriptionService:
        self.asked.append(kwargs)
        return TranscriptionService(
            FakeAudioSource(tone_seconds=5.0),
            FakeRecognizer(),
            FakeAligner(),
            FakeDiarizer(turn_seconds=1.0) if kwargs.get("diarize") else None,
        )


def test_diarize_prints_and_writes_rttm(talk, capsys) -> None:
    asked: list[dict[str, Any]] = []

    def build(**options: Any) -> FakeDiarizer:
        asked.append(options)
        return FakeDiarizer(turn_seconds=0.4)

    status = diarize_command(
        [talk, "--num-speakers", "2"], build_diarizer=build, audio_source=FakeAudioSource()
    )
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert asked == [{"kind": "builtin", "num_speakers": 2}]
    lines = out.splitlines()
    assert lines[0] == "SPEAKER talk 1 0.000 0.400 <NA> <NA> SPEAKER_00 <NA> <NA>"
    assert Path("talk.rttm").read_text() == out and len(lines) == 3  # a 1 s tone


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--min-speakers", "3", "--max-speakers", "2"], "min_speakers (3) is larger"),
        (["--num-speakers", "0"], "0"),
        (["--diarizer", "whisperx"], "invalid choice"),
    ],
)
def test_bad_speaker_options_are_one_line(talk, capsys, argv, message) -> None:
    status = main(["diarize", talk, *argv])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("qasr") and message in line
    assert not Path("talk.rttm").exists()


def test_transcribe_diarize_turns_timestamps_on_and_labels_cues(talk, capsys) -> None:
    factory = Factory()
    status = main(
        [talk, "--diarize", "--max-speakers", "3", "-f", "srt,vtt,tsv"], build_service=factory
    )
    _, err = capsys.readouterr()
    assert (status, err) == (0, "")
    [asked] = factory.asked
    assert asked["timestamps"] is True and asked["diarize"] is True
    assert asked["diarizer"].max_speakers == 3  # the built-in one, built lazily
    assert "[SPEAKER_00]" in Path("talk.srt").read_text()
    assert "<v SPEAKER_01>" in Path("talk.vtt").read_text()
    assert Path("talk.tsv").read_text().startswith("start\tend\tspeaker\ttext\n")


def test_transcribe_bad_bounds_fail_before_any_model(talk, capsys) -> None:
    factory = Factory()
    status = main([talk, "--num-speakers", "5", "--max-speakers", "2"], build_service=factory)
    _, err = capsys.readouterr()
    assert status == 2 and factory.asked == [] and "outside" in err


WEIGHTS = all(importlib.util.find_spec(name) for name in ("silero_vad", "resemblyzer"))


@pytest.mark.skipif(not WEIGHTS, reason="pip install --no-deps silero-vad Resemblyzer")
def test_meeting_srt_offline_with_the_builtin_diarizer(tmp_path, monkeypatch, capsys) -> None:
    """`qasr transcribe meeting.wav --diarize -f srt`: real audio file, real diarizer, no token,
    no network; only the recognizer and aligner are fakes (no real model offline yet)."""
    from tests.adapters.diarization.conftest import TWO_VOICES, dialogue

    monkeypatch.chdir(tmp_path)
    for name in ("HF_TOKEN", "PYANNOTE_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    samples, _ = dialogue(TWO_VOICES, [0, 1, 0])
    with wave.open("meeting.wav", "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(16_000)
        file.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    root = functools.partial(
        bootstrap.build_service, recognizer=FakeRecognizer(), aligner=FakeAligner()
    )
    status = main(["transcribe", "meeting.wav", "--diarize", "-f", "srt"], build_service=root)
    _, err = capsys.readouterr()
    assert (status, err) == (0, "")
    srt = Path("meeting.srt").read_text()
    assert "[SPEAKER_00]" in srt and "[SPEAKER_01]" in srt
