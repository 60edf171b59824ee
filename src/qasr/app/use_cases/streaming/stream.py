"""A stream as callers hold it: `feed` / `finish` from one side, events from the other, in a
thread or in asyncio. Audio at another rate goes through a resampler first."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Protocol

import numpy as np
import numpy.typing as npt

from qasr.app.use_cases.streaming.engine import StreamingEngine
from qasr.app.use_cases.streaming.events import FinalTranscript, StreamEvent
from qasr.app.use_cases.streaming.pieces import as_piece
from qasr.domain import Transcript


class PieceResampler(Protocol):
    """Turns pieces at one rate into 16 kHz pieces; the same output however the input is cut."""

    def process(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...

    def flush(self) -> npt.NDArray[np.float32]: ...


_END = object()


class Stream:
    """`feed(samples)` returns the events that piece completed and also queues them for anyone
    iterating the stream (another thread); `finish()` ends it with a `FinalTranscript`."""

    def __init__(self, engine: StreamingEngine, resampler: PieceResampler | None = None) -> None:
        self.engine = engine
        self._resampler = resampler
        self._lock = threading.Lock()
        self._events: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.result: Transcript | None = None

    @property
    def closed(self) -> bool:
        return self.engine.closed

    def feed(self, samples: object) -> list[StreamEvent]:
        with self._lock:
            if self.engine.closed:
                return self.engine.feed(samples)  # raises StreamClosedError
            piece = as_piece(samples)
            if self._resampler is not None:
                piece = self._resampler.process(piece)
            return self._publish(self.engine.feed(piece))

    def commit(self) -> list[StreamEvent]:
        """Commit the open window now (what was said so far becomes final)."""
        with self._lock:
            return self._publish(self.engine.flush())

    def discard(self) -> None:
        """Drop the audio not committed yet."""
        with self._lock:
            self.engine.discard()

    def finish(self) -> list[StreamEvent]:
        with self._lock:
            events: list[StreamEvent] = []
            if self._resampler is not None and not self.engine.closed:
                events += self.engine.feed(self._resampler.flush())
            events += self.engine.finish()
            return self._publish(events)

    def _publish(self, events: list[StreamEvent]) -> list[StreamEvent]:
        for event in events:
            self._events.put(event)
            if isinstance(event, FinalTranscript):
                self.result = event.transcript
                self._events.put(_END)
        return events

    def __iter__(self) -> Iterator[StreamEvent]:
        """Events as they happen, until the final transcript (blocks between them)."""
        while (event := self._events.get()) is not _END:
            yield event  # type: ignore[misc]


class AsyncStream:
    """The asyncio face of a `Stream`: decoding runs in a worker thread, one call at a time."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self._events: asyncio.Queue[object] | None = None

    def _queue(self) -> asyncio.Queue[object]:
        if self._events is None:
            self._events = asyncio.Queue()
        return self._events

    async def feed(self, samples: object) -> list[StreamEvent]:
        return self._publish(await asyncio.to_thread(self.stream.feed, samples))

    async def commit(self) -> list[StreamEvent]:
        return self._publish(await asyncio.to_thread(self.stream.commit))

    async def finish(self) -> list[StreamEvent]:
        return self._publish(await asyncio.to_thread(self.stream.finish))

    def _publish(self, events: list[StreamEvent]) -> list[StreamEvent]:
        for event in events:
            self._queue().put_nowait(event)
            if isinstance(event, FinalTranscript):
                self._queue().put_nowait(_END)
        return events

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
        while (event := await self._queue().get()) is not _END:
            yield event  # type: ignore[misc]
