"""The model worker: concurrent requests share decode batches, and that changes no result."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.app.server.support import GatedRecognizer, fake_service, tone

from qasr.app.server.worker import ModelWorker, QueueFullError, WorkItem
from qasr.domain import AudioClip, RecognitionOptions
from qasr.errors import AudioError
from qasr.testing import FakeRecognizer

PLAIN = RecognitionOptions()


def clip(seconds: float, seed: int = 0, amplitude: float = 1.0) -> AudioClip:
    return AudioClip(tone(seconds, 300.0 + 50 * seed, seed) * amplitude, 16_000, f"c{seed}")


@pytest.fixture
def gated() -> Iterator[tuple[GatedRecognizer, ModelWorker]]:
    recognizer = GatedRecognizer()
    worker = ModelWorker(fake_service(recognizer, timestamps=True), batch_size=8)
    worker.start()
    yield recognizer, worker
    recognizer.gate.set()
    worker.stop()


def test_requests_arriving_during_a_batch_share_the_next_one(
    gated: tuple[GatedRecognizer, ModelWorker],
) -> None:
    recognizer, worker = gated
    first = worker.submit(clip(1.0, 0), PLAIN)
    assert recognizer.entered.wait(10)
    later = [worker.submit(clip(1.0 + i, i), PLAIN) for i in range(1, 4)]
    recognizer.gate.set()
    results = [item.future.result(10) for item in [first, *later]]
    assert [len(batch) for batch in worker.batches] == [1, 3]
    assert [len(call) for call in recognizer.calls] == [1, 3]
    alone = fake_service(timestamps=True)
    expected = [alone.transcribe(clip(1.0 + i if i else 1.0, i)) for i in range(4)]
    assert results == expected


@settings(max_examples=25, deadline=None)
@given(
    seconds=st.lists(st.floats(0.3, 7.0), min_size=1, max_size=9),
    batch_size=st.integers(1, 6),
    stamped=st.lists(st.booleans(), min_size=9, max_size=9),
)
def test_batched_results_equal_one_by_one_and_batches_keep_their_bounds(
    seconds: list[float], batch_size: int, stamped: list[bool]
) -> None:
    service = fake_service(max_chunk_seconds=2.0, batch_size=batch_size)
    worker = ModelWorker(service, batch_size=batch_size, max_queue=100)
    clips = [clip(length, seed) for seed, length in enumerate(seconds)]
    items = [
        worker.submit(one, PLAIN, timestamps=stamped[index]) for index, one in enumerate(clips)
    ]  # all wait before the worker starts: the batching rule decides alone
    worker.start()
    try:
        results = [item.future.result(10) for item in items]
    finally:
        worker.stop()
    alone = fake_service(max_chunk_seconds=2.0)
    for index, one in enumerate(clips):
        assert results[index] == alone.transcribe(one, timestamps=stamped[index])
    numbers = [_number(item) for item in items]
    taken = [number for batch in worker.batches for number in batch]
    assert sorted(taken) == numbers, "every request in exactly one batch"
    by_number = dict(zip(numbers, items, strict=True))
    waiting = list(numbers)
    for batch in worker.batches:
        assert batch[0] == waiting[0], "the oldest waiting request always goes first"
        members = [by_number[number] for number in batch]
        assert len({member.features for member in members}) == 1
        assert len(batch) == 1 or sum(member.chunks for member in members) <= batch_size
        waiting = [number for number in waiting if number not in batch]


def _number(item: WorkItem) -> int:
    return int(item.clip.name.split("-")[-1])


def test_a_bad_request_fails_alone(gated: tuple[GatedRecognizer, ModelWorker]) -> None:
    recognizer, worker = gated
    recognizer.poison_peak = 0.8
    blocker = worker.submit(clip(0.5, 9), PLAIN)
    assert recognizer.entered.wait(10)
    good = worker.submit(clip(1.0, 1), PLAIN)
    bad = worker.submit(clip(1.0, 2, amplitude=2.0), PLAIN)
    also_good = worker.submit(clip(1.5, 3), PLAIN)
    recognizer.gate.set()
    blocker.future.result(10)
    assert good.future.result(10).text and also_good.future.result(10).text
    with pytest.raises(AudioError, match="poisoned"):
        bad.future.result(10)
    assert worker.alive


def test_a_full_line_is_refused_with_a_retry_time() -> None:
    worker = ModelWorker(fake_service(), max_queue=2)
    worker.submit(clip(1.0), PLAIN)
    worker.submit(clip(1.0), PLAIN)
    with pytest.raises(QueueFullError) as full:
        worker.submit(clip(1.0), PLAIN)
    assert full.value.retry_after >= 1
    worker.submit(clip(1.0), PLAIN, bounded=False)  # the job runner bounds its own
    assert worker.queue_depth == 3


def test_a_cancelled_request_is_never_decoded() -> None:
    recognizer = FakeRecognizer()
    worker = ModelWorker(fake_service(recognizer))
    dropped = worker.submit(clip(1.0, 1), PLAIN)
    kept = worker.submit(clip(2.0, 2), PLAIN)
    dropped.cancel()
    worker.start()
    try:
        kept.future.result(10)
    finally:
        worker.stop()
    decoded = [piece.samples for call in recognizer.calls for piece in call]
    assert len(decoded) == 1 and np.array_equal(decoded[0], kept.clip.samples)


def test_progress_rises_to_one_chunk_by_chunk() -> None:
    seen: list[float] = []
    worker = ModelWorker(fake_service(max_chunk_seconds=2.0, batch_size=1), batch_size=1)
    item = worker.submit(clip(7.0), PLAIN, on_progress=seen.append)
    worker.start()
    try:
        item.future.result(10)
    finally:
        worker.stop()
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == item.chunks > 1
