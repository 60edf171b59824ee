"""`qasr serve`: load one model and answer HTTP requests (docs/adr/0017).

Everything that can be refused is refused before the model loads: no key on an open address,
unreadable key files, a missing `serve` extra.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qasr.app import bootstrap
from qasr.app.entry.cli_support import Parser, positive_int, run_command
from qasr.errors import InvalidInputError

SERVE_USAGE = "qasr serve [--host HOST] [--port PORT] [--model MODEL] (--api-key KEY | --no-auth)"
_MB = 1024 * 1024


def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr serve",
        usage=SERVE_USAGE,
        description="Serve one model over HTTP: durable jobs (/v1/jobs), the OpenAI audio API "
        "(/v1/audio/transcriptions), /health, /ready, /metrics and a web page at /. Requests "
        "that arrive together share decode batches. Keys come from --api-key, --api-keys-file "
        "and QASR_API_KEYS (comma-separated).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--model",
        default=bootstrap.DEFAULT_MODEL,
        help=f"Hugging Face repo id or local folder (default: {bootstrap.DEFAULT_MODEL})",
    )
    parser.add_argument("--dtype", help="float32, bfloat16 or float16 (default: by device)")
    parser.add_argument("--api-key", action="append", default=[], help="a key (repeatable)")
    parser.add_argument("--api-keys-file", help="a file of keys, one per line")
    parser.add_argument(
        "--no-auth", action="store_true", help="accept requests without a key (loopback only)"
    )
    parser.add_argument(
        "--data-dir", default="qasr-data", help="jobs and uploads (default: ./qasr-data)"
    )
    parser.add_argument("--max-upload-mb", type=positive_int, default=100, help="default: 100")
    parser.add_argument(
        "--max-audio-minutes", type=positive_int, default=180, help="per file (default: 180)"
    )
    parser.add_argument(
        "--max-queue", type=positive_int, default=64, help="requests waiting (default: 64)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, help="chunks decoded together (default: 8)"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=120, help="requests per minute per key; 0: off"
    )
    parser.add_argument(
        "--request-timeout", type=positive_int, default=600, help="seconds (default: 600)"
    )
    parser.add_argument(
        "--job-ttl-hours", type=float, default=24.0, help="keep finished jobs (default: 24)"
    )
    parser.add_argument(
        "--timestamps", action="store_true", help="load the forced aligner: srt, vtt, words"
    )
    parser.add_argument("--forced-aligner", metavar="MODEL", default=bootstrap.DEFAULT_ALIGNER)
    parser.add_argument(
        "--diarize", action="store_true", help="load a speaker diarizer: diarized_json"
    )
    parser.add_argument(
        "--cors-origin", action="append", default=[], help="allow this web origin (repeatable)"
    )
    parser.add_argument("--verbose", action="store_true", help="tracebacks on errors")
    return parser


def serve_settings(args: argparse.Namespace) -> Any:
    """The server's settings from the arguments, checked (no model is loaded)."""
    from qasr.app.server.auth import read_keys
    from qasr.app.server.settings import ServerSettings

    keys = read_keys(args.api_key, args.api_keys_file)
    if args.no_auth and keys:
        raise InvalidInputError("--no-auth and API keys contradict each other; pass one of them")
    if not args.no_auth and not keys:
        raise InvalidInputError(
            "qasr serve needs an API key: pass --api-key KEY, --api-keys-file FILE or set "
            "QASR_API_KEYS; or --no-auth to serve 127.0.0.1 without keys"
        )
    settings = ServerSettings(
        host=args.host,
        port=args.port,
        api_keys=keys,
        data_dir=Path(args.data_dir),
        model_name=Path(args.model.rstrip("/")).name or args.model,
        max_upload_bytes=args.max_upload_mb * _MB,
        max_audio_seconds=args.max_audio_minutes * 60.0,
        max_queue=args.max_queue,
        batch_size=args.batch_size,
        rate_limit=args.rate_limit,
        request_timeout=float(args.request_timeout),
        job_ttl_seconds=args.job_ttl_hours * 3600.0,
        cors_origins=tuple(args.cors_origin),
    )
    settings.check()
    return settings


def _serve(args: argparse.Namespace, build_service: Callable[..., Any]) -> int:
    from qasr.app import server

    settings = serve_settings(args)
    server.require_serve_extra()
    wanted: dict[str, Any] = {
        "model": args.model,
        "dtype": args.dtype,
        "timestamps": args.timestamps,
        "batch_size": args.batch_size,
    }
    if args.diarize:
        wanted["diarize"] = True
    if args.timestamps:
        wanted["forced_aligner"] = args.forced_aligner
    store = bootstrap.build_job_store(settings.jobs_database)
    # The model loads on the worker's thread (MLX streams are per thread); a loading error is
    # raised here, before the server opens its port.
    app = server.create_app(lambda: build_service(**wanted), store, settings)
    app.state.qasr.worker.start()
    app.state.qasr.worker.wait_loaded()
    print(
        f"qasr: serving {settings.model_name} on http://{settings.host}:{settings.port} "
        f"(data in {settings.data_dir})",
        flush=True,
    )
    server.run_server(app, settings)
    return 0


def serve_command(words: Sequence[str], *, build_service: Callable[..., Any] | None = None) -> int:
    body = lambda args: _serve(args, build_service or bootstrap.build_service)  # noqa: E731
    return run_command(_build_parser(), words, body, interrupted="stopped", report_bugs=True)
