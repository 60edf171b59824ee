"""Where `qasr serve` keeps its asynchronous jobs, so a restart loses nothing (docs/adr/0017).

A job is a plain record; the store only keeps records and moves them between states, each move
in one step, so two threads (the HTTP handlers and the job runner) never see half a change.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs


class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@attrs.frozen
class Job:
    """One transcription job. `owner` is a fingerprint of the API key that made it (never the
    key); `options` is the request's options as JSON text; `result` the transcript's JSON
    (`qasr.transcript/1`) once it succeeded; `attempts` counts the times a worker took it."""

    id: str
    owner: str
    audio_path: str
    filename: str
    options: str = "{}"
    status: JobStatus = JobStatus.QUEUED
    created_at: float = 0.0
    updated_at: float = 0.0
    attempts: int = 0
    progress: float = 0.0
    webhook_url: str | None = None
    result: str | None = None
    error: str | None = None


@runtime_checkable
class JobStore(Protocol):
    def add(self, job: Job) -> None:
        """Keep a new job (its id is not in the store yet)."""
        ...

    def get(self, job_id: str) -> Job | None:
        """The job, or None when there is no such job."""
        ...

    def list_for(self, owner: str) -> list[Job]:
        """Every job of `owner`, newest first; never another owner's."""
        ...

    def claim_next(self, now: float) -> Job | None:
        """Move the oldest queued job to running, counting one more attempt, and return it as
        it now is; None when nothing is queued. Two claims never return the same job."""
        ...

    def set_progress(self, job_id: str, fraction: float) -> None:
        """Record how far a running job is (0..1); other states are left as they are."""
        ...

    def finish(
        self, job_id: str, now: float, *, result: str | None = None, error: str | None = None
    ) -> bool:
        """End a running job: succeeded with `result`, or failed with `error`. False (and no
        change) when the job is not running any more (it was cancelled meanwhile)."""
        ...

    def cancel(self, job_id: str, now: float) -> Job | None:
        """Cancel a queued or running job and return it as it now is; a finished job is
        returned unchanged; None when there is no such job."""
        ...

    def recover(self, now: float, max_attempts: int) -> Sequence[Job]:
        """After a restart: every job left running goes back to queued, or to failed with a
        reason once it has had `max_attempts` attempts. Returns the jobs it changed."""
        ...

    def remove_finished_before(self, cutoff: float) -> Sequence[Job]:
        """Delete the finished jobs last updated before `cutoff`; return what was deleted (the
        caller removes their uploads)."""
        ...

    def count_queued(self) -> int: ...
