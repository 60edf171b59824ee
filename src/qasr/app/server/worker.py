"""The one thread that owns the model: it decodes the chunks of concurrent requests together.

Policy (docs/adr/0017): requests wait in one bounded FIFO. When the model is free, the worker
takes the oldest request, then every other waiting request with the same features (timestamps,
diarization) while the chunks taken stay within `batch_size`, and decodes them all in one
`TranscriptionService.transcribe_batch` call. A request that arrives while a batch decodes
waits for the next one; the oldest request is always taken, so none starves, and one longer
than `batch_size` chunks goes alone (the service cuts it into batches of `batch_size`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import attrs

from qasr.app.server.metrics import ServerMetrics
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import AudioClip, ProgressEvent, RecognitionOptions, Stage, Transcript
from qasr.domain.chunking import plan_chunks
from qasr.errors import QasrError

ProgressSink = Callable[[float], None]
_ids = itertools.count()


class QueueFullError(Exception):
    """The waiting line is full; the client should come back after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the server is busy; retry after {retry_after} s")
        self.retry_after = retry_after


@attrs.define(eq=False)
class WorkItem:
    """One request's audio and options, and the future its transcript arrives in."""

    clip: AudioClip
    options: RecognitionOptions
    chunks: int
    timestamps: bool = False
    diarize: bool = False
    on_progress: ProgressSink | None = None
    future: Future[Transcript] = attrs.field(factory=Future)
    done_chunks: int = 0

    @property
    def features(self) -> tuple[bool, bool]:
        return (self.timestamps, self.diarize)

    def cancel(self) -> None:
        """Drop the request if it has not started; a running one finishes and is discarded."""
        self.future.cancel()


