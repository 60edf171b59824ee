"""`qasr --doctor`: one line per thing qasr needs, so a broken install names its own fix.

Nothing here touches the network: the model check reads the local Hugging Face cache only.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import TextIO

import attrs

import qasr
from qasr.app import bootstrap


@attrs.frozen
class Check:
    """One line of the report. `required` checks that fail make the doctor exit non-zero."""

    name: str
    ok: bool
    detail: str
    required: bool = False

    def line(self) -> str:
        mark = "ok" if self.ok else ("FAIL" if self.required else "--")
        return f"[{mark:>4}] {self.name}: {self.detail}"


# (import name, pip extra, what it gives)
OPTIONAL_PACKAGES = (
    ("pyannote.audio", "diarize", "speaker diarization"),
    ("nagisa", "aligner-cjk", "Japanese word timestamps"),
    ("soynlp", "aligner-cjk", "Korean word timestamps"),
    ("fastapi", "serve", "the HTTP server"),
    ("sounddevice", "mic", "microphone input"),
)


def check_python() -> Check:
    ok = sys.version_info >= (3, 10)
    detail = f"{platform.python_version()} ({sys.executable})"
    return Check("Python", ok, detail if ok else f"{detail}; qasr needs 3.10 or newer", True)


def check_qasr() -> Check:
    return Check("qasr", True, f"{qasr.__version__} ({os.path.dirname(qasr.__file__)})")


def check_mlx() -> Check:
    try:
        summary = bootstrap.mlx_backend_summary()
    except Exception as error:  # any failure to load MLX is this check's finding
        extra = "cpu" if sys.platform.startswith("linux") else ""
        fix = f"pip install 'qasr[{extra}]'" if extra else "pip install mlx"
        return Check("MLX", False, f"cannot load ({error}) -> {fix}", True)
    return Check("MLX", True, summary, True)


def check_ffmpeg() -> Check:
    path = shutil.which("ffmpeg")
    if path is None:
        fix = "brew install ffmpeg" if sys.platform == "darwin" else "apt install ffmpeg"
        return Check("ffmpeg", False, f"not on PATH -> {fix}", True)
    try:
        run = subprocess.run(
            [path, "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return Check("ffmpeg", False, f"{path} does not run ({error})", True)
    first = run.stdout.splitlines()[0] if run.stdout else f"exit status {run.returncode}"
    return Check("ffmpeg", run.returncode == 0, f"{first} ({path})", True)


def check_optional(module: str, extra: str, purpose: str) -> Check:
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package raises instead of returning None
        found = False
    if found:
        return Check(module, True, f"installed ({purpose})")
    return Check(module, False, f"missing -> pip install 'qasr[{extra}]' for {purpose}")


def check_hf_cache() -> Check:
    try:
        from huggingface_hub import constants
    except ImportError:
        return Check(
            "Hugging Face cache", False, "huggingface_hub missing -> pip install qasr", True
        )
    home = os.environ.get("HF_HOME", "")
    origin = "HF_HOME" if home else "default"
    return Check("Hugging Face cache", True, f"{constants.HF_HUB_CACHE} ({origin})")


def check_offline() -> Check:
    value = os.environ.get("HF_HUB_OFFLINE", "")
    offline = value.strip().lower() in {"1", "true", "yes", "on"}
    detail = "set: models load from the local cache only" if offline else "not set"
    return Check("HF_HUB_OFFLINE", True, detail)


def check_default_model(model: str = bootstrap.DEFAULT_MODEL) -> Check:
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, "config.json")
    except Exception as error:  # a malformed cache must not crash the report
        return Check(f"model {model}", False, f"cannot read the cache ({error})")
    if isinstance(found, str):
        return Check(f"model {model}", True, f"cached ({os.path.dirname(found)})")
    return Check(
        f"model {model}",
        False,
        "not in the local cache; downloaded on first use (or `huggingface-cli download "
        f"{model}` where the hub is reachable)",
    )


CHECKS: tuple[Callable[[], Check], ...] = (
    check_python,
    check_qasr,
    check_mlx,
    check_ffmpeg,
    *(partial(check_optional, *package) for package in OPTIONAL_PACKAGES),
    check_hf_cache,
    check_offline,
    check_default_model,
)


def run_doctor(out: TextIO, checks: Sequence[Callable[[], Check]] | None = None) -> int:
    """Print one line per check; return 1 when a required piece is broken, else 0."""
    broken = False
    for check in CHECKS if checks is None else checks:
        result = check()
        print(result.line(), file=out, flush=True)
        broken |= result.required and not result.ok
    return 1 if broken else 0
