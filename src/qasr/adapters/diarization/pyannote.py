"""pyannote.audio pipelines behind the `Diarizer` port (extra `diarize`).

A pipeline is named by its Hugging Face id (default: pyannote's current open pipeline,
`pyannote/speaker-diarization-community-1`, for pyannote.audio 4) or by a local folder holding its
`config.yaml`. The hub's pyannote pipelines are gated: the token comes from `PYANNOTE_AUTH_TOKEN`,
else `HF_TOKEN`. Offline, without a token, or without the terms accepted, loading fails with one
`DiarizerUnavailableError` that says what to do (and that `--diarizer builtin` needs none of it).

pyannote.audio 3 returns an `Annotation`; 4 returns an object whose `speaker_diarization` is one.
Either way its tracks become `SpeakerSpan`s ordered by start, relabelled `SPEAKER_00`, ... by first
turn so that labels do not depend on pyannote's internal cluster numbering.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from qasr.domain import AudioClip, SpeakerSpan
from qasr.errors import MissingExtraError, QasrError

DEFAULT_PIPELINE = "pyannote/speaker-diarization-community-1"
TOKEN_VARIABLES = ("PYANNOTE_AUTH_TOKEN", "HF_TOKEN")


class DiarizerUnavailableError(QasrError):
    """A diarization pipeline that cannot be loaded here (offline, no token, not accepted)."""


def hub_token() -> str | None:
    for name in TOKEN_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _load_pipeline(name: str, token: str | None, device: str | None) -> Any:
    try:
        import torch
        from pyannote.audio import Pipeline
    except ImportError as error:
        raise MissingExtraError("pyannote.audio", "diarize", "--diarizer pyannote") from error
    local = Path(name).expanduser()
    source = str(local / "config.yaml") if local.is_dir() else name
    if local.is_dir() and not (local / "config.yaml").is_file():
        raise DiarizerUnavailableError(f"{local} has no config.yaml: not a pyannote pipeline")
    try:
        try:
            pipeline = Pipeline.from_pretrained(source, token=token)  # pyannote.audio >= 4
        except TypeError:
            pipeline = Pipeline.from_pretrained(source, use_auth_token=token)  # 3.x
    except Exception as error:  # network, gating and file errors all end the same way for a user
        pipeline, reason = None, f"{type(error).__name__}: {error}"
    else:
        reason = "the hub gave nothing (gated, or no token)"
    if pipeline is None:
        hint = (
            "accept its terms on huggingface.co and set PYANNOTE_AUTH_TOKEN or HF_TOKEN"
            if token is None
            else "check the token's access to it and the network"
        )
        raise DiarizerUnavailableError(
            f"cannot load the pyannote pipeline {name!r} ({reason}); {hint}, pass a local "
            "pipeline folder, or use the built-in diarizer (--diarizer builtin), which needs "
            "no token and works offline"
        )
    chosen = device or ("cuda" if torch.cuda.is_available() else "cpu")
    pipeline.to(torch.device(chosen))
    return pipeline


def _annotation(output: Any) -> Any:
    return getattr(output, "speaker_diarization", output)


def spans_from_annotation(annotation: Any, duration: float) -> tuple[SpeakerSpan, ...]:
    """pyannote's tracks as SpeakerSpans within [0, duration], labelled by first turn."""
    tracks = sorted(
        (float(segment.start), float(segment.end), str(label))
        for segment, _track, label in annotation.itertracks(yield_label=True)
    )
    names: dict[str, str] = {}
    spans = []
    for start, end, label in tracks:
        start, end = min(max(start, 0.0), duration), min(max(end, 0.0), duration)
        if end <= start:
            continue
        name = names.setdefault(label, f"SPEAKER_{len(names):02d}")
        spans.append(SpeakerSpan(speaker=name, start=start, end=end))
    return tuple(spans)


class PyannoteDiarizer:
    """A `qasr.ports.Diarizer` running a pyannote.audio pipeline, loaded on first use."""

    def __init__(
        self,
        pipeline: str = DEFAULT_PIPELINE,
        *,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        device: str | None = None,
        token: str | None = None,
        loader: Callable[[str, str | None, str | None], Any] = _load_pipeline,
    ) -> None:
        from qasr.adapters.diarization.speaker_count import check_speaker_bounds

        check_speaker_bounds(num_speakers, min_speakers, max_speakers)
        self.name = pipeline
        self.bounds = {
            key: value
            for key, value in (
                ("num_speakers", num_speakers),
                ("min_speakers", min_speakers),
                ("max_speakers", max_speakers),
            )
            if value is not None
        }
        self.device = device
        self.token = token if token is not None else hub_token()
        self._loader = loader
        self._pipeline: Any = None
        self._lock = threading.Lock()

    def pipeline(self) -> Any:
        with self._lock:
            if self._pipeline is None:
                self._pipeline = self._loader(self.name, self.token, self.device)
            return self._pipeline

    def diarize(self, clip: AudioClip) -> tuple[SpeakerSpan, ...]:
        import torch

        pipeline = self.pipeline()
        waveform = torch.from_numpy(np.ascontiguousarray(clip.samples, dtype=np.float32))[None]
        output = pipeline({"waveform": waveform, "sample_rate": clip.sample_rate}, **self.bounds)
        return spans_from_annotation(_annotation(output), clip.duration)


__all__ = [
    "DEFAULT_PIPELINE",
    "DiarizerUnavailableError",
    "PyannoteDiarizer",
    "hub_token",
    "spans_from_annotation",
]
