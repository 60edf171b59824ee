"""Durable jobs: `POST /v1/jobs`, `GET /v1/jobs[/{id}[/result]]`, `DELETE /v1/jobs/{id}`.

A job is visible only to the key that made it: another key's job answers 404, as a job that
does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from qasr.app import bootstrap
from qasr.app.server.api_errors import ApiError
from qasr.app.server.app import ServerState, state_of
from qasr.app.server.dependencies import caller
from qasr.app.server.jobs import JobOptions
from qasr.app.server.routes_openai import check_features, parse_language
from qasr.app.server.uploads import form_flag, form_text, load_clip, read_form, save_upload
from qasr.app.server.webhooks import check_webhook_url
from qasr.errors import OutputFormatError
from qasr.ports import Job, JobStatus

router = APIRouter()
_TIMED = frozenset({"srt", "vtt", "tsv"})
_MEDIA = {"txt": "text/plain", "json": "application/json", "srt": "application/x-subrip",
          "vtt": "text/vtt", "tsv": "text/tab-separated-values"}  # fmt: skip


def job_view(job: Job) -> dict[str, Any]:
    options = JobOptions.from_json(job.options)
    view: dict[str, Any] = {
        "object": "transcription.job", "id": job.id, "status": job.status.value,
        "progress": job.progress, "filename": job.filename, "created_at": job.created_at,
        "updated_at": job.updated_at, "attempts": job.attempts, "error": job.error,
        "formats": options.formats.split(","), "webhook_url": job.webhook_url,
    }  # fmt: skip
    if job.result is not None:
        view["result"] = json.loads(job.result)
        view["text"] = view["result"].get("text", "")
    return view


def parse_formats(text: str) -> list[str]:
    names = [part.strip().lower().removeprefix(".") for part in text.split(",") if part.strip()]
    try:
        for name in names or ["json"]:
            bootstrap.check_output_format(name)
    except OutputFormatError as error:
        raise ApiError(400, str(error), param="formats") from None
    return names or ["json"]


def own_job(state: ServerState, job_id: str, owner: str) -> Job:
    job = state.store.get(job_id)
    if job is None or job.owner != owner:
        raise ApiError(404, f"no job {job_id!r}", param="id", code="job_not_found")
    return job


@router.post("/v1/jobs", status_code=202)
async def submit(request: Request, owner: str = Depends(caller)) -> JSONResponse:
    state = state_of(request)
    form = await read_form(request)
    job_id = secrets.token_hex(12)
    path = None
    try:
        formats = parse_formats(form_text(form, "formats", "json"))
        options = JobOptions(
            language=_code(parse_language(form_text(form, "language"))),
            context=form_text(form, "context"),
            timestamps=form_flag(form, "timestamps") or bool(set(formats) & _TIMED),
            formats=",".join(formats),
        )
        check_features(state, options.timestamps, False, ",".join(formats))
        webhook = form_text(form, "webhook_url").strip() or None
        if webhook and (problem := check_webhook_url(webhook)):
            raise ApiError(400, problem, param="webhook_url")
        if state.store.count_queued() >= state.settings.max_jobs_queued:
            raise ApiError(
                503, "too many jobs are queued; retry later", code="server_busy",
                headers={"Retry-After": "30"},
            )  # fmt: skip
        path, filename = await save_upload(form, state.settings.uploads_dir, job_id)
        # Decoded once now, so an unreadable or overlong file is refused at once, not later.
        await run_in_threadpool(
            load_clip, state.service.audio_source, path, filename,
            state.settings.max_audio_seconds,
        )  # fmt: skip
        now = time.time()
        job = Job(
            id=job_id, owner=owner, audio_path=str(path), filename=filename,
            options=options.to_json(), created_at=now, updated_at=now, webhook_url=webhook,
        )  # fmt: skip
        state.store.add(job)
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    finally:
        await form.close()
    state.runner.wake()
    return JSONResponse(job_view(job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


def _code(language: Any) -> str | None:
    return None if language is None else str(language.code)


@router.get("/v1/jobs")
def list_jobs(request: Request, owner: str = Depends(caller)) -> dict[str, Any]:
    jobs = state_of(request).store.list_for(owner)
    return {"object": "list", "data": [job_view(job) for job in jobs]}


@router.get("/v1/jobs/{job_id}")
def get_job(job_id: str, request: Request, owner: str = Depends(caller)) -> dict[str, Any]:
    return job_view(own_job(state_of(request), job_id, owner))


@router.get("/v1/jobs/{job_id}/result")
def job_result(
    job_id: str, request: Request, format: str = "txt", owner: str = Depends(caller)
) -> Response:
    """The finished transcript in any writer format (txt, json, srt, vtt, tsv)."""
    job = own_job(state_of(request), job_id, owner)
    if job.status is not JobStatus.SUCCEEDED or job.result is None:
        raise ApiError(
            409, f"job {job_id!r} is {job.status.value}; its result exists once it succeeded",
            code="job_not_finished",
        )  # fmt: skip
    name = format.strip().lower().removeprefix(".")
    try:
        text = bootstrap.render_transcript(bootstrap.transcript_from_json(job.result), name)
    except OutputFormatError as error:
        raise ApiError(400, str(error), param="format") from None
    stem = job.filename.rsplit(".", 1)[0] or "transcript"
    return Response(
        text,
        media_type=_MEDIA.get(name, "text/plain") + "; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_safe(stem)}.{name}"'},
    )


def _safe(stem: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in stem)[:100]


@router.delete("/v1/jobs/{job_id}")
def cancel_job(job_id: str, request: Request, owner: str = Depends(caller)) -> dict[str, Any]:
    state = state_of(request)
    own_job(state, job_id, owner)
    job = state.runner.cancel(job_id)
    assert job is not None  # own_job found it; jobs are only removed once finished
    return job_view(job)
