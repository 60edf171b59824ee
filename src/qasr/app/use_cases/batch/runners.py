"""Where a bulk job's decoding runs: in this process, or on a pool of workers elsewhere.

A runner turns a stream of items into a stream of outcomes, in any order; the job around it
(job.py) owns resuming, writing and the results manifest, so both runners keep the same rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from qasr.app.use_cases.batch.decode import (
    FileOutcome,
    GroupWorker,
    describe_error,
    transcribe_files,
)
from qasr.app.use_cases.batch.plan import BatchItem
from qasr.app.use_cases.service import TranscriptionService

GroupResult = list[FileOutcome] | BaseException


class BatchRunner(Protocol):
    def run(self, items: Iterable[BatchItem]) -> Iterator[FileOutcome]:
        """One outcome per item, yielded as each finishes; items are read lazily."""
        ...


class WorkerPool(Protocol):
    def stream(
        self,
        make_worker: Callable[[], Callable[[Sequence[BatchItem]], list[FileOutcome]]],
        groups: Iterable[Sequence[BatchItem]],
    ) -> Iterator[tuple[Sequence[BatchItem], GroupResult]]:
        """Each worker calls `make_worker()` once and then its result on groups; yields each
        group with its outcomes, or with the error that lost it (a worker that died twice)."""
        ...


class LocalRunner:
    """Decodes in this process with one service (one model load)."""

    def __init__(
        self, service: TranscriptionService, *, timestamps: bool = False, fill_chunks: int = 32
    ) -> None:
        self.service = service
        self.timestamps = timestamps
        self.fill_chunks = fill_chunks

    def run(self, items: Iterable[BatchItem]) -> Iterator[FileOutcome]:
        return transcribe_files(
            self.service, items, timestamps=self.timestamps, fill_chunks=self.fill_chunks
        )


class PoolRunner:
    """Sends groups of `files_per_task` items to a worker pool (Ray actors), each worker with its
    own service built by `worker`. Small groups bound the straggler at the end of a job to one
    group's time; larger ones batch more chunks per decode."""

    def __init__(self, pool: WorkerPool, worker: GroupWorker, *, files_per_task: int = 4) -> None:
        self.pool = pool
        self.worker = worker
        self.files_per_task = files_per_task

    def run(self, items: Iterable[BatchItem]) -> Iterator[FileOutcome]:
        for group, result in self.pool.stream(self.worker, _groups(items, self.files_per_task)):
            if isinstance(result, BaseException):
                error = describe_error(result)
                yield from (FileOutcome(item, error=error) for item in group)
            else:
                yield from result


def _groups(items: Iterable[BatchItem], size: int) -> Iterator[list[BatchItem]]:
    iterator = iter(items)
    while group := list(itertools.islice(iterator, size)):
        yield group
