"""What `qasr serve` is told at start: where, who may call, and how much it accepts."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import attrs

from qasr.errors import InvalidInputError

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@attrs.frozen
class ServerSettings:
    """Everything the HTTP layer, the worker and the job runner are configured with.

    `api_keys` empty means no authentication, which only a loopback `host` may have (checked in
    `check`). Sizes are bytes, times seconds; `rate_limit` is requests per minute per key (0: off).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: tuple[str, ...] = ()
    data_dir: Path = Path("qasr-data")
    model_name: str = "qasr"
    max_upload_bytes: int = 100 * 1024 * 1024
    max_audio_seconds: float = 3 * 3600.0
    max_queue: int = 64
    max_jobs_queued: int = 10_000
    batch_size: int = 8
    rate_limit: int = 120
    request_timeout: float = 600.0
    job_ttl_seconds: float = 24 * 3600.0
    max_attempts: int = 3
    max_header_bytes: int = 16 * 1024
    cors_origins: tuple[str, ...] = ()
    webhook_attempts: int = 4
    webhook_backoff: float = 1.0

    def check(self) -> None:
        """Refuse settings that would expose an open server or cannot work, in one line each."""
        if not self.api_keys and not is_loopback(self.host):
            raise InvalidInputError(
                f"refusing to serve {self.host} without an API key: pass --api-key, "
                "--api-keys-file or QASR_API_KEYS, or bind --host 127.0.0.1 with --no-auth"
            )
        if any(len(key) < 8 or not key.isprintable() or " " in key for key in self.api_keys):
            raise InvalidInputError("API keys must be at least 8 printable characters, no spaces")
        for name in ("max_upload_bytes", "max_queue", "batch_size", "max_attempts"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.rate_limit < 0:
            raise InvalidInputError(f"the rate limit must be >= 0, got {self.rate_limit}")

    @property
    def auth_required(self) -> bool:
        return bool(self.api_keys)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def incoming_dir(self) -> Path:
        """Where a synchronous request's upload waits while it is decoded, then is deleted."""
        return self.data_dir / "incoming"

    @property
    def jobs_database(self) -> Path:
        return self.data_dir / "jobs.sqlite3"
