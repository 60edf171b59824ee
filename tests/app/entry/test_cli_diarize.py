"""`qasr diarize` and `qasr transcribe --diarize`, with fakes where a model would load."""

from __future__ import annotations

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


def test_transcribe_diarize_turns_timestamps_on_and_labels_cues(talk, capsys, monkeypatch) -> None:
    monkeypatch.setattr(bootstrap, "model_at_hand", lambda name: True)  # the aligner is cached
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


def test_without_an_aligner_at_hand_each_turn_is_transcribed_and_timed(
    talk, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(bootstrap, "model_at_hand", lambda name: False)
    factory = Factory()

    def no_aligner(**kwargs: Any) -> TranscriptionService:
        service = factory(**kwargs)
        service.aligner = None
        return service

    status = main([talk, "--diarize", "-f", "srt"], build_service=no_aligner)
    _, err = capsys.readouterr()
    assert status == 0 and "words are not timed" in err and "--timestamps" in err
    assert factory.asked[0]["timestamps"] is False
    srt = Path("talk.srt").read_text()
    assert "00:00:00,000 --> 00:00:01,000\n[SPEAKER_00]" in srt  # FakeDiarizer's 1 s turns
    # --timestamps asks for word times whatever is cached: no fallback, no warning.
    assert main([talk, "--diarize", "--timestamps", "-f", "srt"], build_service=factory) == 0
    assert factory.asked[-1]["timestamps"] is True


def test_transcribe_bad_bounds_fail_before_any_model(talk, capsys) -> None:
    factory = Factory()
    status = main([talk, "--num-speakers", "5", "--max-speakers", "2"], build_service=factory)
    _, err = capsys.readouterr()
    assert status == 2 and factory.asked == [] and "outside" in err


WEIGHTS = all(importlib.util.find_spec(name) for name in ("silero_vad", "resemblyzer"))


@pytest.mark.skipif(not WEIGHTS, reason="pip install --no-deps silero-vad Resemblyzer")
def test_meeting_srt_offline_with_the_builtin_diarizer(tmp_path, monkeypatch, capsys) -> None:
    """`qasr transcribe meeting.wav --diarize -f srt --model tiny-en` as on a fresh machine:
    real audio file, real diarizer, the bundled demo model, no token, no network, no aligner
    (so each turn is transcribed on its own)."""
    from tests.adapters.diarization.conftest import TWO_VOICES, dialogue

    monkeypatch.chdir(tmp_path)
    for name in ("HF_TOKEN", "PYANNOTE_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    samples, _ = dialogue(TWO_VOICES, [0, 1, 0])
    with wave.open("meeting.wav", "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(16_000)
        file.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    argv = ["transcribe", "meeting.wav", "--diarize", "-f", "srt", "--model", "tiny-en"]
    status = main([*argv, "--no-progress"])
    _, err = capsys.readouterr()
    assert status == 0 and "words are not timed" in err
    srt = Path("meeting.srt").read_text()
    assert "[SPEAKER_00]" in srt and "[SPEAKER_01]" in srt
    assert sum(line.count(" ") for line in srt.splitlines()) > 6  # words, not just labels
