"""`qasr --doctor`: one graded line per check, a fix named for what is missing or slow, status 1
only for a broken required piece."""

from __future__ import annotations

import functools
import io
import subprocess
import sys
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from qasr import errors
from qasr.app.entry import doctor
from qasr.app.entry.doctor import Check, Grade, run_doctor


@pytest.fixture(autouse=True)
def fresh_hub_probe() -> Any:
    doctor.hub_problem.cache_clear()
    yield
    doctor.hub_problem.cache_clear()


def hub_answers(monkeypatch: pytest.MonkeyPatch, answer: Exception | None) -> list[float]:
    """Make the hub probe answer (None), fail with `answer`, and record each timeout asked for."""
    timeouts: list[float] = []

    class Response:
        def __enter__(self) -> Response:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def urlopen(request: Any, timeout: float) -> Response:
        timeouts.append(timeout)
        if answer is not None:
            raise answer
        return Response()

    monkeypatch.setattr(doctor.urllib.request, "urlopen", urlopen)
    return timeouts


def test_only_a_failed_required_piece_fails_the_doctor() -> None:
    out = io.StringIO()
    checks = [
        lambda: Check("MLX", Grade.OK, "fine"),
        lambda: Check("fastapi", Grade.MISSING, "not installed"),
        lambda: Check("BLAS", Grade.WARN, "slow"),
    ]
    assert run_doctor(out, checks) == 0
    assert out.getvalue().splitlines() == [
        "[     ok] MLX: fine",
        "[missing] fastapi: not installed",
        "[   warn] BLAS: slow",
    ]
    checks.append(lambda: Check("ffmpeg", Grade.FAIL, "not on PATH"))
    assert run_doctor(io.StringIO(), checks) == 1


def test_missing_ffmpeg_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    check = doctor.check_ffmpeg()
    assert check.grade is Grade.FAIL and "install ffmpeg" in check.detail


def test_an_ffmpeg_that_fails_to_run_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.shutil, "which", lambda name: "/opt/ffmpeg")

    def refuse(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("ffmpeg", 20)

    monkeypatch.setattr(doctor.subprocess, "run", refuse)
    check = doctor.check_ffmpeg()
    assert check.grade is Grade.FAIL and "/opt/ffmpeg" in check.detail


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the cpu extra is Linux's")
def test_an_mlx_that_cannot_load_names_the_install_command_of_this_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_mlx() -> str:
        raise ImportError("libmlx.so: cannot open shared object file")

    monkeypatch.setattr(doctor.bootstrap, "mlx_backend_summary", no_mlx)
    monkeypatch.chdir(Path(errors.__file__).resolve().parents[2])
    check = doctor.check_mlx()
    assert check.grade is Grade.FAIL and "libmlx.so" in check.detail
    assert check.detail.endswith('-> pip install -e ".[cpu]"'), "a checkout installs itself"
    monkeypatch.setattr(errors, "__file__", "/venv/lib/python3.11/site-packages/qasr/errors.py")
    assert doctor.check_mlx().detail.endswith("-> pip install 'qasr[cpu]'")


@pytest.mark.parametrize(("module", "extra", "purpose"), doctor.OPTIONAL_PACKAGES)
def test_each_optional_package_names_its_extra_when_missing(
    module: str, extra: str, purpose: str
) -> None:
    check = doctor.check_optional(module, extra, purpose)
    assert check.grade in (Grade.OK, Grade.MISSING)
    if check.grade is Grade.MISSING:
        assert f"[{extra}]" in check.detail and "pip install" in check.detail


def test_a_package_that_is_not_there_is_missing_not_failed() -> None:
    check = doctor.check_optional("qasr_no_such_package.sub", "serve", "nothing")
    assert check.grade is Grade.MISSING and "[serve]" in check.detail


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="BLAS preloading is Linux's")
def test_the_reference_blas_is_a_warning_with_its_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from qasr.adapters.mlx import backend

    monkeypatch.setattr(backend, "BLAS_PATH", None)
    monkeypatch.delenv("QASR_BLAS", raising=False)
    monkeypatch.setattr(
        doctor.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None
    )
    check = doctor.check_blas()
    assert check.grade is Grade.WARN and "slower" in check.detail
    assert check.detail.endswith("-> sudo apt-get install libopenblas0-pthread")
    monkeypatch.setenv("QASR_BLAS", "none")
    assert doctor.check_blas().detail.endswith("-> unset QASR_BLAS (it is 'none')")
    monkeypatch.setattr(backend, "BLAS_PATH", "/usr/lib/libopenblas.so.0")
    assert doctor.check_blas().grade is Grade.OK


def test_an_absent_cache_is_missing_and_a_present_one_counts_its_models(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hub"))
    check = doctor.check_hf_cache()
    assert check.grade is Grade.MISSING and "does not exist" in check.detail
    (tmp_path / "hub" / "models--Qwen--Qwen3-ASR-0.6B").mkdir(parents=True)
    check = doctor.check_hf_cache()
    assert check.grade is Grade.OK and "1 model(s)" in check.detail


def test_hub_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert doctor.check_offline().detail.startswith("set")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert doctor.check_offline().detail == "not set"


def test_offline_means_the_hub_is_not_contacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    timeouts = hub_answers(monkeypatch, None)
    assert "not contacted" in doctor.check_hub().detail and timeouts == []


@pytest.mark.parametrize(
    ("answer", "grade"),
    [
        (None, Grade.OK),
        (urllib.error.HTTPError("https://huggingface.co", 503, "busy", {}, None), Grade.OK),  # type: ignore[arg-type]
        (urllib.error.URLError("Name or service not known"), Grade.WARN),
        (TimeoutError("timed out"), Grade.WARN),
    ],
)
def test_the_hub_is_probed_once_and_quickly(
    monkeypatch: pytest.MonkeyPatch, answer: Exception | None, grade: Grade
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    timeouts = hub_answers(monkeypatch, answer)
    check = doctor.check_hub()
    doctor.check_hub()
    assert check.grade is grade and timeouts == [doctor.HUB_TIMEOUT_SECONDS] and timeouts[0] <= 5
    if grade is Grade.WARN:
        assert "cannot be reached" in check.detail


@pytest.mark.parametrize(
    ("offline", "answer", "said"),
    [
        (False, None, "downloaded on first use"),
        (False, urllib.error.URLError("no route"), "the hub cannot be reached -> `"),
        (True, None, "HF_HUB_OFFLINE is set -> `"),
    ],
)
def test_a_model_absent_from_the_cache_says_how_it_will_come(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, offline: bool, answer: Any, said: str
) -> None:
    import huggingface_hub

    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    hub_answers(monkeypatch, answer)
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo, name, **kw: None)
    check = doctor.check_default_model("Qwen/Qwen3-ASR-0.6B")
    assert check.grade is Grade.MISSING and said in check.detail
    if "->" in said:
        assert "download Qwen/Qwen3-ASR-0.6B` where the hub is reachable" in check.detail
    monkeypatch.setattr(
        huggingface_hub,
        "try_to_load_from_cache",
        lambda repo, name, **kw: str(tmp_path / "snap" / "config.json"),
    )
    check = doctor.check_default_model("Qwen/Qwen3-ASR-0.6B")
    assert check.grade is Grade.OK and str(tmp_path / "snap") in check.detail


def test_the_doctor_checks_the_aligner_model_too() -> None:
    models = [
        check.args
        for check in doctor.CHECKS
        if isinstance(check, functools.partial) and check.func is doctor.check_default_model
    ]
    assert models == [(doctor.bootstrap.DEFAULT_ALIGNER, "word timestamps")]
