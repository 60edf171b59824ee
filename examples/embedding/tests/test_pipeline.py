"""The minutes pipeline on qasr's service, with qasr's fakes where the model and files would be."""

from __future__ import annotations

from pathlib import Path

from qasr.errors import AudioError
from qasr.testing import FakeAligner, FakeAudioSource, FakeDiarizer, FakeRecognizer

from minutes import CachingRecognizer, build_minutes_service, write_minutes


def test_minutes_name_the_speakers_and_a_repeated_recording_costs_no_model_call(
    tmp_path: Path,
) -> None:
    model = FakeRecognizer()
    service = build_minutes_service(
        recognizer=model,
        audio_source=FakeAudioSource(tone_seconds=5.0, missing={"lost.wav"}),
        aligner=FakeAligner(),
        diarizer=FakeDiarizer(turn_seconds=2.0),
    )
    assert isinstance(service.recognizer, CachingRecognizer)
    done = write_minutes(service, ["standup.wav", "lost.wav", "standup.wav"], tmp_path / "out")
    assert isinstance(done["lost.wav"], AudioError)
    minutes = Path(done["standup.wav"]).read_text(encoding="utf-8")  # type: ignore[arg-type]
    assert "**SPEAKER_00** [00:00]:" in minutes and "**SPEAKER_01** [00:02]:" in minutes
    assert len(model.calls) == 1, "the second standup.wav came from the cache"
