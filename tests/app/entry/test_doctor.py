"""`qasr --doctor`: one line per check, a fix named for what is missing, status 1 if required."""

from __future__ import annotations

import io
import subprocess

import pytest

from qasr.app.entry import doctor
from qasr.app.entry.doctor import Check, run_doctor


def test_a_broken_required_piece_fails_and_an_optional_one_does_not() -> None:
    out = io.StringIO()
    checks = [
        lambda: Check("MLX", True, "fine", required=True),
        lambda: Check("fastapi", False, "missing", required=False),
    ]
    assert run_doctor(out, checks) == 0
    assert out.getvalue().splitlines() == ["[  ok] MLX: fine", "[  --] fastapi: missing"]
    checks.append(lambda: Check("ffmpeg", False, "not on PATH", required=True))
    assert run_doctor(io.StringIO(), checks) == 1


def test_missing_ffmpeg_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    check = doctor.check_ffmpeg()
    assert not check.ok and check.required
    assert "install ffmpeg" in check.detail


def test_an_ffmpeg_that_fails_to_run_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.shutil, "which", lambda name: "/opt/ffmpeg")

    def refuse(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("ffmpeg", 20)

    monkeypatch.setattr(doctor.subprocess, "run", refuse)
    check = doctor.check_ffmpeg()
    assert not check.ok and "/opt/ffmpeg" in check.detail


def test_an_mlx_that_cannot_load_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_mlx() -> str:
        raise ImportError("libmlx.so: cannot open shared object file")

    monkeypatch.setattr(doctor.bootstrap, "mlx_backend_summary", no_mlx)
    check = doctor.check_mlx()
    assert not check.ok and check.required
    assert "libmlx.so" in check.detail and "pip install" in check.detail


@pytest.mark.parametrize(("module", "extra", "purpose"), doctor.OPTIONAL_PACKAGES)
def test_each_optional_package_names_its_extra_when_missing(
    module: str, extra: str, purpose: str
) -> None:
    check = doctor.check_optional(module, extra, purpose)
    assert not check.required
    if not check.ok:
        assert f"pip install 'qasr[{extra}]'" in check.detail


def test_a_package_that_is_not_there_is_missing() -> None:
    check = doctor.check_optional("qasr_no_such_package.sub", "serve", "nothing")
    assert not check.ok and "pip install 'qasr[serve]'" in check.detail


def test_hub_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "set" in doctor.check_offline().detail
    assert "not set" not in doctor.check_offline().detail
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert doctor.check_offline().detail == "not set"


def test_a_model_absent_from_the_cache_is_reported_without_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    pytest.importorskip("huggingface_hub")
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo, name, **kw: None)
    check = doctor.check_default_model("Qwen/Qwen3-ASR-0.6B")
    assert not check.ok and not check.required and "not in the local cache" in check.detail
    monkeypatch.setattr(
        huggingface_hub,
        "try_to_load_from_cache",
        lambda repo, name, **kw: str(tmp_path / "snap" / "config.json"),
    )
    check = doctor.check_default_model("Qwen/Qwen3-ASR-0.6B")
    assert check.ok and str(tmp_path / "snap") in check.detail
