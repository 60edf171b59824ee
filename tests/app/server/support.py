"""What the server tests share: test audio on disk, services of fakes, a live uvicorn server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from qasr.adapters.audio import DefaultAudioSource, write_wav
from qasr.adapters.jobs import MemoryJobStore, SqliteJobStore
from qasr.app.server.app import create_app
from qasr.app.server.settings import ServerSettings
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import AudioClip, RecognitionOptions, Transcript
from qasr.errors import AudioError
from qasr.ports import Diarizer, JobStore, Recognizer
from qasr.testing import FakeAligner, FakeRecognizer

KEY = "test-key-alpha-0001"
OTHER_KEY = "test-key-bravo-0002"
RATE = 16_000


def tone(seconds: float, hz: float = 440.0, seed: int = 0) -> np.ndarray:
    times = np.arange(int(seconds * RATE)) / RATE
    noise = 0.01 * np.random.default_rng(seed).standard_normal(times.size)
    return (0.4 * np.sin(2 * np.pi * hz * times) + noise).astype(np.float32)


def write_tone(path: Path, seconds: float, hz: float = 440.0, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, tone(seconds, hz, seed), RATE)
    return path


@attrs.define
class GatedRecognizer:
    """A `FakeRecognizer` that waits at each call until the test opens `gate`, so requests can
    pile up while a batch "decodes"; clips louder than `poison_peak` raise AudioError."""

    inner: FakeRecognizer = attrs.field(factory=FakeRecognizer)
    gate: threading.Event = attrs.field(factory=threading.Event)
    entered: threading.Event = attrs.field(factory=threading.Event)
    poison_peak: float | None = None
    delay: float = 0.0

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        time.sleep(self.delay)
        if self.poison_peak is not None and any(
            float(np.max(np.abs(clip.samples))) > self.poison_peak for clip in clips
        ):
            raise AudioError("this clip is poisoned (test)")
        return self.inner.recognize(clips, options)

    @property
    def calls(self) -> list[tuple[AudioClip, ...]]:
        return self.inner.calls


def fake_service(
    recognizer: Recognizer | None = None,
    *,
    timestamps: bool = True,
    diarizer: Diarizer | None = None,
    batch_size: int | None = 8,
    max_chunk_seconds: float = 30.0,
) -> TranscriptionService:
    return TranscriptionService(
        DefaultAudioSource(),
        recognizer or FakeRecognizer(),
        FakeAligner() if timestamps else None,
        diarizer,
        max_chunk_seconds=max_chunk_seconds,
        batch_size=batch_size,
    )


def settings(tmp_path: Path, **changes: Any) -> ServerSettings:
    base: dict[str, Any] = {
        "api_keys": (KEY, OTHER_KEY),
        "data_dir": tmp_path / "data",
        "model_name": "fake-model",
        "rate_limit": 0,
        "webhook_backoff": 0.05,
    }
    return ServerSettings(**(base | changes))


def make_app(
    tmp_path: Path,
    service: TranscriptionService | None = None,
    store: JobStore | None = None,
    **changes: Any,
) -> Any:
    chosen = settings(tmp_path, **changes)
    return create_app(service or fake_service(), store or MemoryJobStore(), chosen)


def sqlite_store(tmp_path: Path) -> SqliteJobStore:
    return SqliteJobStore(tmp_path / "data" / "jobs.sqlite3")


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def live_server(app: Any) -> Iterator[str]:
    """`app` under a real uvicorn on 127.0.0.1 and a free port, in a thread; yields its URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http="h11", log_level="warning",
        h11_max_incomplete_event_size=1024 * 1024,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped while starting"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def wait_until(condition: Any, timeout: float = 20.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
