"""`qasr batch` on the command line: exit codes, one-line errors, resuming after a hard kill."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.app.use_cases.batch_doubles import fake_service, logged_names, mixed_folder

from qasr.app.entry.cli import main
from qasr.app.entry.cli_batch import SOME_FILES_FAILED, batch_command, progress_line
from qasr.app.use_cases.batch import RESULTS_NAME, BatchProgress, read_rows

ROOT = Path(__file__).resolve().parents[3]


def batch(words: list[str], capsys: pytest.CaptureFixture[str], log: Path | None = None) -> tuple:
    factory = functools.partial(fake_service, None if log is None else str(log))
    status = batch_command(words, build_service=factory)
    out, err = capsys.readouterr()
    return status, out, err


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("qasr: error:")]


def test_all_good_is_status_0_and_a_bad_file_status_3(tmp_path: Path, capsys) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    good_only = [str(path) for path in goods]
    status, out, err = batch([*good_only, "-o", str(tmp_path / "a"), "-f", "json"], capsys)
    assert (status, out, errors(err)) == (0, "", [])
    assert "4 files: 4 transcribed, 0 already done, 0 failed" in err
    assert all((tmp_path / "a" / f"{path.stem}.json").is_file() for path in goods)

    status, _, err = batch([str(tmp_path / "in"), "-o", str(tmp_path / "b")], capsys)
    assert status == SOME_FILES_FAILED
    assert len(errors(err)) == 2 and all(str(tmp_path / "in") in line for line in errors(err))
    assert "6 files: 4 transcribed, 0 already done, 2 failed" in err


def test_timed_formats_turn_timestamps_on(tmp_path: Path, capsys) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    status, _, err = batch([str(goods[0]), "-o", str(tmp_path / "out"), "-f", "srt"], capsys)
    assert status == 0, err
    assert "-->" in (tmp_path / "out" / f"{goods[0].stem}.srt").read_text()


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["gone.wav", "-o", "out"], "no such file or folder: 'gone.wav'"),
        (["empty", "-o", "out"], "the folder 'empty' holds no audio files"),
        (["bad.jsonl", "-o", "out"], "line 2: not valid JSON"),
        (["a.wav", "-o", "a.wav"], "the output folder 'a.wav' (-o) is a file"),
        (["a.wav", "-o", "out", "-f", "docx"], "docx"),
        (["a.wav", "-o", "out", "--ray", "not an address"], "is not a Ray address"),
        (["a.wav"], "the following arguments are required: -o"),
    ],
)
def test_each_mistake_is_one_error_line_and_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, words: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "bad.jsonl").write_text('{"audio": "a.wav"}\n{oops\n')
    status = main(["batch", *words])
    _, err = capsys.readouterr()
    assert status == 2
    assert len(err.splitlines()) == 1 and err.startswith("qasr: error:")
    assert message in err


def test_a_read_only_output_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    (tmp_path / "locked").mkdir()
    # Tests run as root in CI, where permission bits do not stop writes: ask access() instead.
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path).name != "locked")
    status, _, err = batch([str(goods[0]), "-o", str(tmp_path / "locked")], capsys)
    assert status == 2 and "cannot write into the output folder" in err


def test_an_unreachable_ray_address_is_one_error(tmp_path: Path, capsys) -> None:
    pytest.importorskip("ray")
    goods, _ = mixed_folder(tmp_path / "in")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    words = [str(goods[0]), "-o", str(tmp_path / "out"), f"--ray=127.0.0.1:{port}"]
    status, _, err = batch(words, capsys)
    assert status == 2
    assert (
        errors(err) == [errors(err)[0]]
        and f"cannot reach the Ray cluster at '127.0.0.1:{port}'" in err
    )


def test_a_missing_ray_names_the_extra(tmp_path: Path, monkeypatch, capsys) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    status, _, err = batch([str(goods[0]), "-o", str(tmp_path / "out"), "--ray"], capsys)
    assert status == 2 and "needs the 'ray' package: pip install" in err and "[ray]" in err


def test_ctrl_c_is_status_130_and_the_rerun_finishes(tmp_path: Path, capsys) -> None:
    goods, _ = mixed_folder(tmp_path / "in", good=6)
    out, log = tmp_path / "out", tmp_path / "heard.log"
    # One chunk per recognizer call, four chunks per decode: calls 1-4 finish the first four
    # files, and Ctrl-C comes on the fifth, inside the second decode.
    words = [str(tmp_path / "in"), "-o", str(out), "--batch-size", "1"]
    interrupted = functools.partial(fake_service, str(log), 5)
    assert batch_command(words, build_service=interrupted) == 130
    assert "interrupted" in capsys.readouterr().err
    assert len(logged_names(log)) == 4
    status, _, err = batch(words, capsys, log)
    assert status == SOME_FILES_FAILED
    assert "6 already done" not in err and "2 transcribed, 4 already done" in err
    assert sorted(logged_names(log)) == sorted(path.name for path in goods)


def test_a_killed_run_resumes_without_redoing_finished_files(tmp_path: Path, capsys) -> None:
    """SIGKILL mid-job (no cleanup runs): the manifest keeps the files finished before it."""
    goods, _ = mixed_folder(tmp_path / "in", good=6)
    out, log = tmp_path / "out", tmp_path / "heard.log"
    script = textwrap.dedent(f"""
        import functools, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "src")!r}]
        from tests.app.use_cases.batch_doubles import fake_service
        from qasr.app.entry.cli_batch import batch_command
        factory = functools.partial(fake_service, {str(log)!r}, None, 5)
        batch_command([{str(tmp_path / "in")!r}, "-o", {str(out)!r}, "--batch-size", "1",
                       "-f", "all"], build_service=factory)
    """)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert killed.returncode == -9, killed.stderr.decode()
    finished = {
        row["input"] for row in read_rows(out / RESULTS_NAME).values() if row["status"] == "ok"
    }
    # One chunk per call, four per decode: calls 1-4 finish four files, the 5th kills.
    assert len(finished) == 4
    status, _, err = batch([str(tmp_path / "in"), "-o", str(out), "-f", "all"], capsys, log)
    assert status == SOME_FILES_FAILED, err
    heard = logged_names(log)
    assert sorted(heard) == sorted(path.name for path in goods)  # nobody heard twice
    rows = read_rows(out / RESULTS_NAME).values()
    assert sum(row["status"] == "ok" for row in rows) == 6
    assert not list(out.rglob("*.tmp"))
    assert json.loads((out / f"{goods[0].stem}.json").read_text())["text"]


def test_the_progress_line_shows_files_rate_and_eta() -> None:
    progress = BatchProgress(
        files_total=10, files_done=4, failed=1, bytes_total=1000, bytes_done=400,
        audio_seconds=120.0, elapsed=60.0,
    )  # fmt: skip
    assert progress_line(progress) == (
        "[4/10] 1 failed | 120 s audio, 2.0 audio s/s | 1m00s, ETA 1m30s"
    )
    assert progress_line(BatchProgress(files_total=3)).endswith("ETA ?")


def test_files_cut_short_by_the_token_budget_are_counted(tmp_path: Path, capsys) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    words = [*map(str, goods), "-o", str(tmp_path / "out"), "--max-new-tokens", "1"]
    status, _, err = batch(words, capsys)
    assert status == 0
    assert "4 ran out of tokens (finish_reason length)" in err
    finishes = {row["finish_reason"] for row in read_rows(tmp_path / "out" / RESULTS_NAME).values()}
    assert finishes == {"length"}
