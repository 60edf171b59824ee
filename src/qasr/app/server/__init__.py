"""`qasr serve`: an HTTP server with durable jobs, the OpenAI audio API, keys and limits, and a
web page (docs/adr/0017).

Importing this package needs nothing beyond qasr; `create_app` and `run_server` need the
`serve` extra (FastAPI, uvicorn, python-multipart) and say so in one line when it is missing.
"""

from __future__ import annotations

from typing import Any

from qasr.app.server.settings import ServerSettings, is_loopback
from qasr.errors import MissingExtraError

_EXTRA = (("fastapi", "fastapi"), ("uvicorn", "uvicorn"), ("multipart", "python-multipart"))


def require_serve_extra() -> None:
    """Raise `MissingExtraError` naming `pip install "qasr[serve]"` when a package is missing."""
    import importlib.util

    for module, package in _EXTRA:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(package, "serve", "qasr serve")


def create_app(*args: Any, **kwargs: Any) -> Any:
    """The FastAPI application (see qasr.app.server.app.create_app)."""
    require_serve_extra()
    from qasr.app.server.app import create_app as build

    return build(*args, **kwargs)


def run_server(app: Any, settings: ServerSettings) -> None:
    require_serve_extra()
    from qasr.app.server.app import run_server as serve

    serve(app, settings)


__all__ = ["ServerSettings", "create_app", "is_loopback", "require_serve_extra", "run_server"]
