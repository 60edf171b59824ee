"""Reused stream work (encoder windows, the prompt's KV rows) is the work recomputed, bit for bit.

On the demo model: a stream's steps decoded with reuse on and off must give the same tokens and
the same prefill (the KV cache and the last hidden state, compared as bits), while the counters
show the reuse happened; a window whose log-mel changed (louder audio later moves the clamp
floor) must be encoded again; and the window-by-window encoding must be the whole clip's
encoding up to float rounding (the tail's short last chunk padded as inside the clip).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.support.demo_model import STREAM_TEST_MODEL, needs_stream_model, prefix_recognizer

from qasr.domain import RecognitionOptions
from qasr.ports import ContinuationOptions

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
pytestmark = needs_stream_model
RATE = 16000


@pytest.fixture(scope="module")
def recognizer():  # type: ignore[no-untyped-def]
    return prefix_recognizer()


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    from qasr import load_audio

    clips = [load_audio(EXAMPLES / name) for name in ("tiny-en-1.wav", "tiny-en-2.wav")]
    pause = np.zeros(RATE // 2, np.float32)
    return np.concatenate([clips[0], pause, clips[1], pause] * 3)  # ~25 s: 3 windows


def options(reuse: bool, prefix: str = "") -> ContinuationOptions:
    return ContinuationOptions(language="English", prefix=prefix, reuse_work=reuse)


def prefill_bits(recognizer, samples: np.ndarray, reuse: bool) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    with recognizer.thinker.lock:
        prefill = recognizer._prefill([samples], [options(reuse)])
        arrays = [prefill.hidden[0, -1]]
        for layer in prefill.cache:
            arrays += list(layer.state)
        return [np.array(array) for array in arrays]


def test_steps_decode_the_same_bits_with_reuse_on_and_off(recognizer, speech) -> None:  # type: ignore[no-untyped-def]
    from qasr.adapters.mlx.stream_reuse import StreamWork

    recognizer.work = StreamWork()
    counters = recognizer.work.counters
    for seconds in range(4, int(len(speech) / RATE), 3):
        step = speech[: seconds * RATE]
        off = prefill_bits(recognizer, step, reuse=False)
        on = prefill_bits(recognizer, step, reuse=True)
        assert len(on) == len(off)
        for ours, theirs in zip(on, off, strict=True):
            assert ours.shape == theirs.shape and ours.tobytes() == theirs.tobytes(), seconds
        (free,) = recognizer.decode_batch([step], [options(False)])
        (reused,) = recognizer.decode_batch([step], [options(True)])
        assert reused.tokens == free.tokens, seconds
        # A forced prefix (the steps after the first two) changes only the rows after the audio.
        prefix = recognizer.tokenizer.decode(list(free.tokens[:3]), skip_special_tokens=True)
        (free,) = recognizer.decode_batch([step], [options(False, prefix)])
        (reused,) = recognizer.decode_batch([step], [options(True, prefix)])
        assert reused.tokens == free.tokens, seconds
    # It did reuse: complete windows from the cache, the rows before the tail from the KV store.
    assert counters.windows_reused >= 4
    assert counters.rows_reused > 300


def test_a_window_whose_log_mel_changed_is_encoded_again(recognizer, speech) -> None:  # type: ignore[no-untyped-def]
    from qasr.adapters.mlx.stream_reuse import StreamWork

    recognizer.work = StreamWork()
    counters = recognizer.work.counters
    first = speech[: 12 * RATE]
    recognizer.decode_batch([first], [options(True)])
    recognizer.decode_batch([first], [options(True)])
    assert counters.windows_reused == 1  # window 0 (frames 0-800) came from the cache
    # Much louder audio after it raises the clamp floor (maximum - 8) of the whole clip, so
    # window 0's quiet mel bins change: a position-keyed cache would now be stale.
    louder = np.concatenate([first, 8 * speech[12 * RATE : 14 * RATE]]).clip(-1, 1)
    reused_before = counters.windows_reused
    (reused,) = recognizer.decode_batch([louder], [options(True)])
    assert counters.windows_reused == reused_before
    (free,) = recognizer.decode_batch([louder], [options(False)])
    assert reused.tokens == free.tokens


@pytest.mark.parametrize("seconds", [7.9, 8.5, 16.3, 20.0, 25.0])
def test_window_by_window_is_the_whole_clip_encoding(recognizer, speech, seconds: float) -> None:  # type: ignore[no-untyped-def]
    from qasr.adapters.mlx.backend import mx
    from qasr.adapters.mlx.model.mel import log_mel_spectrogram
    from qasr.adapters.mlx.stream_reuse import StreamWork

    encoder = recognizer.thinker.model.audio_tower
    samples = speech[: round(seconds * RATE)]
    whole = np.array(encoder(log_mel_spectrogram(samples)))
    mel = log_mel_spectrogram(samples, frames_per_chunk=encoder.config.window_frames)
    windowed, segments = StreamWork().encode(encoder, mel, mx.float32, reuse=False)
    assert sum(segment.rows for segment in segments) == whole.shape[0]
    # Equal but for rounding (BLAS rounds a row by how many rows it multiplies with it); an
    # unpadded tail chunk would differ by far more in its last token.
    np.testing.assert_allclose(np.array(windowed), whole, rtol=0, atol=3e-4 * np.abs(whole).max())


def test_one_off_decodes_are_untouched(recognizer, speech) -> None:  # type: ignore[no-untyped-def]
    from qasr.adapters.mlx.recognizer import MlxRecognizer

    plain = MlxRecognizer(recognizer.thinker, recognizer.tokenizer, source=STREAM_TEST_MODEL)
    counters = recognizer.work.counters
    before = (counters.frames_encoded, counters.rows_prefilled)
    clip = speech[: 10 * RATE]
    ours = recognizer.decode_batch([clip], [RecognitionOptions(language="English")])
    theirs = plain.decode_batch([clip], [RecognitionOptions(language="English")])
    assert ours[0].tokens == theirs[0].tokens
    assert (counters.frames_encoded, counters.rows_prefilled) == before
