"""The `qasr` command through `main([...], build_service=...)`, with fakes for the model."""

from __future__ import annotations

import functools
import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
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
OUTPUT_NAMES = ["txt", "json", "srt", "vtt", "tsv"]


class Factory:
    """A `build_service` stand-in that records how the CLI asked for the service."""

    def __init__(self, recognizer: Any = None, audio: dict[str, Any] | None = None) -> None:
        self.asked: list[dict[str, Any]] = []
        self.recognizer = recognizer or FakeRecognizer()
        self.audio = audio

    def __call__(self, **kwargs: Any) -> TranscriptionService:
        self.asked.append(kwargs)
        aligner = FakeAligner() if kwargs.get("timestamps") else None
        source = FakeAudioSource(self.audio, missing={BROKEN})
        return TranscriptionService(source, self.recognizer, aligner)


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


def test_several_files_share_one_service_and_each_is_labelled(audio, capsys) -> None:
    factory = Factory()
    status, out, _ = run(["talk.wav", "second.mp3", "-o", "out"], capsys, factory)
    assert status == 0 and len(factory.asked) == 1
    assert out.splitlines() == [
        "==> talk.wav <==",
        expected_text("talk.wav"),
        "==> second.mp3 <==",
        expected_text("second.mp3"),
    ]
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


@pytest.mark.parametrize("fmt", ["srt", "vtt", "all", "txt,srt", "tsv", "json,tsv"])
def test_timed_formats_turn_timestamps_on_and_every_format_is_written(
    audio, capsys, fmt: str
) -> None:
    factory = Factory()
    status, _, err = run(["talk.wav", "-f", fmt, "--quiet"], capsys, factory)
    assert (status, err) == (0, "")
    assert factory.asked[0]["timestamps"] is True
    names = OUTPUT_NAMES if fmt == "all" else fmt.split(",")
    assert sorted(os.listdir()) == sorted([*audio, *(f"talk.{name}" for name in names)])


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
    assert out.splitlines() == ["==> talk.wav <==", expected_text("talk.wav")]
    assert Path("talk.txt").exists()


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


