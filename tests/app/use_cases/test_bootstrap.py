"""The composition root builds defaults only for what the caller did not pass."""

from __future__ import annotations

import sys

import pytest

from qasr.app import bootstrap
from qasr.app.bootstrap import build_service
from qasr.errors import QasrError
from qasr.testing import FakeAligner, FakeAudioSource, FakeDiarizer, FakeRecognizer


def test_passed_components_are_used_as_they_are() -> None:
    parts = dict(
        recognizer=FakeRecognizer(),
        audio_source=FakeAudioSource(),
        aligner=FakeAligner(),
        diarizer=FakeDiarizer(),
    )
    service = build_service(timestamps=True, diarize=True, max_chunk_seconds=12.0, **parts)
    assert service.recognizer is parts["recognizer"]
    assert service.audio_source is parts["audio_source"]
    assert service.aligner is parts["aligner"] and service.diarizer is parts["diarizer"]
    assert service.max_chunk_seconds == 12.0


def test_the_model_and_dtype_go_to_the_build_recognizer(monkeypatch) -> None:
    asked = []
    monkeypatch.setattr(
        bootstrap,
        "build_recognizer",
        lambda model, *, dtype, batch_size, draft_model, num_draft_tokens: (
            asked.append((model, dtype, batch_size, draft_model, num_draft_tokens))
            or FakeRecognizer()
        ),
    )
    monkeypatch.setattr(bootstrap, "_locate_checkpoints", lambda *wanted: None)
    build_service("org/tiny", dtype="float16", audio_source=FakeAudioSource(), batch_size=4)
    assert asked == [("org/tiny", "float16", 4, None, None)]
    build_service(audio_source=FakeAudioSource(), draft_model="org/draft", num_draft_tokens=3)
    assert asked[-1] == (bootstrap.DEFAULT_MODEL, None, None, "org/draft", 3)


def test_diarization_without_an_adapter_gets_the_builtin_one() -> None:
    service = build_service(
        recognizer=FakeRecognizer(), audio_source=FakeAudioSource(), diarize=True
    )
    assert type(service.diarizer).__name__ == "BuiltinDiarizer"  # its networks load on first use
    pyannote = bootstrap.build_diarizer("pyannote", num_speakers=2, pipeline="/some/folder")
    assert (pyannote.name, pyannote.bounds) == ("/some/folder", {"num_speakers": 2})
    with pytest.raises(QasrError, match="unknown diarizer 'whisperx'"):
        bootstrap.build_diarizer("whisperx")


def test_timestamps_load_the_aligner_before_the_recognizer(monkeypatch, tmp_path) -> None:
    """A missing aligner is reported before the (slow) recognizer load, naming the aligner."""

    def must_not_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the recognizer was loaded")

    monkeypatch.setattr(bootstrap, "build_recognizer", must_not_load)
    missing = tmp_path / "no-aligner-here"
    with pytest.raises(QasrError, match="no-aligner-here"):
        build_service(timestamps=True, audio_source=FakeAudioSource(), forced_aligner=str(missing))


def test_without_timestamps_no_aligner_is_built() -> None:
    service = build_service(recognizer=FakeRecognizer(), audio_source=FakeAudioSource())
    assert service.aligner is None and service.diarizer is None


def test_the_build_audio_source_is_the_real_one() -> None:
    source = bootstrap.build_audio_source()
    assert type(source).__module__.startswith("qasr.adapters.audio")


def test_the_build_recognizer_is_the_mlx_one_and_a_bad_path_is_a_user_error(tmp_path) -> None:
    pytest.importorskip("qasr.adapters.mlx.recognizer")
    from qasr.errors import QasrError

    with pytest.raises(QasrError):
        bootstrap.build_recognizer(str(tmp_path / "no-such-model"))


def test_the_mlx_summary_names_device_and_blas() -> None:
    pytest.importorskip("mlx.core")
    summary = bootstrap.mlx_backend_summary()
    assert "default device" in summary and "BLAS" in summary
    assert "mlx.core" in sys.modules