class ModelWorker:
    """Owns `service` on one thread. `submit` from any thread; `start` / `stop` once each."""

    def __init__(
        self,
        service: TranscriptionService | Callable[[], TranscriptionService],
        *,
        batch_size: int = 8,
        max_queue: int = 64,
        metrics: ServerMetrics | None = None,
    ) -> None:
        # MLX keeps its streams per thread: a model must be loaded on the thread that runs it,
        # so a factory is called on the worker's own thread (docs/adr/0017).
        self._factory = None if isinstance(service, TranscriptionService) else service
        self.service: TranscriptionService | None = None if self._factory else service
        self.loaded = threading.Event()
        self.load_error: BaseException | None = None
        self.batch_size = batch_size
        self.max_queue = max_queue
        self.metrics = metrics or ServerMetrics()
        self._waiting: deque[WorkItem] = deque()
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="qasr-model-worker", daemon=True)
        self._recent_batch_seconds = 1.0
        # Request numbers per recent batch, for tests and tuning.
        self.batches: deque[tuple[int, ...]] = deque(maxlen=1000)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and self.service is not None and not self._stopping

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def wait_loaded(self, timeout: float | None = None) -> TranscriptionService:
        """The service once loaded on the worker's thread; its loading error, raised here."""
        if not self.loaded.wait(timeout):
            raise TimeoutError("the model is still loading")
        if self.load_error is not None:
            raise self.load_error
        assert self.service is not None
        return self.service

    @property
    def queue_depth(self) -> int:
        with self._changed:
            return len(self._waiting)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Cancel what waits, let the running batch end; a factory-built worker's thread then
        parks instead of ending (see `_run`)."""
        with self._changed:
            self._stopping = True
            for item in self._waiting:
                item.future.cancel()
            self._waiting.clear()
            self._changed.notify_all()
        if self._thread.is_alive() and self._factory is None:
            self._thread.join(timeout)

    def chunk_count(self, clip: AudioClip) -> int:
        assert self.service is not None
        return len(plan_chunks(clip.samples, clip.sample_rate, self.service.max_chunk_seconds))

    def submit(
        self,
        clip: AudioClip,
        options: RecognitionOptions,
        *,
        timestamps: bool = False,
        diarize: bool = False,
        on_progress: ProgressSink | None = None,
        bounded: bool = True,
    ) -> WorkItem:
        """Queue one request; raise `QueueFullError` when `bounded` and `max_queue` wait already.
        The job runner passes `bounded=False`: it limits its own requests in flight."""
        named = AudioClip(clip.samples, clip.sample_rate, f"request-{next(_ids)}")
        item = WorkItem(named, options, 0, timestamps, diarize, on_progress)
        with self._changed:
            if self._stopping:
                raise QueueFullError(retry_after=5)
            if bounded and len(self._waiting) >= self.max_queue:
                raise QueueFullError(retry_after=self._retry_after())
            self._waiting.append(item)
            self._changed.notify()
        return item

    def _retry_after(self) -> int:
        # Roughly when the line ahead drains, never less than a second.
        batches_ahead = max(1, len(self._waiting) // max(self.batch_size, 1))
        return max(1, round(batches_ahead * self._recent_batch_seconds))

    def _next_batch(self) -> list[WorkItem] | None:
        with self._changed:
            while True:
                while self._waiting and self._waiting[0].future.cancelled():
                    self._waiting.popleft()
                if self._waiting or self._stopping:
                    break
                self._changed.wait()
            if self._stopping:
                return None
            for item in self._waiting:
                item.chunks = item.chunks or self.chunk_count(item.clip)
            first = self._waiting.popleft()
            batch, chunks = [first], first.chunks
            for item in list(self._waiting):
                if item.future.cancelled():
                    self._waiting.remove(item)
                elif item.features == first.features and chunks + item.chunks <= self.batch_size:
                    self._waiting.remove(item)
                    batch.append(item)
                    chunks += item.chunks
            # Taken items are running from now on: a later cancel cannot unqueue them.
            return [item for item in batch if item.future.set_running_or_notify_cancel()]

    def _run(self) -> None:
        if self._factory is not None:
            try:
                self.service = self._factory()
            except BaseException as error:
                self.load_error = error
        self.loaded.set()
        if self.service is not None:
            while (batch := self._next_batch()) is not None:
                if batch:
                    self._decode(batch)
        if self._factory is not None:
            # A thread that ran an MLX model must outlive the interpreter: with MLX 0.32 the
            # process aborts at exit ("terminate called...") when such a thread has ended.
            threading.Event().wait()

    def _decode(self, batch: Sequence[WorkItem]) -> None:
        started = time.monotonic()
        self.batches.append(tuple(int(item.clip.name.split("-")[-1]) for item in batch))
        self.metrics.batch_requests.observe(len(batch))
        self.metrics.batch_chunks.observe(sum(item.chunks for item in batch))
        try:
            transcripts = self._transcribe(batch)
        except QasrError as error:
            if len(batch) == 1:
                self._fail(batch, error)
                return
            # One bad request must not fail the others that shared its batch.
            for item in batch:
                self._decode_alone(item)
            return
        except Exception as error:
            self._fail(batch, error)
            return
        finally:
            self._recent_batch_seconds = time.monotonic() - started
            self.metrics.batch_seconds.observe(self._recent_batch_seconds)
        for item, transcript in zip(batch, transcripts, strict=True):
            self.metrics.audio_seconds.add(item.clip.duration)
            item.future.set_result(transcript)

    def _decode_alone(self, item: WorkItem) -> None:
        item.done_chunks = 0
        try:
            (transcript,) = self._transcribe([item])
        except Exception as error:
            item.future.set_exception(error)
        else:
            self.metrics.audio_seconds.add(item.clip.duration)
            item.future.set_result(transcript)

    def _fail(self, batch: Sequence[WorkItem], error: Exception) -> None:
        for item in batch:
            item.future.set_exception(error)

    def _transcribe(self, batch: Sequence[WorkItem]) -> list[Transcript]:
        assert self.service is not None
        first = batch[0]
        by_name = {item.clip.name: item for item in batch}

        def progress(event: ProgressEvent) -> None:
            item = by_name.get(event.name)
            if event.stage is not Stage.CHUNK_COMPLETED or item is None:
                return
            item.done_chunks += 1
            if item.on_progress is not None:
                item.on_progress(min(1.0, item.done_chunks / max(item.chunks, 1)))

        return self.service.transcribe_batch(
            [item.clip for item in batch],
            [item.options for item in batch],
            timestamps=first.timestamps,
            diarize=first.diarize,
            on_progress=progress,
        )