@pytest.mark.parametrize("layout", [[], ["--to-layout", "hf"]])
def test_convert_says_a_user_error_and_ctrl_c_in_one_line_and_shows_a_bug(
    layout: list[str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    argv = ["convert", "--model", "some/model", "--output", "out", *layout]

    def converting(raised: BaseException) -> None:
        def convert(*args: Any, **kwargs: Any) -> None:
            raise raised

        monkeypatch.setattr(bootstrap, "convert_layout" if layout else "convert_model", convert)

    converting(ModelNotFoundError("no model 'some/model'"))
    assert run(argv, capsys) == (2, "", "qasr: error: no model 'some/model'\n")
    converting(KeyboardInterrupt())
    assert run(argv, capsys) == (130, "", "qasr: error: interrupted\n")
    converting(RuntimeError("boom"))  # its traceback, as Python prints it: a run is not repeated
    with pytest.raises(RuntimeError, match="boom"):
        main(argv)


@pytest.mark.parametrize(
    ("output", "said"),
    [
        ("taken", "the output folder 'taken' (-o) is a file"),
        ("/dev/null", "the output folder '/dev/null' (-o) is not a folder"),
        ("taken/sub/dir", "cannot make the output folder 'taken/sub/dir' (-o):"),
    ],
)
@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_a_bad_output_dir_is_refused_before_any_decoding(
    audio, capsys, output: str, said: str, quiet: list[str]
) -> None:
    Path("taken").write_text("a file, not a folder")
    factory = Factory()
    status, out, err = run(["talk.wav", "second.mp3", "-o", output, *quiet], capsys, factory)
    assert (status, out, factory.asked) == (2, "", [])
    [line] = err.splitlines()
    assert line.startswith(f"qasr: error: {said}") and "talk.wav" not in line


def test_a_read_only_output_dir_is_refused_before_any_decoding(
    audio, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("locked").mkdir()
    real_access = os.access
    # A read-only mount answers access(2) with EROFS even for root; chmod cannot show that here.
    monkeypatch.setattr(
        os, "access", lambda path, mode: Path(path).name != "locked" and real_access(path, mode)
    )
    for output in ("locked", "locked/new"):
        factory = Factory()
        status, out, err = run(["talk.wav", "-o", output], capsys, factory)
        assert (status, out, factory.asked) == (2, "", [])
        assert "locked" in err and "(-o)" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_folder_without_write_permission_is_refused(audio, capsys) -> None:
    Path("locked").mkdir()
    Path("locked").chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        status, out, err = run(["talk.wav", "-o", "locked"], capsys)
    finally:
        Path("locked").chmod(stat.S_IRWXU)
    assert (status, out) == (2, "") and "cannot write into the output folder 'locked'" in err


def test_a_format_that_fails_late_costs_no_other_format(audio, capsys) -> None:
    Path("out/talk.srt").mkdir(parents=True)  # os.replace cannot put a file there
    status, out, err = run(["talk.wav", "-f", "txt,srt,json", "-o", "out"], capsys)
    assert status == 2 and out.strip() == expected_text("talk.wav")
    [line] = err.splitlines()
    assert line.startswith("qasr: error: cannot write 'out/talk.srt': ")
    assert sorted(os.listdir("out")) == ["talk.json", "talk.srt", "talk.txt"]
    assert json.loads(Path("out/talk.json").read_text())["text"] == expected_text("talk.wav")


def test_inputs_sharing_a_stem_keep_their_extension_then_their_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    names = ["a/x.wav", "b/x.wav", "a/x.mp3", "talk.wav"]
    rng = np.random.default_rng(0)
    clips = {
        name: rng.uniform(-0.5, 0.5, 16_000 + 800 * i).astype(np.float32)
        for i, name in enumerate(names)
    }
    for name in names:
        Path(name).parent.mkdir(exist_ok=True)
        Path(name).write_bytes(b"RIFF")
    factory = Factory(audio=clips)
    status, out, err = run([*names, "-o", "out", "-f", "txt,json", "--quiet"], capsys, factory)
    assert status == 0 and out == ""
    stems = {"a/x.wav": "a_x.wav", "b/x.wav": "b_x.wav", "a/x.mp3": "x.mp3", "talk.wav": "talk"}
    assert sorted(os.listdir("out")) == sorted(
        f"{s}.{f}" for s in stems.values() for f in ("txt", "json")
    )
    texts = {name: Path(f"out/{stem}.txt").read_text().strip() for name, stem in stems.items()}
    assert len(set(texts.values())) == len(names), "each input has its own transcript"
    [line] = err.splitlines()
    assert (
        line.startswith("qasr: warning: inputs share a file stem")
        and "a/x.wav -> a_x.wav.*" in line
    )


def test_stems_that_differ_only_in_case_do_not_overwrite_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("Talk.wav", "talk.mp3"):
        Path(name).write_bytes(b"RIFF")
    status, _, _ = run(["Talk.wav", "talk.mp3", "-o", "out", "--quiet"], capsys)
    assert status == 0 and sorted(os.listdir("out")) == ["Talk.wav.txt", "talk.mp3.txt"]


def test_the_same_file_twice_is_transcribed_once(audio, capsys) -> None:
    status, out, err = run(["talk.wav", "./talk.wav", "-o", "out"], capsys)
    assert status == 0 and out.strip() == expected_text("talk.wav")
    assert (
        err
        == "qasr: warning: './talk.wav' is the same file as 'talk.wav'; it is transcribed once\n"
    )
    assert os.listdir("out") == ["talk.txt"]


def test_an_empty_transcript_gets_empty_subtitles_not_advice_to_add_timestamps(
    audio, capsys
) -> None:
    factory = Factory(ScriptedRecognizer([reply("")]))
    status, _, err = run(["talk.wav", "-f", "all", "-o", "out"], capsys, factory)
    assert (status, err) == (0, "")
    assert Path("out/talk.srt").read_text() == "" and Path("out/talk.vtt").read_text() == "WEBVTT\n"


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

    monkeypatch.setattr(doctor, "CHECKS", (lambda: doctor.Check("ffmpeg", doctor.Grade.FAIL, "x"),))
    assert run(["--doctor"], capsys) == (1, "[   FAIL] ffmpeg: x\n", "")


def test_max_new_tokens_reaches_the_recognizer(audio, capsys) -> None:
    status, out, err = run(["talk.wav", "--stdout-only", "--max-new-tokens", "1"], capsys)
    assert status == 0
    assert out == expected_text("talk.wav", RecognitionOptions(max_new_tokens=1)) + "\n"
    assert "token budget ran out" in err


def test_batch_size_reaches_the_composition_root(audio, capsys) -> None:
    factory = Factory()
    assert run(["talk.wav", "--stdout-only", "--batch-size", "3"], capsys, factory)[0] == 0
    assert factory.asked[0]["batch_size"] == 3


def test_draft_model_flags_reach_the_composition_root(audio, capsys) -> None:
    factory = Factory()
    words = ["talk.wav", "--stdout-only", "--draft-model", "small", "--num-draft-tokens", "6"]
    assert run(words, capsys, factory)[0] == 0
    assert (factory.asked[0]["draft_model"], factory.asked[0]["num_draft_tokens"]) == ("small", 6)
    factory = Factory()
    assert run(["talk.wav", "--stdout-only"], capsys, factory)[0] == 0
    assert "draft_model" not in factory.asked[0]  # plain decoding unless asked


@pytest.mark.parametrize("flag", ["--batch-size", "--max-new-tokens", "--num-draft-tokens"])
@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_bad_counts_are_one_line(audio, capsys, flag: str, value: str) -> None:
    factory = Factory()
    status, out, err = run(["talk.wav", flag, value], capsys, factory)
    assert (status, out, factory.asked) == (2, "", [])
    assert error_lines(err) == err.splitlines() and len(err.splitlines()) == 1


# --- first-run messages: the right flag, the right command, both problems at once -----------


@pytest.fixture
def empty_offline_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine that has never downloaded a model and is told to stay offline."""
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))


def real_root(**kwargs: Any) -> TranscriptionService:
    return bootstrap.build_service(audio_source=FakeAudioSource(), **kwargs)


def test_a_wrong_model_and_a_missing_aligner_are_reported_together(
    audio, capsys, empty_offline_cache
) -> None:
    status, out, err = run(
        ["talk.wav", "--timestamps", "--model", "/nonexistent"], capsys, real_root
    )
    assert (status, out) == (2, "")
    [line] = err.splitlines()
    assert "no model folder at '/nonexistent'" in line
    assert f"the forced aligner for word timestamps: model '{bootstrap.DEFAULT_ALIGNER}'" in line
    assert "pass --forced-aligner /path/to/a/local/folder" in line


@pytest.mark.parametrize("fmt", ["srt", "vtt", "all"])
def test_a_missing_aligner_names_its_own_flag(audio, capsys, empty_offline_cache, fmt) -> None:
    root = functools.partial(real_root, recognizer=FakeRecognizer())
    status, _, err = run(["talk.wav", "-f", fmt], capsys, root)
    assert status == 2 and "--forced-aligner /path" in err and "pass --model" not in err


@pytest.mark.parametrize(
    ("installed", "command"),
    [({"hf"}, "hf download"), ({"hf", "huggingface-cli"}, "hf download"),
     ({"huggingface-cli"}, "huggingface-cli download")],
)  # fmt: skip
def test_the_download_advice_names_the_installed_hub_command(
    audio, capsys, empty_offline_cache, monkeypatch, installed: set[str], command: str
) -> None:
    from qasr.adapters.mlx.checkpoint import files

    monkeypatch.setattr(
        files.shutil, "which", lambda name: f"/bin/{name}" if name in installed else None
    )
    status, _, err = run(["talk.wav", "--model", "Qwen/Qwen3-ASR-0.6B"], capsys, real_root)
    assert status == 2 and f"`{command} Qwen/Qwen3-ASR-0.6B`" in err


def test_an_unreachable_hub_names_the_aligner_flag_too(
    audio, capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import huggingface_hub
    import huggingface_hub.constants as hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def no_network(repo_id: str, *, local_files_only: bool = False, **kwargs: Any) -> str:
        if local_files_only:
            raise LocalEntryNotFoundError("not cached")
        raise ConnectionError("no route to host")

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    root = functools.partial(real_root, recognizer=FakeRecognizer())
    status, _, err = run(
        ["talk.wav", "-f", "srt", "--forced-aligner", "some/aligner"], capsys, root
    )
    [line] = err.splitlines()
    assert status == 2 and "the hub cannot be reached (ConnectionError)" in line
    assert "pass --forced-aligner /path/to/a/local/folder" in line


def test_each_dialect_names_the_language_it_is_forced_as_once(capsys) -> None:
    status, out, _ = run(["--list-languages"], capsys)
    dialects = out.split("Chinese dialects")[1].splitlines()[1:]
    assert status == 0 and len(dialects) == 22
    for line, dialect in zip(dialects, [lang for lang in LANGUAGES if lang.parent], strict=True):
        assert line.split(None, 1)[1].count(dialect.parent) == 1, line


def test_train_help_shows_the_step_and_batch_defaults(capsys) -> None:
    from qasr.app.entry.cli_checkpoints import _build_train_parser

    parser = _build_train_parser()
    status, out, _ = run(["train", "--help"], capsys)
    assert status == 0
    for flag, dest in (("--steps", "steps"), ("--batch-size", "batch_size")):
        options = out.split("\noptions:", 1)[1]
        described = " ".join(options.split(f"\n  {flag} ", 1)[1].split("\n  --", 1)[0].split())
        assert f"(default: {parser.get_default(dest)})" in described, flag
