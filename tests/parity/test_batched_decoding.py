"""Batched decoding equals one-by-one decoding, token for token (issue: batching proof).

Rows differ in length (so prompts are left-padded), context, forced language and token budget.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.qwen_vocab import write_qwen_tokenizer_files

pytestmark = pytest.mark.parity
pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from qasr.adapters.mlx.recognizer import Decoded, MlxRecognizer  # noqa: E402
from qasr.adapters.mlx.text.prompt import parse_asr_output  # noqa: E402
from qasr.domain import (  # noqa: E402
    AudioClip,
    FinishReason,
    RecognitionOptions,
    find_language,
)


def _recognizer(official_checkpoint: Any, seed: int, target: Path) -> MlxRecognizer:
    checkpoint = official_checkpoint(seed=seed, weight_scale=6.0, vector_noise=0.3)
    shutil.copytree(checkpoint.folder, target, dirs_exist_ok=True)
    write_qwen_tokenizer_files(target)
    return MlxRecognizer.from_pretrained(target, dtype="float32", batch_size=3)


def _clips(speech: np.ndarray) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [
        speech,
        (rng.standard_normal(18_000) * 0.1).astype(np.float32),
        speech[8_000:40_000],
        (rng.standard_normal(50_000) * 0.05).astype(np.float32),
        speech[:12_345],
    ]


OPTIONS = [
    RecognitionOptions(max_new_tokens=20),
    RecognitionOptions(context="names: Qwen, MLX", max_new_tokens=12),
    RecognitionOptions(language="English", max_new_tokens=20),
    RecognitionOptions(language="Chinese", context="会议", max_new_tokens=5),
    RecognitionOptions(max_new_tokens=16),
]


@pytest.mark.parametrize("seed", [11, 12])
def test_batch_equals_one_by_one(
    official_checkpoint: Any, speech_16k: np.ndarray, tmp_path: Path, seed: int
) -> None:
    recognizer = _recognizer(official_checkpoint, seed, tmp_path)
    clips = _clips(speech_16k)
    alone = [recognizer.decode(clip, option) for clip, option in zip(clips, OPTIONS, strict=True)]
    together = recognizer.decode_batch(clips, OPTIONS)
    assert [d.tokens for d in together] == [d.tokens for d in alone]
    assert [d.finish_reason for d in together] == [d.finish_reason for d in alone]
    # The comparison is only meaningful if rows differ and some run out of budget.
    assert len({d.tokens for d in alone}) == len(alone)

    # recognize() batches by length (here 3 + 2, in another order than the input's) and must
    # hand each clip its own result: every text, language and finish reason as decoded alone.
    transcripts = recognizer.recognize([AudioClip(clip) for clip in clips], OPTIONS)
    expected = [_parsed(decoded, option) for decoded, option in zip(alone, OPTIONS, strict=True)]
    assert [(t.text, t.language, t.finish_reason) for t in transcripts] == expected
    # Swapped results could only pass unseen if two clips said the same thing.
    assert len({text for text, _, _ in expected}) == len(expected)


def _parsed(decoded: Decoded, option: RecognitionOptions) -> tuple[str, Any, FinishReason]:
    forced = option.language.prompt_name if option.language else None
    language, text = parse_asr_output(decoded.raw_text, user_language=forced)
    return text, find_language(language) if language else None, decoded.finish_reason


def test_worker_threads_and_async_use_the_model_safely(
    official_checkpoint: Any, speech_16k: np.ndarray, tmp_path: Path
) -> None:
    """MLX streams are per thread: a model loaded here must decode the same on other threads,
    also when several threads share it at once (the recognizer serialises them)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from qasr import Session

    recognizer = _recognizer(official_checkpoint, 11, tmp_path)
    clip, option = speech_16k[:30_000], RecognitionOptions(max_new_tokens=10)
    expected = recognizer.decode(clip, option).tokens
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: recognizer.decode(clip, option).tokens, range(4)))
    assert results == [expected] * 4

    session = Session(recognizer)
    text = session.transcribe(clip, max_new_tokens=10).text
    assert asyncio.run(session.transcribe_async(clip, max_new_tokens=10)).text == text
