"""`qasr --doctor`: one graded line per thing qasr needs, so a broken or slow install names its fix.

Grades: `ok`; `warn` (works, but slowly or not everywhere: a reference BLAS, an unreachable hub);
`missing` (an optional piece, or a model not downloaded yet); `FAIL` (a required piece is broken:
the doctor exits 1). The only network access is one HEAD request to the hub, with a short
timeout, and none at all when HF_HUB_OFFLINE is set.
"""

from __future__ import annotations

import enum
import functools
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import attrs

import qasr
from qasr.app import bootstrap
from qasr.errors import pip_install_hint

HUB_TIMEOUT_SECONDS = 3.0
_OFFLINE_VALUES = {"1", "true", "yes", "on"}


class Grade(enum.Enum):
    OK = "ok"
    WARN = "warn"
    MISSING = "missing"
    FAIL = "FAIL"


@attrs.frozen
class Check:
    """One line of the report."""

    name: str
    grade: Grade
    detail: str

    def line(self) -> str:
        return f"[{self.grade.value:>7}] {self.name}: {self.detail}"


# (import name, pip extra, what it gives)
OPTIONAL_PACKAGES = (
    ("silero_vad", "speakers", "the built-in diarizer's speech detector weights"),
    ("resemblyzer", "speakers", "the built-in diarizer's voice-print weights"),
    ("pyannote.audio", "diarize", "speaker diarization with pyannote (--diarizer pyannote)"),
    ("nagisa", "aligner-cjk", "Japanese word timestamps"),
    ("soynlp", "aligner-cjk", "Korean word timestamps"),
    ("fastapi", "serve", "the HTTP server (qasr serve)"),
    ("uvicorn", "serve", "the HTTP server (qasr serve)"),
    ("multipart", "serve", "uploads to qasr serve (python-multipart)"),
    ("sounddevice", "mic", "microphone input"),
)


def check_python() -> Check:
    detail = f"{platform.python_version()} ({sys.executable})"
    supported = sys.version_info >= (3, 10)  # an older Python may still run `qasr --doctor`
    if supported:
        return Check("Python", Grade.OK, detail)
    return Check("Python", Grade.FAIL, f"{detail}; qasr needs 3.10 or newer")


def check_qasr() -> Check:
    return Check("qasr", Grade.OK, f"{qasr.__version__} ({os.path.dirname(qasr.__file__)})")


def check_mlx() -> Check:
    try:
        summary = bootstrap.mlx_backend_summary()
    except Exception as error:  # any failure to load MLX is this check's finding
        fix = pip_install_hint("cpu") if sys.platform.startswith("linux") else "pip install mlx"
        return Check("MLX", Grade.FAIL, f"cannot load ({error}) -> {fix}")
    return Check("MLX", Grade.OK, summary)


def check_blas() -> Check:
    """Linux CPUs need OpenBLAS preloaded: MLX's reference BLAS is ~20x slower (ADR 0006)."""
    if not sys.platform.startswith("linux"):
        return Check("BLAS", Grade.OK, "the platform's own (Accelerate on macOS)")
    try:
        library, on_cpu = bootstrap.cpu_blas()
    except Exception:  # check_mlx reports why
        return Check("BLAS", Grade.WARN, "not checked: MLX does not load")
    if library:
        return Check("BLAS", Grade.OK, f"{library} (preloaded for MLX's CPU matmuls)")
    if not on_cpu:
        return Check("BLAS", Grade.OK, "reference BLAS, unused: models run on the GPU")
    return Check(
        "BLAS",
        Grade.WARN,
        f"MLX's reference BLAS: float32 matmul on the CPU is ~20x slower -> {_blas_fix()}",
    )


def _blas_fix() -> str:
    choice = os.environ.get("QASR_BLAS", "")
    if choice.lower() == "none":
        return "unset QASR_BLAS (it is 'none')"
    if choice:
        return f"QASR_BLAS names {choice!r}, which does not exist; point it at libopenblas.so.0"
    if shutil.which("apt-get"):
        return "sudo apt-get install libopenblas0-pthread"
    if shutil.which("dnf"):
        return "sudo dnf install openblas"
    return "install OpenBLAS and set QASR_BLAS=/path/to/libopenblas.so.0"


