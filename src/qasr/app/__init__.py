"""Use cases and the composition root. Importing this loads no adapter."""

from qasr.app.bootstrap import DEFAULT_MODEL, build_service
from qasr.app.use_cases.service import FileResult, TranscriptionService
from qasr.errors import FeatureUnavailableError

__all__ = [
    "DEFAULT_MODEL",
    "FeatureUnavailableError",
    "FileResult",
    "TranscriptionService",
    "build_service",
]
