"""`qasr align`, `--forced-aligner` on transcribe, and word timestamps end to end with MLX."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qasr.adapters.audio import write_wav
from qasr.app import bootstrap
from qasr.app.entry.cli import main
from qasr.app.entry.session import align
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import AudioClip, RecognitionOptions, Segment, Transcript, find_language
from qasr.testing import FakeAligner

TEXT = "Hello, world! It's 2024 — 你好。"
UNITS = ["Hello", "world", "It's", "2024", "你", "好"]  # the official aligner's units


def fake_units(text: str) -> list[str]:
    clip = AudioClip(np.zeros(16_000, dtype=np.float32))
    return [segment.text for segment in FakeAligner().align(clip, text, None)]


class AlignerFactory:
    """A `build_aligner` stand-in that records how the CLI asked for the aligner."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> FakeAligner:
        self.asked.append(kwargs)
        return FakeAligner()


@pytest.fixture
def talk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    samples = 0.3 * np.sin(np.arange(32_000) * 2 * np.pi * 220 / 16_000)
    write_wav("talk.wav", samples.astype(np.float32), 16_000)
    return tmp_path / "talk.wav"


def run(argv: list[str], capsys: pytest.CaptureFixture[str], factory: Any = None) -> tuple:
    status = main(argv, build_aligner=factory or AlignerFactory())
    out, err = capsys.readouterr()
    return status, out, err


def test_align_prints_each_word_and_writes_subtitles_with_punctuation(talk, capsys) -> None:
    status, out, err = run(["align", "talk.wav", "--text", TEXT], capsys)
    assert (status, err) == (0, "")
    lines = [line.split("\t") for line in out.splitlines()]
    assert [word for _, _, word in lines] == fake_units(TEXT)
    starts = [float(start) for start, _, _ in lines]
    assert starts == sorted(starts) and float(lines[-1][1]) <= 2.0
    srt = Path("talk.srt").read_text(encoding="utf-8")
    assert "Hello, world!" in srt and "It's 2024" in srt


def test_the_text_can_come_from_a_file_and_json_keeps_the_words(talk, capsys) -> None:
    Path("words.txt").write_text(TEXT, encoding="utf-8")
    status, _, _ = run(["align", "talk.wav", "--text-file", "words.txt", "-f", "json"], capsys)
    assert status == 0
    saved = json.loads(Path("talk.json").read_text(encoding="utf-8"))
    assert saved["text"] == TEXT
    assert [segment["text"] for segment in saved["segments"]] == fake_units(TEXT)


def test_aligner_model_and_dtype_reach_the_composition_root(talk, capsys) -> None:
    factory = AlignerFactory()
    argv = ["align", "talk.wav", "--text", "hi", "--forced-aligner", "my/aligner"]
    run([*argv, "--dtype", "bfloat16", "--stdout-only"], capsys, factory)
    assert factory.asked == [{"model": "my/aligner", "dtype": "bfloat16"}]
    run(["align", "talk.wav", "--text", "hi", "--stdout-only"], capsys, factory)
    assert factory.asked[-1]["model"] == bootstrap.DEFAULT_ALIGNER


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["align", "missing.wav", "--text", "hi"], "no such file"),
        (["align", "talk.wav"], "--text"),
        (["align", "talk.wav", "--text", "hi", "--text-file", "x"], "not allowed"),
        (["align", "talk.wav", "--text", "hi", "-f", "docx"], "docx"),
        (["align", "talk.wav", "--text-file", "nowhere.txt"], "nowhere.txt"),
        (["align", "talk.wav", "--text", "hi", "--language", "Klingon"], "Klingon"),
    ],
)
def test_each_align_mistake_is_one_clear_line(talk, capsys, argv: list[str], hint: str) -> None:
    status, out, err = run(argv, capsys)
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("qasr: error: ")
    assert hint in err and "Traceback" not in err


def test_transcribe_passes_the_forced_aligner_on(talk, capsys) -> None:
    asked: list[dict[str, Any]] = []

    def build_service(**kwargs: Any) -> Any:
        asked.append(kwargs)
        from qasr.testing import FakeAudioSource, FakeRecognizer

        return bootstrap.build_service(
            recognizer=FakeRecognizer(), audio_source=FakeAudioSource(), aligner=FakeAligner()
        )

    argv = ["talk.wav", "--timestamps", "--forced-aligner", "my/aligner", "--quiet"]
    assert main(argv, build_service=build_service) == 0
    assert asked[0]["forced_aligner"] == "my/aligner" and asked[0]["timestamps"] is True


