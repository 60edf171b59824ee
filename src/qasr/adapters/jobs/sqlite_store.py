"""A `JobStore` in one SQLite file (stdlib `sqlite3`): every change is one committed transaction.

WAL journaling lets readers (GET /v1/jobs) go on while the runner writes; `synchronous=FULL`
makes a commit durable before it returns, so a job the client saw accepted survives a crash or
a power cut. One connection is shared behind a lock: the server's few threads write small rows,
far below what one connection serves.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qasr.adapters.jobs.memory_store import gave_up
from qasr.ports import Job, JobStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    audio_path TEXT NOT NULL,
    filename TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    progress REAL NOT NULL,
    webhook_url TEXT,
    result TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, seq);
"""
_COLUMNS = (
    "id", "owner", "audio_path", "filename", "options", "status", "created_at", "updated_at",
    "attempts", "progress", "webhook_url", "result", "error",
)  # fmt: skip
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM jobs"
_FINAL = tuple(status.value for status in JobStatus if status.is_final)


class SqliteJobStore:
    """Jobs in `path` (created with its folder when missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def add(self, job: Job) -> None:
        row = _row(job)
        try:
            with self._transaction() as db:
                db.execute(
                    f"INSERT INTO jobs ({', '.join(_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                    [row[name] for name in _COLUMNS],
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"a job with id {job.id!r} exists already") from None

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            found = self._db.execute(f"{_SELECT} WHERE id = ?", (job_id,)).fetchone()
        return None if found is None else _job(found)

    def list_for(self, owner: str) -> list[Job]:
        with self._lock:
            rows = self._db.execute(
                f"{_SELECT} WHERE owner = ? ORDER BY seq DESC", (owner,)
            ).fetchall()
        return [_job(row) for row in rows]

    def claim_next(self, now: float) -> Job | None:
        with self._transaction() as db:
            found = db.execute(
                f"{_SELECT} WHERE status = ? ORDER BY seq LIMIT 1", (JobStatus.QUEUED.value,)
            ).fetchone()
            if found is None:
                return None
            db.execute(
                "UPDATE jobs SET status = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (JobStatus.RUNNING.value, now, found[0]),
            )
            return _job(db.execute(f"{_SELECT} WHERE id = ?", (found[0],)).fetchone())

    def set_progress(self, job_id: str, fraction: float) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET progress = ? WHERE id = ? AND status = ?",
                (min(max(fraction, 0.0), 1.0), job_id, JobStatus.RUNNING.value),
            )

    def finish(
        self, job_id: str, now: float, *, result: str | None = None, error: str | None = None
    ) -> bool:
        ok = error is None
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE jobs SET status = ?, result = ?, error = ?, updated_at = ?, "
                "progress = CASE WHEN ? THEN 1.0 ELSE progress END WHERE id = ? AND status = ?",
                (
                    (JobStatus.SUCCEEDED if ok else JobStatus.FAILED).value,
                    result if ok else None,
                    error,
                    now,
                    ok,
                    job_id,
                    JobStatus.RUNNING.value,
                ),
            ).rowcount
        return changed == 1

    def cancel(self, job_id: str, now: float) -> Job | None:
        with self._transaction() as db:
            db.execute(
                f"UPDATE jobs SET status = ?, updated_at = ? WHERE id = ? "
                f"AND status NOT IN ({', '.join('?' for _ in _FINAL)})",
                (JobStatus.CANCELLED.value, now, job_id, *_FINAL),
            )
            found = db.execute(f"{_SELECT} WHERE id = ?", (job_id,)).fetchone()
        return None if found is None else _job(found)

    def recover(self, now: float, max_attempts: int) -> list[Job]:
        changed = []
        with self._transaction() as db:
            running = db.execute(
                f"{_SELECT} WHERE status = ? ORDER BY seq", (JobStatus.RUNNING.value,)
            ).fetchall()
            for row in running:
                job = _job(row)
                if job.attempts >= max_attempts:
                    status, error, progress = JobStatus.FAILED, gave_up(job), job.progress
                else:
                    status, error, progress = JobStatus.QUEUED, None, 0.0
                db.execute(
                    "UPDATE jobs SET status = ?, error = ?, progress = ?, updated_at = ? "
                    "WHERE id = ?",
                    (status.value, error, progress, now, job.id),
                )
                changed.append(_job(db.execute(f"{_SELECT} WHERE id = ?", (job.id,)).fetchone()))
        return changed

    def remove_finished_before(self, cutoff: float) -> list[Job]:
        marks = ", ".join("?" for _ in _FINAL)
        with self._transaction() as db:
            rows = db.execute(
                f"{_SELECT} WHERE status IN ({marks}) AND updated_at < ?", (*_FINAL, cutoff)
            ).fetchall()
            db.execute(
                f"DELETE FROM jobs WHERE status IN ({marks}) AND updated_at < ?", (*_FINAL, cutoff)
            )
        return [_job(row) for row in rows]

    def count_queued(self) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = ?", (JobStatus.QUEUED.value,)
            ).fetchone()
        return int(count)


def _row(job: Job) -> dict[str, Any]:
    return {name: getattr(job, name) for name in _COLUMNS} | {"status": job.status.value}


def _job(row: tuple[Any, ...]) -> Job:
    values = dict(zip(_COLUMNS, row, strict=True))
    return Job(**(values | {"status": JobStatus(values["status"])}))
