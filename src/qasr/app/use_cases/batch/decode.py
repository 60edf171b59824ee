"""The worker side of a bulk job: load files one by one, decode the good ones together.

Each file is loaded on its own, so an unreadable, corrupt or empty file becomes a failed
outcome and the others go on; the loaded clips are then decoded in groups of about
`fill_chunks` chunks through `TranscriptionService.transcribe_batch`, which batches chunks
across file boundaries. A group whose decoding fails is decoded again file by file, so one bad
file costs only its own result. The same code runs in this process and in each Ray actor.
"""

from __future__ import annotations

import functools
import math
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

import attrs

from qasr.app.use_cases.batch.plan import BatchItem
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import AudioClip, Transcript
from qasr.errors import QasrError

ServiceFactory = Callable[[], TranscriptionService]


@attrs.frozen
class FileOutcome:
    """What happened to one file: its transcript, or the error that stopped it (as text, so an
    outcome crosses process boundaries whatever the exception was)."""

    item: BatchItem
    transcript: Transcript | None = None
    error: str | None = None
    duration: float | None = None
    load_seconds: float = 0.0
    decode_seconds: float = 0.0
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.transcript is not None


def describe_error(error: BaseException) -> str:
    """A user's error as it reads; anything else with its type, as a bug report needs."""
    if isinstance(error, QasrError):
        return " ".join(str(error).split())
    return f"internal error ({type(error).__name__}: {' '.join(str(error).split())})"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def transcribe_files(
    service: TranscriptionService,
    items: Iterable[BatchItem],
    *,
    timestamps: bool = False,
    fill_chunks: int = 32,
) -> Iterator[FileOutcome]:
    """Outcomes of `items`, yielded as their group finishes (failed loads at once)."""
    worker = worker_name()
    pending: list[tuple[BatchItem, AudioClip, float]] = []
    pending_chunks = 0
    for item in items:
        started = time.perf_counter()
        try:
            clip = service.audio_source.load(item.source)
        except Exception as error:  # isolation: one file's problem is that file's result
            yield FileOutcome(
                item,
                error=describe_error(error),
                load_seconds=time.perf_counter() - started,
                worker=worker,
            )
            continue
        pending.append((item, clip, time.perf_counter() - started))
        pending_chunks += max(1, math.ceil(clip.duration / service.max_chunk_seconds))
        if pending_chunks >= fill_chunks:
            yield from _decode(service, pending, timestamps, worker)
            pending, pending_chunks = [], 0
    if pending:
        yield from _decode(service, pending, timestamps, worker)


def _decode(
    service: TranscriptionService,
    loaded: Sequence[tuple[BatchItem, AudioClip, float]],
    timestamps: bool,
    worker: str,
) -> list[FileOutcome]:
    started = time.perf_counter()
    try:
        transcripts = service.transcribe_batch(
            [clip for _, clip, _ in loaded],
            [item.options for item, _, _ in loaded],
            timestamps=timestamps,
        )
    except Exception as error:
        if len(loaded) == 1:
            item, clip, load_seconds = loaded[0]
            return [
                FileOutcome(
                    item,
                    error=describe_error(error),
                    duration=clip.duration,
                    load_seconds=load_seconds,
                    decode_seconds=time.perf_counter() - started,
                    worker=worker,
                )
            ]
        # Which file broke the group is unknown: each decodes alone, and only it fails.
        return [
            outcome for one in loaded for outcome in _decode(service, [one], timestamps, worker)
        ]
    seconds = time.perf_counter() - started
    audio = sum(clip.duration for _, clip, _ in loaded) or 1.0
    return [
        FileOutcome(
            item,
            transcript,
            duration=clip.duration,
            load_seconds=load_seconds,
            # The group decoded together; each file is charged its share of the audio.
            decode_seconds=seconds * clip.duration / audio,
            worker=worker,
        )
        for (item, clip, load_seconds), transcript in zip(loaded, transcripts, strict=True)
    ]


@attrs.frozen
class GroupWorker:
    """Picklable recipe for a worker in another process (a Ray actor): calling it builds the
    service once (one model load) and returns the function that transcribes a group of items."""

    build_service: ServiceFactory
    timestamps: bool = False
    fill_chunks: int = 32

    def __call__(self) -> Callable[[Sequence[BatchItem]], list[FileOutcome]]:
        service = self.build_service()
        return functools.partial(
            _transcribe_group,
            service,
            timestamps=self.timestamps,
            fill_chunks=self.fill_chunks,
        )


def _transcribe_group(
    service: TranscriptionService,
    group: Sequence[BatchItem],
    *,
    timestamps: bool,
    fill_chunks: int,
) -> list[FileOutcome]:
    return list(transcribe_files(service, group, timestamps=timestamps, fill_chunks=fill_chunks))
