"""The FastAPI application of `qasr serve`: one model worker, the job runner, the routes.

`create_app` takes a ready `TranscriptionService` (the composition root builds it; tests pass one
of fakes) and a `JobStore`; nothing here picks an adapter.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qasr.app.server.api_errors import ApiError, envelope
from qasr.app.server.auth import KeyChecker, RateLimiter
from qasr.app.server.guard import Guard
from qasr.app.server.jobs import JobRunner
from qasr.app.server.metrics import ServerMetrics
from qasr.app.server.settings import ServerSettings
from qasr.app.server.webhooks import Webhooks
from qasr.app.server.worker import ModelWorker
from qasr.app.use_cases.service import TranscriptionService
from qasr.errors import QasrError
from qasr.ports import JobStore

log = logging.getLogger("qasr.server")


@attrs.define
class ServerState:
    """What the routes share; one per application."""

    settings: ServerSettings
    store: JobStore
    worker: ModelWorker
    runner: JobRunner
    keys: KeyChecker
    limiter: RateLimiter
    metrics: ServerMetrics

    @property
    def service(self) -> TranscriptionService:
        """The loaded service; ApiError 503 while the model is still loading."""
        if self.worker.service is None:
            if self.worker.load_error is not None:
                raise ApiError(503, f"the model failed to load: {self.worker.load_error}")
            raise ApiError(
                503, "the model is still loading", code="loading", headers={"Retry-After": "5"}
            )
        return self.worker.service


def state_of(request: Request) -> ServerState:
    found: ServerState = request.app.state.qasr
    return found


ServiceSource = TranscriptionService | Callable[[], TranscriptionService]


def build_state(service: ServiceSource, store: JobStore, settings: ServerSettings) -> ServerState:
    metrics = ServerMetrics()
    worker = ModelWorker(
        service, batch_size=settings.batch_size, max_queue=settings.max_queue, metrics=metrics
    )
    webhooks = Webhooks(
        attempts=settings.webhook_attempts, backoff=settings.webhook_backoff, metrics=metrics
    )
    runner = JobRunner(
        store, worker,
        uploads_dir=settings.uploads_dir, max_in_flight=settings.batch_size,
        max_attempts=settings.max_attempts, ttl_seconds=settings.job_ttl_seconds,
        webhooks=webhooks, metrics=metrics,
    )  # fmt: skip
    metrics.gauge("qasr_queue_depth", "Requests waiting for the model.", lambda: worker.queue_depth)
    metrics.gauge("qasr_jobs_queued", "Jobs waiting in the store.", store.count_queued)
    metrics.gauge("qasr_jobs_in_flight", "Jobs handed to the model.", lambda: runner.in_flight)
    metrics.gauge("qasr_ready", "1 while the model worker runs.", lambda: int(worker.alive))
    return ServerState(
        settings, store, worker, runner,
        KeyChecker(settings.api_keys), RateLimiter(settings.rate_limit), metrics,
    )  # fmt: skip


def create_app(
    service: ServiceSource, store: JobStore, settings: ServerSettings | None = None
) -> FastAPI:
    """The application. `service` is a ready service, or a function that builds one: an MLX
    model must be built that way, on the worker's thread (start it early with
    `app.state.qasr.worker.start()` and `wait_loaded()` to see a loading error at once)."""
    from qasr.app.server import realtime, routes_jobs, routes_openai, routes_ops

    settings = settings or ServerSettings()
    settings.check()
    state = build_state(service, store, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.incoming_dir.mkdir(parents=True, exist_ok=True)
        for leftover in settings.incoming_dir.iterdir():  # a request cut off by a crash
            leftover.unlink(missing_ok=True)
        if not state.worker.started:
            state.worker.start()
        state.runner.start()
        log.info(json.dumps({"event": "ready", "model": settings.model_name}))
        try:
            yield
        finally:
            state.runner.stop()
            state.worker.stop()

    app = FastAPI(title="qasr", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.qasr = state
    for module in (routes_openai, routes_jobs, routes_ops):
        app.include_router(module.router)
    realtime.mount(app, state)  # the WebSocket stream endpoint (docs/adr/0020)
    _add_error_handlers(app)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
        )
    app.add_middleware(
        Guard,  # type: ignore[arg-type]
        max_body=settings.max_upload_bytes,
        max_header_bytes=settings.max_header_bytes,
        metrics=state.metrics,
    )
    return app


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        envelope(error.status, error.message, code=error.code, param=error.param),
        status_code=error.status,
        headers=error.headers,
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(QasrError)
    async def user_error(request: Request, error: QasrError) -> JSONResponse:
        return error_response(ApiError(400, str(error), code=type(error).__name__))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg')}"
            for problem in error.errors()
        )
        return error_response(ApiError(400, f"invalid request: {problems}"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = {404: "no such endpoint", 405: "method not allowed on this endpoint"}.get(
            error.status_code, str(error.detail)
        )
        return error_response(
            ApiError(error.status_code, f"{message}: {request.method} {request.url.path}")
        )

    @app.exception_handler(Exception)
    async def bug(request: Request, error: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "?")
        log.error(
            json.dumps({"event": "internal_error", "request_id": request_id, "error": repr(error)})
        )
        return error_response(
            ApiError(500, f"internal error; this is a bug in qasr (request id {request_id})")
        )


def run_server(app: Any, settings: ServerSettings) -> None:
    """Serve `app` with uvicorn until interrupted."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        http="h11",
        # Large enough that oversized headers reach the Guard, which answers 431 in the envelope.
        h11_max_incomplete_event_size=1024 * 1024,
        timeout_keep_alive=5,
        access_log=False,
        log_level="warning",
    )