def test_build_service_loads_the_named_aligner_for_timestamps(monkeypatch) -> None:
    from qasr.testing import FakeAudioSource, FakeRecognizer

    asked = []
    monkeypatch.setattr(
        bootstrap, "build_aligner", lambda model, *, dtype: asked.append((model, dtype)) or 1
    )
    parts = dict(recognizer=FakeRecognizer(), audio_source=FakeAudioSource())
    bootstrap.build_service(timestamps=True, forced_aligner="a/b", dtype="float16", **parts)
    bootstrap.build_service(timestamps=True, **parts)
    assert asked == [("a/b", "float16"), (bootstrap.DEFAULT_ALIGNER, None)]


def test_align_needs_no_recognizer(talk) -> None:
    transcript = align(str(talk), TEXT, language="English", aligner=FakeAligner())
    assert [segment.text for segment in transcript.segments] == fake_units(TEXT)
    assert transcript.text == TEXT and transcript.language == find_language("en")


def test_qasr_align_runs_the_service_use_case(talk, capsys, monkeypatch) -> None:
    asked: list[tuple[Any, str, Any]] = []
    use_case = TranscriptionService.align

    def spy(self: TranscriptionService, source: Any, text: str, language: Any = None, **kw: Any):
        asked.append((source, text, language))
        return use_case(self, source, text, language, **kw)

    monkeypatch.setattr(TranscriptionService, "align", spy)
    status, out, _ = run(["align", "talk.wav", "--text", TEXT, "--language", "zh"], capsys)
    assert status == 0 and len(out.splitlines()) == len(fake_units(TEXT))
    assert asked == [("talk.wav", TEXT, find_language("Chinese"))]


# --- end to end with the MLX aligner on tiny random checkpoints (needs torch + qwen_asr) ---


class PunctuatedRecognizer:
    """Says TEXT for any clip: a known transcript with punctuation for the aligner to time."""

    def recognize(self, clips: Any, options: Any) -> list[Transcript]:
        return [Transcript(TEXT, language="English", duration=clip.duration) for clip in clips]


@pytest.fixture(scope="module")
def tiny_aligner_folder(tmp_path_factory: pytest.TempPathFactory) -> Any:
    pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from tests.parity.test_aligner_parity import build_official_aligner, save_aligner

    folder = save_aligner(build_official_aligner(seed=3), tmp_path_factory.mktemp("aligner"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parity
@pytest.mark.slow
def test_srt_from_the_mlx_aligner_keeps_the_transcript_punctuation(
    tiny_aligner_folder: Path, talk: Path
) -> None:
    service = bootstrap.build_service(
        recognizer=PunctuatedRecognizer(),
        timestamps=True,
        forced_aligner=str(tiny_aligner_folder),
    )
    transcript = service.transcribe(str(talk), RecognitionOptions(), timestamps=True)
    assert [segment.text for segment in transcript.segments] == UNITS
    assert all(isinstance(segment, Segment) for segment in transcript.segments)
    assert all(0 <= s.start <= s.end <= 2.0 for s in transcript.segments)
    [path] = bootstrap.write_outputs(transcript, talk.parent, "talk", "srt")
    assert "Hello, world!" in path.read_text(encoding="utf-8")


@pytest.mark.parity
@pytest.mark.slow
def test_transcribe_to_srt_with_mlx_recognizer_and_aligner(
    tiny_aligner_folder: Path, talk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.official import build_official_model, save_official_checkpoint
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    asr = save_official_checkpoint(build_official_model(seed=0), talk.parent / "asr")
    write_qwen_tokenizer_files(asr)
    argv = ["transcribe", "talk.wav", "--model", str(asr), "--forced-aligner"]
    status = main([*argv, str(tiny_aligner_folder), "-f", "srt,json", "--quiet"])
    _, err = capsys.readouterr()
    assert status == 0, err
    assert Path("talk.json").exists() and Path("talk.srt").exists()
