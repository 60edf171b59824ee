"""The `qasr` command through `main([...], build_service=...)`, with fakes for the model."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from tests.app.app_doubles import ScriptedRecognizer, reply

import qasr
from qasr.app import bootstrap
from qasr.app.entry.cli import main
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import LANGUAGES, FinishReason, RecognitionOptions
from qasr.errors import ModelNotFoundError
from qasr.testing import FakeAligner, FakeAudioSource, FakeRecognizer

BROKEN = "broken.wav"  # exists on disk, but the audio source cannot decode it


class Factory:
    """A `build_service` stand-in that records how the CLI asked for the service."""

    def __init__(self, recognizer: Any = None) -> None:
        self.asked: list[dict[str, Any]] = []
        self.recognizer = recognizer or FakeRecognizer()

    def __call__(self, **kwargs: Any) -> TranscriptionService:
        self.asked.append(kwargs)
        aligner = FakeAligner() if kwargs.get("timestamps") else None
        return TranscriptionService(FakeAudioSource(missing={BROKEN}), self.recognizer, aligner)


@pytest.fixture
def audio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Files that exist (the CLI checks); FakeAudioSource gives each name its own tone."""
    monkeypatch.chdir(tmp_path)
    names = ["talk.wav", "second.mp3", BROKEN]
    for name in names:
        Path(name).write_bytes(b"RIFF")
    return names


def expected_text(name: str, options: RecognitionOptions | None = None) -> str:
    service = TranscriptionService(FakeAudioSource(), FakeRecognizer())
    transcript = service.transcribe(name, options or RecognitionOptions())
    return transcript.text


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("qasr: error:")]


def run(argv: list[str], capsys: pytest.CaptureFixture[str], factory: Any = None) -> tuple:
    status = main(argv, build_service=factory or Factory())
    out, err = capsys.readouterr()
    return status, out, err


def test_a_file_is_printed_and_written_as_text(audio: list[str], capsys) -> None:
    status, out, err = run(["talk.wav"], capsys)
    assert (status, err) == (0, "")
    assert out == expected_text("talk.wav") + "\n"
    assert Path("talk.txt").read_text(encoding="utf-8").strip() == expected_text("talk.wav")


def test_the_transcribe_subcommand_is_the_same_as_the_shorthand(audio, capsys) -> None:
    assert run(["transcribe", "talk.wav", "--stdout-only"], capsys) == run(
        ["talk.wav", "--stdout-only"], capsys
    )


def test_several_files_share_one_service(audio, capsys) -> None:
    factory = Factory()
    status, out, _ = run(["talk.wav", "second.mp3", "-o", "out"], capsys, factory)
    assert status == 0 and len(factory.asked) == 1
    assert out.splitlines() == [expected_text("talk.wav"), expected_text("second.mp3")]
    assert sorted(p.name for p in Path("out").iterdir()) == ["second.txt", "talk.txt"]


def test_stdout_only_writes_nothing_and_quiet_prints_nothing(audio, capsys) -> None:
    status, out, _ = run(["talk.wav", "--stdout-only"], capsys)
    assert status == 0 and out.strip() and not Path("talk.txt").exists()
    status, out, _ = run(["talk.wav", "--quiet"], capsys)
    assert status == 0 and out == "" and Path("talk.txt").exists()


def test_json_output_carries_the_forced_language(audio, capsys) -> None:
    status, _, _ = run(["talk.wav", "-f", "json", "--language", "de", "--quiet"], capsys)
    data = json.loads(Path("talk.json").read_text(encoding="utf-8"))
    assert status == 0
    assert data["text"] == expected_text("talk.wav", RecognitionOptions(language="German"))
    assert "German" in json.dumps(data["language"])


@pytest.mark.parametrize("fmt", ["srt", "vtt", "all", "txt,srt"])
def test_subtitle_formats_turn_timestamps_on(audio, capsys, fmt: str) -> None:
    factory = Factory()
    status, _, err = run(["talk.wav", "-f", fmt, "--quiet"], capsys, factory)
    assert (status, err) == (0, "")
    assert factory.asked[0]["timestamps"] is True
    assert Path("talk.srt").exists() or Path("talk.vtt").exists()


def test_model_and_dtype_reach_the_composition_root(audio, capsys) -> None:
    factory = Factory()
    run(["talk.wav", "--model", "some/model", "--dtype", "bfloat16", "--quiet"], capsys, factory)
    assert factory.asked == [{"model": "some/model", "dtype": "bfloat16", "timestamps": False}]


def test_a_missing_file_is_one_line_and_the_others_still_run(audio, capsys) -> None:
    status, out, err = run(["missing.wav", "talk.wav"], capsys)
    assert status == 2
    assert err.splitlines() == ["qasr: error: no such file: 'missing.wav'"]
    assert out.strip() == expected_text("talk.wav")


def test_only_missing_files_never_build_the_service(audio, capsys) -> None:
    factory = Factory()
    status, _, err = run(["missing.wav", "."], capsys, factory)
    assert status == 2 and factory.asked == []
    assert len(error_lines(err)) == 2 and "is a directory" in err


