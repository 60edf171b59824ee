"""Session: batching with per-item options, async use, worker threads, model info."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qasr import Session
from qasr.errors import InvalidInputError
from qasr.testing import FakeRecognizer


def tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * 16_000)) / 16_000
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.fixture
def session() -> Session:
    return Session(FakeRecognizer())


def test_batch_equals_one_by_one_with_per_item_options(session: Session) -> None:
    audios = [tone(1.0, 220), tone(2.5, 330), tone(0.7, 440)]
    languages = ["English", None, "zh"]
    contexts = ["a", "", "c"]
    together = session.transcribe_batch(audios, language=languages, context=contexts)
    alone = [
        session.transcribe(audio, language=lang, context=ctx)
        for audio, lang, ctx in zip(audios, languages, contexts, strict=True)
    ]
    assert together == alone
    assert together[2].language is not None and together[2].language.name == "Chinese"


def test_batch_rejects_lists_of_the_wrong_length(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="2 inputs but 3 values for language"):
        session.transcribe_batch([tone(1, 100)] * 2, language=["en", "en", "en"])


def test_async_matches_sync(session: Session) -> None:
    audio = tone(1.5, 250)

    async def both() -> list[object]:
        one = await session.transcribe_async(audio, language="English")
        many = await session.transcribe_batch_async([audio, audio])
        return [one, many]

    one, many = asyncio.run(both())
    assert one == session.transcribe(audio, language="English")
    assert many == session.transcribe_batch([audio, audio])


def test_worker_threads_give_the_same_result(session: Session) -> None:
    audio = tone(2.0, 300)
    expected = session.transcribe(audio)
    threads: set[int] = set()

    def work(_: int) -> object:
        threads.add(threading.get_ident())
        return session.transcribe(audio)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(work, range(6)))
    assert all(result == expected for result in results)
    assert threading.get_ident() not in threads


def test_model_info_of_a_plain_recognizer(session: Session) -> None:
    assert session.model_info() == {"recognizer": "FakeRecognizer"}
