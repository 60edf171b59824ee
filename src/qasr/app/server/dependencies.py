"""The caller of a request: its key checked, its rate counted, its fingerprint in the log."""

from __future__ import annotations

from fastapi import Request

from qasr.app.server.app import state_of


def caller(request: Request) -> str:
    """The fingerprint of the caller's key (ApiError 401 / 403 / 429 otherwise)."""
    state = state_of(request)
    owner = state.keys.owner(request.headers.get("authorization"))
    request.state.owner = owner
    state.limiter.check(owner)
    return owner
