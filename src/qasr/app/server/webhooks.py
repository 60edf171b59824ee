"""Calling a job's webhook when it ends: a JSON POST, retried with growing pauses.

Calls run on a small pool of their own, so a slow or dead receiver never holds up the model or
the job runner. The URL is the client's to choose (http or https only); the body names the job
and its outcome, never the API key.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from qasr.app.server.metrics import ServerMetrics

log = logging.getLogger("qasr.server")


def check_webhook_url(url: str) -> str | None:
    """Why `url` cannot be a webhook, or None when it can."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the webhook URL must be an http:// or https:// URL, got {url!r}"
    if len(url) > 2048:
        return "the webhook URL is longer than 2048 characters"
    return None


class Webhooks:
    def __init__(
        self,
        *,
        attempts: int = 4,
        backoff: float = 1.0,
        timeout: float = 10.0,
        metrics: ServerMetrics | None = None,
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.metrics = metrics or ServerMetrics()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qasr-webhook")

    def send(self, url: str, payload: dict[str, Any]) -> Future[bool]:
        return self._pool.submit(self._deliver, url, payload)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _deliver(self, url: str, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload).encode()
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "qasr-serve"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    if 200 <= answer.status < 300:
                        self.metrics.webhooks.add(outcome="delivered")
                        return True
            except (urllib.error.URLError, OSError, ValueError) as error:
                reason = str(error)
            else:
                reason = f"status {answer.status}"
            log.warning(
                json.dumps(
                    {"event": "webhook_retry", "job": payload.get("id"), "attempt": attempt,
                     "reason": reason}
                )
            )  # fmt: skip
            if attempt < self.attempts:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        self.metrics.webhooks.add(outcome="failed")
        return False
