"""Health, readiness, Prometheus metrics and the web page."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from qasr.app.server.app import state_of
from qasr.app.server.dependencies import caller

router = APIRouter()


@router.get("/health")
def health() -> dict[str, str]:
    """The process answers (no key needed): for a load balancer's liveness check."""
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request) -> JSONResponse:
    """The model is loaded and its worker runs (no key needed): route traffic here."""
    state = state_of(request)
    if not state.worker.alive:
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse(
        {"status": "ready", "model": state.settings.model_name, "queue": state.worker.queue_depth}
    )


@router.get("/metrics", dependencies=[Depends(caller)])
def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        state_of(request).metrics.render(), media_type="text/plain; version=0.0.4"
    )


@router.get("/", include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    html = (files("qasr.app.server") / "static" / "index.html").read_text(encoding="utf-8")
    needs_key = "true" if state_of(request).settings.auth_required else "false"
    return HTMLResponse(html.replace("__QASR_NEEDS_KEY__", needs_key))
