"""A 2-hour recording is chunked without copying it: memory stays bounded by the chunk batches."""

from __future__ import annotations

import tracemalloc

import numpy as np

from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import AudioClip
from qasr.testing import FakeAudioSource, FakeRecognizer

TWO_HOURS = 2 * 3600 * 16_000


def test_two_hours_transcribe_with_bounded_extra_memory() -> None:
    samples = np.zeros(TWO_HOURS, dtype=np.float32)  # 460 MB
    samples[::997] = 0.1
    service = TranscriptionService(FakeAudioSource(), FakeRecognizer(), max_chunk_seconds=30.0)
    tracemalloc.start()
    try:
        transcript = service.transcribe(AudioClip(samples))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"{peak / 1e6:.0f} MB allocated beyond the input"
    chunks = transcript.chunks
    assert len(chunks) >= 240 and chunks[-1].end == TWO_HOURS / 16_000
    assert all(c.end - c.start <= 30.0 + 1e-9 for c in chunks)
