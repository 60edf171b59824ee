"""Durable jobs: the runner that feeds queued jobs from the store to the model worker.

The store is the truth (docs/adr/0017): a job is claimed (running, one more attempt) only when
the runner has room, at most `max_in_flight` at a time, so jobs share the worker's batches with
synchronous requests without filling the line those are answered from. At start, jobs left
running by a dead process go back to the queue, or fail after `max_attempts`. Finished jobs
and their uploads are removed `ttl_seconds` after they ended.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from qasr.app import bootstrap
from qasr.app.server.metrics import ServerMetrics
from qasr.app.server.webhooks import Webhooks
from qasr.app.server.worker import ModelWorker, WorkItem
from qasr.domain import RecognitionOptions, Transcript
from qasr.errors import QasrError
from qasr.ports import Job, JobStatus, JobStore

log = logging.getLogger("qasr.server")


@attrs.frozen
class JobOptions:
    """What a job asked for, kept as JSON in the store."""

    language: str | None = None
    context: str = ""
    timestamps: bool = False
    diarize: bool = False
    formats: str = "json"
    max_new_tokens: int | None = None

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> JobOptions:
        known = {field.name for field in attrs.fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})

    def recognition(self) -> RecognitionOptions:
        return RecognitionOptions(
            language=self.language, context=self.context, max_new_tokens=self.max_new_tokens
        )


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        worker: ModelWorker,
        *,
        uploads_dir: Path,
        max_in_flight: int = 8,
        max_attempts: int = 3,
        ttl_seconds: float = 24 * 3600.0,
        webhooks: Webhooks | None = None,
        metrics: ServerMetrics | None = None,
        clock: Callable[[], float] = time.time,
        sweep_every: float = 60.0,
    ) -> None:
        self.store = store
        self.worker = worker
        self.uploads_dir = uploads_dir
        self.max_in_flight = max_in_flight
        self.max_attempts = max_attempts
        self.ttl_seconds = ttl_seconds
        self.webhooks = webhooks or Webhooks()
        self.metrics = metrics or ServerMetrics()
        self.clock = clock
        self.sweep_every = sweep_every
        self._in_flight: dict[str, WorkItem | None] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="qasr-job-runner", daemon=True)

    @property
    def in_flight(self) -> int:
        with self._wake:
            return len(self._in_flight)

    def start(self) -> None:
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        for job in self.store.recover(self.clock(), self.max_attempts):
            log.info(
                json.dumps({"event": "job_recovered", "job": job.id, "status": job.status.value})
            )
            if job.status is JobStatus.FAILED:
                self._ended(job)
        self._remove_orphan_uploads()
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.webhooks.close()

    def wake(self) -> None:
        """A job was queued or cancelled: look again now rather than at the next tick."""
        with self._wake:
            self._wake.notify_all()

    def cancel(self, job_id: str) -> Job | None:
        job = self.store.cancel(job_id, self.clock())
        with self._wake:
            item = self._in_flight.get(job_id)
        if item is not None:
            item.cancel()
        if job is not None and job.status is JobStatus.CANCELLED:
            self.metrics.jobs.add(status="cancelled")
        self.wake()
        return job

    def _run(self) -> None:
        last_sweep = 0.0
        while not self.worker.loaded.wait(timeout=1.0):
            if self._stopping:
                return
        if self.worker.service is None:
            return  # the model failed to load; /ready says so and no job is claimed
        while True:
            with self._wake:
                if self._stopping:
                    return
                room = len(self._in_flight) < self.max_in_flight
            claimed = self.store.claim_next(self.clock()) if room else None
            if claimed is not None:
                self._dispatch(claimed)
                continue
            if self.clock() - last_sweep >= self.sweep_every:
                self.sweep()
                last_sweep = self.clock()
            with self._wake:
                if not self._stopping:
                    self._wake.wait(timeout=1.0)

    def _dispatch(self, job: Job) -> None:
        with self._wake:
            self._in_flight[job.id] = None
        try:
            options = JobOptions.from_json(job.options)
            assert self.worker.service is not None  # _run waited for it
            clip = self.worker.service.audio_source.load(job.audio_path)
            item = self.worker.submit(
                clip,
                options.recognition(),
                timestamps=options.timestamps,
                diarize=options.diarize,
                on_progress=lambda fraction: self.store.set_progress(job.id, fraction),
                bounded=False,
            )
        except (QasrError, ValueError, TypeError, OSError) as error:
            self._complete(job.id, error=f"cannot transcribe {job.filename!r}: {error}")
            return
        with self._wake:
            self._in_flight[job.id] = item
        item.future.add_done_callback(lambda done: self._on_done(job.id, done))

    def _on_done(self, job_id: str, done: Any) -> None:
        if done.cancelled():
            self._complete(job_id, error="cancelled")
            return
        error = done.exception()
        if error is None:
            transcript: Transcript = done.result()
            self._complete(job_id, result=bootstrap.transcript_to_json(transcript))
        elif isinstance(error, QasrError):
            self._complete(job_id, error=str(error))
        else:
            log.error(json.dumps({"event": "job_crashed", "job": job_id, "error": repr(error)}))
            self._complete(job_id, error=f"internal error ({type(error).__name__}); see the log")

    def _complete(
        self, job_id: str, *, result: str | None = None, error: str | None = None
    ) -> None:
        finished = self.store.finish(job_id, self.clock(), result=result, error=error)
        with self._wake:
            self._in_flight.pop(job_id, None)
            self._wake.notify_all()
        job = self.store.get(job_id)
        if finished and job is not None:
            self.metrics.jobs.add(status=job.status.value)
            self._ended(job)

    def _ended(self, job: Job) -> None:
        if job.webhook_url:
            self.webhooks.send(job.webhook_url, webhook_payload(job))

    def sweep(self) -> list[Job]:
        """Remove finished jobs older than the TTL with their uploads; return them."""
        gone = list(self.store.remove_finished_before(self.clock() - self.ttl_seconds))
        for job in gone:
            Path(job.audio_path).unlink(missing_ok=True)
        return gone

    def _remove_orphan_uploads(self) -> None:
        """An upload whose job never reached the store (the process died in between)."""
        cutoff = self.clock() - 3600.0
        for path in self.uploads_dir.iterdir():
            try:
                old = path.stat().st_mtime < cutoff
            except OSError:
                continue
            if old and self.store.get(path.stem) is None:
                path.unlink(missing_ok=True)


def webhook_payload(job: Job) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "object": "transcription.job",
        "id": job.id,
        "status": job.status.value,
        "error": job.error,
    }
    if job.result is not None:
        payload["text"] = json.loads(job.result).get("text", "")
    return payload