def check_ffmpeg() -> Check:
    path = shutil.which("ffmpeg")
    if path is None:
        fix = "brew install ffmpeg" if sys.platform == "darwin" else "sudo apt-get install ffmpeg"
        return Check("ffmpeg", Grade.FAIL, f"not on PATH -> {fix}")
    try:
        run = subprocess.run(
            [path, "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return Check("ffmpeg", Grade.FAIL, f"{path} does not run ({error})")
    first = run.stdout.splitlines()[0] if run.stdout else f"exit status {run.returncode}"
    return Check("ffmpeg", Grade.OK if run.returncode == 0 else Grade.FAIL, f"{first} ({path})")


def check_optional(module: str, extra: str, purpose: str) -> Check:
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package raises instead of returning None
        found = False
    if found:
        return Check(module, Grade.OK, f"installed ({purpose})")
    return Check(module, Grade.MISSING, f"{pip_install_hint(extra)} for {purpose}")


def check_hf_cache() -> Check:
    try:
        from huggingface_hub import constants
    except ImportError:
        return Check(
            "Hugging Face cache",
            Grade.FAIL,
            f"huggingface_hub missing -> {pip_install_hint('cpu')}",
        )
    origin = "HF_HOME" if os.environ.get("HF_HOME") else "default"
    cache = Path(constants.HF_HUB_CACHE)
    if not cache.is_dir():
        detail = f"{cache} ({origin}) does not exist: nothing has been downloaded yet"
        return Check("Hugging Face cache", Grade.MISSING, detail)
    models = sum(1 for entry in cache.glob("models--*") if entry.is_dir())
    return Check("Hugging Face cache", Grade.OK, f"{cache} ({origin}), {models} model(s)")


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _OFFLINE_VALUES


def check_offline() -> Check:
    detail = "set: models load from the local cache only" if hub_offline() else "not set"
    return Check("HF_HUB_OFFLINE", Grade.OK, detail)


@functools.cache
def hub_problem() -> str | None:
    """Why the hub cannot be reached now, or None when it answers (any HTTP status does)."""
    from huggingface_hub import constants

    request = urllib.request.Request(constants.ENDPOINT, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=HUB_TIMEOUT_SECONDS):
            return None
    except urllib.error.HTTPError:
        return None
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"{type(error).__name__}: {reason}"


def check_hub() -> Check:
    from huggingface_hub import constants

    if hub_offline():
        return Check("Hugging Face hub", Grade.OK, "not contacted (HF_HUB_OFFLINE is set)")
    problem = hub_problem()
    if problem is None:
        return Check("Hugging Face hub", Grade.OK, f"{constants.ENDPOINT} answers")
    return Check(
        "Hugging Face hub",
        Grade.WARN,
        f"{constants.ENDPOINT} cannot be reached within {HUB_TIMEOUT_SECONDS:g} s ({problem}): "
        "models that are not in the cache cannot be downloaded",
    )


def check_default_model(model: str = bootstrap.DEFAULT_MODEL, purpose: str = "") -> Check:
    name = f"model {model}{f' ({purpose})' if purpose else ''}"
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, "config.json")
    except Exception as error:  # a malformed cache must not crash the report
        return Check(name, Grade.WARN, f"cannot read the cache ({error})")
    if isinstance(found, str):
        return Check(name, Grade.OK, f"cached ({os.path.dirname(found)})")
    fetch = (
        f"`{bootstrap.hub_command()} download {model}` where the hub is reachable, then copy "
        "the cache"
    )
    if hub_offline():
        return Check(
            name, Grade.MISSING, f"not in the local cache and HF_HUB_OFFLINE is set -> {fetch}"
        )
    if hub_problem() is not None:
        return Check(
            name, Grade.MISSING, f"not in the local cache and the hub cannot be reached -> {fetch}"
        )
    return Check(name, Grade.MISSING, "not in the local cache; downloaded on first use")


CHECKS: tuple[Callable[[], Check], ...] = (
    check_python,
    check_qasr,
    check_mlx,
    check_blas,
    check_ffmpeg,
    *(functools.partial(check_optional, *package) for package in OPTIONAL_PACKAGES),
    check_hf_cache,
    check_offline,
    check_hub,
    check_default_model,
    functools.partial(check_default_model, bootstrap.DEFAULT_ALIGNER, "word timestamps"),
)


def run_doctor(out: TextIO, checks: Sequence[Callable[[], Check]] | None = None) -> int:
    """Print one line per check; return 1 when a required piece is broken (FAIL), else 0."""
    broken = False
    for check in CHECKS if checks is None else checks:
        result = check()
        print(result.line(), file=out, flush=True)
        broken |= result.grade is Grade.FAIL
    return 1 if broken else 0
