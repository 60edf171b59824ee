"""Every error a user can cause. The CLI prints `str(error)` on one line and exits 2."""

from __future__ import annotations

from pathlib import Path


def pip_install_hint(extra: str) -> str:
    """The command that installs qasr's `extra`: into the source checkout qasr runs from
    (`pip install -e ".[cpu]"`), else from the package index (`pip install 'qasr[cpu]'`)."""
    root = Path(__file__).resolve().parents[2]
    if not ((root / "pyproject.toml").is_file() and (root / "src" / "qasr").is_dir()):
        return f"pip install 'qasr[{extra}]'"
    try:
        here = Path.cwd().resolve() == root
    except OSError:  # the working folder was deleted
        here = False
    return f'pip install -e ".[{extra}]"' if here else f'pip install -e "{root}[{extra}]"'


class QasrError(Exception):
    """Base of all errors that come from the user's input or environment, not from a bug."""


class AudioError(QasrError):
    """The audio could not be read: missing file, corrupt data, unsupported format."""


class FfmpegNotFoundError(AudioError):
    """ffmpeg is needed to decode this file but is not on PATH."""


class UnknownLanguageError(QasrError, ValueError):
    """A language name or code that Qwen3-ASR does not support."""


class ModelNotFoundError(QasrError):
    """A model id or folder that cannot be found locally or on the hub."""


class CheckpointError(QasrError):
    """A checkpoint folder with missing files, wrong shapes or an unknown layout."""


class MissingExtraError(QasrError, ImportError):
    """An optional dependency is needed; the message names the `pip install` extra."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        message = f"{purpose} needs the '{package}' package: {pip_install_hint(extra)}"
        super().__init__(message)
        self.package = package
        self.extra = extra


class OutputFormatError(QasrError, ValueError):
    """An unknown output format, or one the transcript cannot fill (subtitles without times)."""


class OutputWriteError(QasrError):
    """Some output files could not be written; the others were. Carries both lists."""

    def __init__(self, failures: list[tuple[object, str]], written: list[object]) -> None:
        listed = "; ".join(f"{path}: {reason}" for path, reason in failures)
        super().__init__(f"cannot write {listed}")
        self.failures = failures  # (path, reason) per file that was not written
        self.written = written


class InvalidInputError(QasrError, ValueError):
    """An argument outside its allowed range (negative token budget, empty batch...)."""


class TranscriptFormatError(QasrError, ValueError):
    """A transcript JSON file that is not valid for this version's schema."""


class SubtitleParseError(QasrError, ValueError):
    """An SRT or VTT file that cannot be parsed."""


class FeatureUnavailableError(QasrError):
    """Timestamps or speakers were asked for, but no component that provides them is set up."""


class ManifestError(InvalidInputError):
    """A training or validation manifest that cannot be used; the message names file and line."""
