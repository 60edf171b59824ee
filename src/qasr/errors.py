"""Every error a user can cause. The CLI prints `str(error)` on one line and exits 2."""

from __future__ import annotations


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
        message = f"{purpose} needs the '{package}' package: pip install 'qasr[{extra}]'"
        super().__init__(message)
        self.package = package
        self.extra = extra


class OutputFormatError(QasrError, ValueError):
    """An unknown output format, or one the transcript cannot fill (subtitles without times)."""


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
