"""The real entry point, `python -m qasr`, in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

import qasr


def qasr_command(*args: str, cwd: object = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qasr", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip


def test_help() -> None:
    run = qasr_command("--help")
    assert run.returncode == 0 and "qasr [transcribe] FILES..." in run.stdout


def test_version() -> None:
    run = qasr_command("--version")
    assert (run.returncode, run.stdout) == (0, f"qasr {qasr.__version__}\n")


def test_list_languages() -> None:
    run = qasr_command("--list-languages")
    assert run.returncode == 0
    assert "Languages (30)" in run.stdout and "Chinese dialects (22)" in run.stdout
    assert "  yue    Cantonese" in run.stdout
    assert "(Cantonese) (Cantonese)" not in run.stdout and "(Hong Kong) (" not in run.stdout


def test_doctor_reports_each_piece_and_fails_only_for_required_ones() -> None:
    run = qasr_command("--doctor")
    lines = run.stdout.splitlines()
    pieces = ("Python", "qasr", "MLX", "BLAS", "ffmpeg", "pyannote.audio", "HF_HUB_OFFLINE",
              "Hugging Face hub")  # fmt: skip
    for piece in pieces:
        assert any(line.split("] ", 1)[-1].startswith(piece) for line in lines), piece
    grades = {line[1 : line.index("]")].strip() for line in lines}
    assert grades <= {"ok", "warn", "missing", "FAIL"}
    required_failed = "FAIL" in grades
    assert run.returncode == (1 if required_failed else 0)
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("argv", [["missing.wav"], ["transcribe", "missing.wav"]])
def test_a_missing_file_exits_2_without_a_traceback(tmp_path, argv: list[str]) -> None:
    run = qasr_command(*argv, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == "qasr: error: no such file: 'missing.wav'\n"
    assert run.stdout == ""
