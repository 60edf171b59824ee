"""Our job stores through the shipped `JobStoreContract` (qasr.testing.contracts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qasr.adapters.jobs import MemoryJobStore, SqliteJobStore
from qasr.ports import Job, JobStatus, JobStore
from qasr.testing.contracts import ContractViolation, JobStoreContract, check_job_store


class TestMemoryJobStore(JobStoreContract):
    def make_store(self, folder: Path) -> JobStore:
        return MemoryJobStore()


class TestSqliteJobStore(JobStoreContract):
    def make_store(self, folder: Path) -> JobStore:
        return SqliteJobStore(folder / "jobs.sqlite3")


def test_the_one_call_check_passes_a_good_store() -> None:
    check_job_store(MemoryJobStore, max_examples=3)


class LeakyStore(MemoryJobStore):
    """Lists everyone's jobs, and finishes a job whatever state it is in."""

    def list_for(self, owner: str) -> list[Job]:
        return [job for job in (self.get(i) for i in reversed(self._order)) if job is not None]

    def finish(self, job_id: str, now: float, **outcome: str | None) -> bool:
        job = self.get(job_id)
        if job is not None and job.status is JobStatus.QUEUED:
            self.claim_next(now)
        return super().finish(job_id, now, **outcome)


def test_the_contract_catches_a_store_that_leaks_and_overwrites() -> None:
    with pytest.raises(ContractViolation) as caught:
        check_job_store(LeakyStore, max_examples=5)
    message = str(caught.value)
    assert "test_listing_shows_only_the_owners_jobs_newest_first" in message
    assert "test_only_a_running_job_can_finish" in message
