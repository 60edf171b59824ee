"""Bearer keys and per-key rate limits. A key is never logged or stored: jobs and log lines
carry its fingerprint (the first 16 hex digits of its SHA-256)."""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from qasr.app.server.api_errors import ApiError
from qasr.errors import InvalidInputError

ANONYMOUS = "anonymous"
KEYS_ENVIRONMENT = "QASR_API_KEYS"


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def read_keys(
    given: Sequence[str] = (), keys_file: str | None = None, environ: dict[str, str] | None = None
) -> tuple[str, ...]:
    """Keys from --api-key, one per line of --api-keys-file (# comments, blank lines skipped),
    and the comma-separated QASR_API_KEYS; repeats dropped, order kept."""
    keys = list(given)
    if keys_file is not None:
        try:
            lines = Path(keys_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInputError(
                f"cannot read the API keys file {keys_file!r}: {error}"
            ) from None
        keys += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    environment = os.environ if environ is None else environ
    keys += [part.strip() for part in environment.get(KEYS_ENVIRONMENT, "").split(",")]
    return tuple(dict.fromkeys(key for key in keys if key))


class KeyChecker:
    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = [key.encode() for key in keys]

    @property
    def required(self) -> bool:
        return bool(self._keys)

    def owner(self, authorization: str | None) -> str:
        """The caller's fingerprint from an `Authorization: Bearer KEY` header, or ApiError
        401 (no key) / 403 (a key that is not one of ours)."""
        if not self._keys:
            return ANONYMOUS
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(
                401,
                "no API key: send the header 'Authorization: Bearer YOUR_KEY'",
                code="missing_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        candidate = given.strip().encode()
        # Compare with every key, each in constant time: neither the time nor which key matched
        # tells a guesser anything.
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(candidate, key)
        if not matched:
            raise ApiError(403, "the API key is not valid for this server", code="invalid_api_key")
        return fingerprint(given.strip())


class RateLimiter:
    """A token bucket per key: `per_minute` requests, refilled evenly; 0 turns it off."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, owner: str) -> None:
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(owner, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens < 1.0:
                self._buckets[owner] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / rate)
                raise ApiError(
                    429,
                    f"rate limit of {self.per_minute} requests per minute reached; retry after "
                    f"{wait} s",
                    code="rate_limit_exceeded",
                    headers={"Retry-After": str(wait)},
                )
            self._buckets[owner] = (tokens - 1.0, now)
