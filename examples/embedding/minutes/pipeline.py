"""qasr's service with our recognizer plugged in, and minutes written for each recording."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qasr.app.bootstrap import DEFAULT_MODEL, build_recognizer, build_service
from qasr.app.use_cases.service import TranscriptionService
from qasr.errors import QasrError
from qasr.ports import AudioInput, Recognizer, Writer

from minutes.caching import CachingRecognizer
from minutes.writer import MinutesWriter


def build_minutes_service(
    model: str = DEFAULT_MODEL, *, recognizer: Recognizer | None = None, **components: Any
) -> TranscriptionService:
    """qasr's service, recognising through a `CachingRecognizer` around qasr's model `model`
    (or around `recognizer`). `components` go to `qasr.app.bootstrap.build_service` as they are
    (`audio_source=`, `aligner=`, `diarizer=`, `timestamps=`, ...): what is not given there,
    qasr builds with its default adapter."""
    inner = recognizer if recognizer is not None else build_recognizer(model)
    return build_service(model, recognizer=CachingRecognizer(inner), **components)


def write_minutes(
    service: TranscriptionService,
    sources: Iterable[AudioInput],
    folder: Path,
    writer: Writer | None = None,
) -> dict[str, Path | QasrError]:
    """Minutes of each recording in `folder` (`<stem>.md`), speakers told apart when the service
    has a diarizer; a recording qasr cannot read is reported by its error, the others go on."""
    writer = writer or MinutesWriter()
    folder.mkdir(parents=True, exist_ok=True)
    done: dict[str, Path | QasrError] = {}
    diarize = service.diarizer is not None
    for result in service.transcribe_many(sources, diarize=diarize):
        if result.transcript is None:
            assert result.error is not None
            done[result.name] = result.error
            continue
        path = folder / (Path(result.name).stem + writer.extension)
        with path.open("w", encoding="utf-8") as out:
            writer.write(result.transcript, out)
        done[result.name] = path
    return done
