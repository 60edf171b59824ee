"""The SQLite job store beyond the shared contract: what it keeps survives closing the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from qasr.adapters.jobs import SqliteJobStore
from qasr.ports import JobStatus
from qasr.testing.contracts.job_store import job


def test_jobs_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "jobs.sqlite3"
    store = SqliteJobStore(path)
    store.add(job("done", options='{"formats": "srt"}'))
    store.add(job("running"))
    store.add(job("waiting"))
    store.claim_next(1.0)
    assert store.finish("done", 2.0, result='{"text": "hi"}')
    store.claim_next(3.0)
    before = {name: store.get(name) for name in ("done", "running", "waiting")}
    store.close()  # as a killed process leaves it: committed rows only

    reopened = SqliteJobStore(path)
    assert {name: reopened.get(name) for name in before} == before
    assert [found.id for found in reopened.list_for("owner-a")] == ["waiting", "running", "done"]
    changed = reopened.recover(4.0, max_attempts=3)
    assert [(found.id, found.status) for found in changed] == [("running", JobStatus.QUEUED)]
    assert [reopened.claim_next(5.0).id, reopened.claim_next(5.0).id] == ["running", "waiting"]


def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    SqliteJobStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
