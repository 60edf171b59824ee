"""A `JobStore` in a dict: the same rules as the SQLite one, nothing survives the process."""

from __future__ import annotations

import threading

import attrs

from qasr.ports import Job, JobStatus


class MemoryJobStore:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []  # insertion order: "oldest queued" without trusting clocks
        self._lock = threading.Lock()

    def add(self, job: Job) -> None:
        with self._lock:
            if job.id in self._jobs:
                raise ValueError(f"a job with id {job.id!r} exists already")
            self._jobs[job.id] = job
            self._order.append(job.id)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list_for(self, owner: str) -> list[Job]:
        with self._lock:
            return [self._jobs[i] for i in reversed(self._order) if self._jobs[i].owner == owner]

    def claim_next(self, now: float) -> Job | None:
        with self._lock:
            for job_id in self._order:
                job = self._jobs[job_id]
                if job.status is JobStatus.QUEUED:
                    claimed = attrs.evolve(
                        job, status=JobStatus.RUNNING, attempts=job.attempts + 1, updated_at=now
                    )
                    self._jobs[job_id] = claimed
                    return claimed
            return None

    def set_progress(self, job_id: str, fraction: float) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.status is JobStatus.RUNNING:
                self._jobs[job_id] = attrs.evolve(job, progress=min(max(fraction, 0.0), 1.0))

    def finish(
        self, job_id: str, now: float, *, result: str | None = None, error: str | None = None
    ) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                return False
            ok = error is None
            self._jobs[job_id] = attrs.evolve(
                job,
                status=JobStatus.SUCCEEDED if ok else JobStatus.FAILED,
                result=result if ok else None,
                error=error,
                progress=1.0 if ok else job.progress,
                updated_at=now,
            )
            return True

    def cancel(self, job_id: str, now: float) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status.is_final:
                return job
            cancelled = attrs.evolve(job, status=JobStatus.CANCELLED, updated_at=now)
            self._jobs[job_id] = cancelled
            return cancelled

    def recover(self, now: float, max_attempts: int) -> list[Job]:
        changed = []
        with self._lock:
            for job_id in self._order:
                job = self._jobs[job_id]
                if job.status is not JobStatus.RUNNING:
                    continue
                if job.attempts >= max_attempts:
                    job = attrs.evolve(
                        job, status=JobStatus.FAILED, error=gave_up(job), updated_at=now
                    )
                else:
                    job = attrs.evolve(job, status=JobStatus.QUEUED, progress=0.0, updated_at=now)
                self._jobs[job_id] = job
                changed.append(job)
        return changed

    def remove_finished_before(self, cutoff: float) -> list[Job]:
        with self._lock:
            gone = [
                job
                for job in self._jobs.values()
                if job.status.is_final and job.updated_at < cutoff
            ]
            for job in gone:
                del self._jobs[job.id]
                self._order.remove(job.id)
            return gone

    def count_queued(self) -> int:
        with self._lock:
            return sum(job.status is JobStatus.QUEUED for job in self._jobs.values())


def gave_up(job: Job) -> str:
    """The reason a job that kept dying with its server is failed rather than tried again."""
    return (
        f"the server stopped while this job was running, {job.attempts} time(s); it is not "
        "tried again (the audio may crash or exhaust the server)"
    )