def test_an_undecodable_file_is_reported_and_the_others_still_run(audio, capsys) -> None:
    status, out, err = run([BROKEN, "talk.wav"], capsys)
    assert status == 2
    assert len(err.splitlines()) == 1 and BROKEN in error_lines(err)[0]
    assert out.strip() == expected_text("talk.wav") and Path("talk.txt").exists()


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["talk.wav", "--language", "Englsh"], "Did you mean: English"),
        (["talk.wav", "-f", "docx"], "docx"),
        (["talk.wav", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        ([], "no input files"),
    ],
)
def test_each_user_mistake_is_one_clear_line(audio, capsys, argv: list[str], hint: str) -> None:
    factory = Factory()
    status, out, err = run(argv, capsys, factory)
    assert status == 2 and out == "" and factory.asked == []
    assert len(err.splitlines()) == 1 and err.startswith("qasr: error: ")
    assert hint in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["talk.wav", "-f", "srt"], ["talk.wav", "--timestamps"]])
def test_timestamps_with_a_missing_aligner_say_so_in_one_line(
    audio, capsys, argv: list[str]
) -> None:
    root = functools.partial(
        bootstrap.build_service,
        recognizer=FakeRecognizer(),
        audio_source=FakeAudioSource(),
        forced_aligner="/nowhere/aligner",
    )
    status, out, err = run(argv, capsys, root)
    assert (status, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("qasr: error: ") and "/nowhere/aligner" in line


def test_a_bad_model_is_one_line(audio, capsys) -> None:
    def no_such_model(**kwargs: Any) -> TranscriptionService:
        raise ModelNotFoundError(f"no model folder at {kwargs['model']!r}")

    status, _, err = run(["talk.wav", "--model", "/nowhere"], capsys, no_such_model)
    assert status == 2 and err == "qasr: error: no model folder at '/nowhere'\n"


def test_verbose_adds_the_traceback_and_progress(audio, capsys) -> None:
    status, _, err = run([BROKEN, "talk.wav", "--verbose", "--stdout-only"], capsys)
    assert status == 2 and "Traceback" in err and "AudioError" in err
    assert "[2/2] talk.wav" in err and "chunk 1/1 done" in err
    assert len(error_lines(err)) == 1


def test_a_bug_is_reported_as_one_internal_error_line(audio, capsys) -> None:
    def broken_root(**kwargs: Any) -> TranscriptionService:
        raise RuntimeError("boom")

    status, _, err = run(["talk.wav"], capsys, broken_root)
    assert status == 1 and "Traceback" not in err
    assert err.splitlines() == [
        "qasr: error: internal error (RuntimeError: boom); this is a bug in qasr, please report "
        "it with the output of --verbose"
    ]


def test_an_unwritable_output_dir_is_one_line(audio, capsys) -> None:
    Path("taken").write_text("a file, not a folder")
    status, out, err = run(["talk.wav", "-o", "taken"], capsys)
    assert status == 2 and out.strip() == expected_text("talk.wav")
    assert len(error_lines(err)) == 1 and len(err.splitlines()) == 1


def test_a_truncated_transcript_is_printed_with_a_warning(audio, capsys) -> None:
    factory = Factory(ScriptedRecognizer([reply("cut sho", finish=FinishReason.LENGTH)]))
    status, out, err = run(["talk.wav", "--stdout-only"], capsys, factory)
    assert (status, out) == (0, "cut sho\n")
    assert err.startswith("qasr: warning: talk.wav: the token budget ran out")


def test_list_languages_names_every_language_and_code(capsys) -> None:
    status, out, _ = run(["--list-languages"], capsys)
    assert status == 0
    rows = [line.split(None, 1) for line in out.splitlines() if line.startswith("  ")]
    assert len(rows) == len(LANGUAGES) == 52
    assert {(code, rest.split(" (")[0]) for code, rest in rows} == {
        (lang.code, lang.name.split(" (")[0]) for lang in LANGUAGES
    }


def test_version_and_help(capsys) -> None:
    assert run(["--version"], capsys) == (0, f"qasr {qasr.__version__}\n", "")
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "qasr [transcribe] FILES..." in out and "--list-languages" in out


def test_doctor_runs_through_the_cli(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from qasr.app.entry import doctor

    monkeypatch.setattr(doctor, "CHECKS", (lambda: doctor.Check("ffmpeg", False, "x", True),))
    assert run(["--doctor"], capsys) == (1, "[FAIL] ffmpeg: x\n", "")


def test_max_new_tokens_reaches_the_recognizer(audio, capsys) -> None:
    status, out, err = run(["talk.wav", "--stdout-only", "--max-new-tokens", "1"], capsys)
    assert status == 0
    assert out == expected_text("talk.wav", RecognitionOptions(max_new_tokens=1)) + "\n"
    assert "token budget ran out" in err


def test_batch_size_reaches_the_composition_root(audio, capsys) -> None:
    factory = Factory()
    assert run(["talk.wav", "--stdout-only", "--batch-size", "3"], capsys, factory)[0] == 0
    assert factory.asked[0]["batch_size"] == 3


@pytest.mark.parametrize("flag", ["--batch-size", "--max-new-tokens"])
@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_bad_counts_are_one_line(audio, capsys, flag: str, value: str) -> None:
    factory = Factory()
    status, out, err = run(["talk.wav", flag, value], capsys, factory)
    assert (status, out, factory.asked) == (2, "", [])
    assert error_lines(err) == err.splitlines() and len(err.splitlines()) == 1
