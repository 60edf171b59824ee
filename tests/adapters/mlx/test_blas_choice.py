"""Which BLAS the MLX backend preloads on Linux: MKL from its wheel when installed, with an
OpenMP layer that does not bring a second runtime; a layer the user chose is kept."""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from qasr.adapters.mlx import backend

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="BLAS preloading is Linux's"
)


def test_the_mkl_wheel_is_found_where_it_is_installed() -> None:
    try:
        distribution("mkl")
    except PackageNotFoundError:
        assert backend._installed_mkl() is None
        return
    found = backend._installed_mkl()
    assert found is not None and Path(found).is_file()
    assert Path(found).name.startswith("libmkl_rt.so")


def test_with_the_mkl_wheel_mkl_is_the_blas_mlx_got() -> None:
    mkl = backend._installed_mkl()
    if mkl is None or "QASR_BLAS" in os.environ:
        pytest.skip("the mkl wheel is not installed, or QASR_BLAS chose another library")
    assert mkl == backend.BLAS_PATH


def test_a_threading_layer_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MKL_THREADING_LAYER", "INTEL")
    backend._mkl_threading()
    assert os.environ["MKL_THREADING_LAYER"] == "INTEL"


def test_without_libgomp_mkl_runs_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MKL_THREADING_LAYER", raising=False)

    def no_library(name: str) -> None:
        raise OSError(name)

    monkeypatch.setattr(backend.ctypes, "CDLL", no_library)
    backend._mkl_threading()
    assert os.environ["MKL_THREADING_LAYER"] == "SEQUENTIAL"


def test_with_libgomp_mkl_uses_gnu_openmp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MKL_THREADING_LAYER", raising=False)
    monkeypatch.setattr(backend.ctypes, "CDLL", lambda name: object())
    backend._mkl_threading()
    assert os.environ["MKL_THREADING_LAYER"] == "GNU"


def test_qasr_blas_names_a_library_or_a_preference() -> None:
    mkl = backend._installed_mkl()
    openblas = backend._CANDIDATES
    assert backend.blas_candidates("") == (mkl, *openblas)
    assert backend.blas_candidates("MKL") == (mkl, *openblas)
    assert backend.blas_candidates("openblas") == (*openblas, mkl)  # MKL if OpenBLAS is absent
    assert backend.blas_candidates("none") == ()
    assert backend.blas_candidates("/opt/libblis.so") == ("/opt/libblis.so",)


def test_training_prefers_openblas_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    import qasr.training.settings
    import qasr.training.trainer
    from qasr.app import bootstrap

    seen: list[str] = []

    def train(config: object, on_progress: object) -> None:
        seen.append(os.environ["QASR_BLAS"])

    monkeypatch.setattr(qasr.training.settings, "TrainingConfig", lambda **settings: settings)
    monkeypatch.setattr(qasr.training.trainer, "train", train)
    monkeypatch.delenv("QASR_BLAS", raising=False)
    bootstrap.train_model(steps=1)
    monkeypatch.setenv("QASR_BLAS", "mkl")
    bootstrap.train_model(steps=1)
    assert seen == ["openblas", "mkl"]
