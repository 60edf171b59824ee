"""The `JobStore` port's contract (qasr.ports.JobStore), as a suite an adapter subclasses.

>>> class TestMyJobStore(JobStoreContract):
...     def make_store(self, folder):
...         return MyJobStore(folder / "jobs.db")

Each check builds fresh stores with `new_store()` (a folder of its own each time), so checks
and drawn examples never see each other's jobs.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import strategies as st

from qasr.ports import Job, JobStatus, JobStore
from qasr.testing.contracts.suite import ContractSuite, run_suite

StoreFactory = Callable[[], JobStore]


def job(job_id: str, owner: str = "owner-a", **fields: object) -> Job:
    """A queued job with a made-up upload path; `fields` sets any other `Job` field."""
    upload = f"/uploads/{job_id}"
    return Job(id=job_id, owner=owner, audio_path=upload, filename="a.wav", **fields)  # type: ignore[arg-type]


class JobStoreContract(ContractSuite):
    """Checks the promises of every `JobStore` method. Override `make_store(folder)` (or the
    `new_store` fixture, a callable returning a fresh, empty store)."""

    max_examples: ClassVar[int] = 15

    def make_store(self, folder: Path) -> JobStore:
        raise NotImplementedError(
            f"{type(self).__name__}: override make_store(folder) or the `new_store` fixture"
        )

    @pytest.fixture
    def new_store(self, tmp_path: Path) -> StoreFactory:
        def fresh() -> JobStore:
            return self.make_store(Path(tempfile.mkdtemp(dir=tmp_path)))

        return fresh

    def test_it_is_a_job_store(self, new_store: StoreFactory) -> None:
        assert isinstance(new_store(), JobStore), "a JobStore method is missing"

    def test_a_job_comes_back_as_it_was_added(self, new_store: StoreFactory) -> None:
        store = new_store()
        added = job("j1", options='{"language": "en"}', webhook_url="http://127.0.0.1:9/h")
        store.add(added)
        assert store.get("j1") == added
        assert store.get("nope") is None
        with pytest.raises(ValueError, match="j1"):
            store.add(job("j1"))

    def test_listing_shows_only_the_owners_jobs_newest_first(self, new_store: StoreFactory) -> None:
        @self.for_all(owners=st.lists(st.sampled_from(["a", "b", "c"]), max_size=12))
        def check(owners: list[str]) -> None:
            store = new_store()
            for index, owner in enumerate(owners):
                store.add(job(f"j{index}", owner))
            for owner in ("a", "b", "c"):
                expected = [f"j{i}" for i, who in enumerate(owners) if who == owner][::-1]
                assert [found.id for found in store.list_for(owner)] == expected

        check()

    def test_claims_take_each_queued_job_once_oldest_first(self, new_store: StoreFactory) -> None:
        @self.for_all(count=st.integers(0, 8), cancelled=st.sets(st.integers(0, 7)))
        def check(count: int, cancelled: set[int]) -> None:
            store = new_store()
            for index in range(count):
                store.add(job(f"j{index}"))
            for index in cancelled & set(range(count)):
                store.cancel(f"j{index}", 1.0)
            claimed = []
            while (taken := store.claim_next(2.0)) is not None:
                assert taken.status is JobStatus.RUNNING and taken.attempts == 1
                assert taken.updated_at == 2.0
                claimed.append(taken.id)
            expected = [f"j{i}" for i in range(count) if i not in cancelled]
            assert claimed == expected
            assert store.count_queued() == 0

        check()

    def test_concurrent_claims_never_share_a_job(self, new_store: StoreFactory) -> None:
        store = new_store()
        for index in range(40):
            store.add(job(f"j{index}"))
        claimed: list[str] = []
        lock = threading.Lock()

        def claim_all() -> None:
            while (taken := store.claim_next(1.0)) is not None:
                with lock:
                    claimed.append(taken.id)

        threads = [threading.Thread(target=claim_all) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(claimed) == sorted(f"j{index}" for index in range(40))

    def test_only_a_running_job_can_finish(self, new_store: StoreFactory) -> None:
        store = new_store()
        store.add(job("queued"))
        assert not store.finish("queued", 1.0, result="{}")
        assert store.get("queued") == job("queued")
        running = store.claim_next(1.0)
        assert running is not None
        store.set_progress(running.id, 0.5)
        progressed = store.get(running.id)
        assert progressed is not None and progressed.progress == 0.5
        assert store.finish(running.id, 3.0, result='{"text": "hi"}')
        done = store.get(running.id)
        assert done is not None
        assert (done.status, done.result, done.error, done.progress, done.updated_at) == (
            JobStatus.SUCCEEDED, '{"text": "hi"}', None, 1.0, 3.0,
        )  # fmt: skip
        assert not store.finish(running.id, 4.0, error="again")
        assert not store.finish("unknown", 4.0, result="{}")

    def test_a_failure_keeps_its_reason(self, new_store: StoreFactory) -> None:
        store = new_store()
        store.add(job("j"))
        store.claim_next(1.0)
        assert store.finish("j", 2.0, error="cannot decode")
        failed = store.get("j")
        assert failed is not None
        assert (failed.status, failed.error, failed.result) == (
            JobStatus.FAILED, "cannot decode", None,
        )  # fmt: skip

    def test_progress_is_clamped_and_only_for_running_jobs(self, new_store: StoreFactory) -> None:
        store = new_store()
        store.add(job("j"))
        store.set_progress("j", 0.7)
        queued = store.get("j")
        assert queued is not None and queued.progress == 0.0
        store.claim_next(1.0)
        store.set_progress("j", 7.0)
        running = store.get("j")
        assert running is not None and running.progress == 1.0

    def test_cancelling_stops_queued_and_running_jobs_only(self, new_store: StoreFactory) -> None:
        store = new_store()
        for name in ("running", "done"):
            store.add(job(name))
        store.claim_next(1.0)
        store.claim_next(1.0)
        assert store.finish("done", 2.0, result="{}")
        store2 = new_store()
        store2.add(job("waiting"))
        cancelled = store2.cancel("waiting", 5.0)
        assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
        assert cancelled.updated_at == 5.0
        assert store2.claim_next(6.0) is None and store2.count_queued() == 0
        running = store.cancel("running", 5.0)
        assert running is not None and running.status is JobStatus.CANCELLED
        assert not store.finish("running", 6.0, result="{}"), "a cancelled job stays cancelled"
        done = store.cancel("done", 7.0)
        assert done is not None and done.status is JobStatus.SUCCEEDED and done.updated_at == 2.0
        assert store.cancel("unknown", 7.0) is None

    def test_recovery_requeues_running_jobs_until_their_attempts_run_out(
        self, new_store: StoreFactory
    ) -> None:
        store = new_store()
        for name in ("twice", "once", "waiting"):
            store.add(job(name))
        store.claim_next(1.0)  # twice: attempt 1
        store.recover(2.0, max_attempts=3)
        store.claim_next(3.0)  # twice (queued first): attempt 2
        store.claim_next(3.0)  # once: attempt 1
        changed = {found.id: found for found in store.recover(4.0, max_attempts=2)}
        assert set(changed) == {"twice", "once"}
        assert changed["twice"].status is JobStatus.FAILED and changed["twice"].error
        assert changed["once"].status is JobStatus.QUEUED and changed["once"].progress == 0.0
        assert changed["once"].attempts == 1
        waiting = store.get("waiting")
        assert waiting is not None and waiting.status is JobStatus.QUEUED
        assert store.get("twice") == changed["twice"]
        assert list(store.recover(5.0, max_attempts=2)) == []

    def test_old_finished_jobs_are_removed_and_returned(self, new_store: StoreFactory) -> None:
        store = new_store()
        for name in ("old-done", "new-done", "old-queued"):
            store.add(job(name, created_at=0.0, updated_at=0.0))
        store.claim_next(1.0)
        store.claim_next(1.0)
        store.finish("old-done", 10.0, result="{}")
        store.finish("new-done", 50.0, error="no")
        gone = store.remove_finished_before(20.0)
        assert [found.id for found in gone] == ["old-done"]
        assert store.get("old-done") is None
        assert store.get("new-done") is not None and store.get("old-queued") is not None
        assert store.count_queued() == 1


def check_job_store(new_store: StoreFactory, *, max_examples: int = 15) -> None:
    """Run the whole contract with stores from `new_store()` (fresh and empty each call); raise
    `ContractViolation` listing what failed."""
    suite = type("JobStoreCheck", (JobStoreContract,), {"max_examples": max_examples})
    run_suite(suite, {"new_store": new_store})
