"""What the two MLX port adapters promise beyond their contracts: one computation at a time per
model (worker threads may share them), and a trimmed repetition loop reported as such."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from qasr.domain import AudioClip, FinishReason, RecognitionOptions

pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from qasr.adapters.mlx import aligner as aligner_module
from qasr.adapters.mlx import recognizer as recognizer_module
from qasr.adapters.mlx.recognizer import Decoded, MlxRecognizer

pytestmark = pytest.mark.parity  # the tiny checkpoints are built with the official classes


@pytest.fixture(scope="module")
def tiny_asr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.official import build_official_model, save_official_checkpoint
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    folder = tmp_path_factory.mktemp("tiny-asr")
    save_official_checkpoint(build_official_model(seed=0), folder)
    write_qwen_tokenizer_files(folder)
    return folder


@pytest.fixture(scope="module")
def recognizer(tiny_asr: Path) -> MlxRecognizer:
    return MlxRecognizer.from_pretrained(tiny_asr)


def test_a_model_loaded_on_one_thread_transcribes_on_another(tiny_asr: Path) -> None:
    # MLX streams are thread-local: an array left lazy at load keeps the loading thread's
    # stream, and a server or asyncio.to_thread then fails on its first request.
    clip = AudioClip(np.sin(np.linspace(0, 2000, 16000)).astype(np.float32) * 0.3, 16000)
    found: dict[str, Any] = {}

    def run(name: str, work: Callable[[], Any]) -> None:
        try:
            found[name] = work()
        except Exception as error:  # reported below, with the thread's name
            found[name] = error

    def in_thread(name: str, work: Callable[[], Any]) -> Any:
        thread = threading.Thread(target=run, args=(name, work))
        thread.start()
        thread.join()
        if isinstance(found[name], Exception):
            raise AssertionError(f"{name}: {found[name]!r}")
        return found[name]

    loaded = in_thread("load", lambda: MlxRecognizer.from_pretrained(tiny_asr))
    options = [RecognitionOptions(max_new_tokens=6)]
    elsewhere = in_thread("use", lambda: loaded.recognize([clip], options)[0].text)
    assert elsewhere == MlxRecognizer.from_pretrained(tiny_asr).recognize([clip], options)[0].text


@pytest.fixture(scope="module")
def aligner(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.parity.test_aligner_parity import build_official_aligner, save_aligner

    folder = save_aligner(build_official_aligner(seed=0), tmp_path_factory.mktemp("tiny-al"))
    return aligner_module.MlxAligner.from_pretrained(folder)


def clip(seed: int) -> AudioClip:
    rng = np.random.default_rng(seed)
    return AudioClip((0.1 * rng.standard_normal(8_000)).astype(np.float32))


def count_overlaps(module: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the module's function `name` (a step the model computes) slow and record how many
    computations are inside it at once."""
    inside: list[int] = []
    active = [0]
    guard = threading.Lock()
    original = getattr(module, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        with guard:
            active[0] += 1
            inside.append(active[0])
        time.sleep(0.05)
        try:
            return original(*args, **kwargs)
        finally:
            with guard:
                active[0] -= 1

    monkeypatch.setattr(module, name, slow)
    return inside


def run_threads(work: Callable[[int], Any], count: int = 4) -> list[Any]:
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_aligner_computes_one_clip_at_a_time(
    aligner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = [aligner.align(clip(seed), "hello big world", None) for seed in range(4)]
    inside = count_overlaps(aligner_module, "log_mel_spectrogram", monkeypatch)
    together = run_threads(lambda seed: aligner.align(clip(seed), "hello big world", None))
    assert len(inside) == 4 and max(inside) == 1
    assert together == alone


def test_the_recognizer_computes_one_batch_at_a_time(
    recognizer: MlxRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = RecognitionOptions(max_new_tokens=4)
    alone = [recognizer.recognize([clip(seed)], [options]) for seed in range(4)]
    # The log-mels are host work in threads of their own; decoding holds the model.
    inside = count_overlaps(recognizer_module, "greedy_generate", monkeypatch)
    together = run_threads(lambda seed: recognizer.recognize([clip(seed)], [options]))
    assert len(inside) == 4 and max(inside) == 1
    assert together == alone


def test_a_batch_is_encoded_group_by_group_as_its_log_mels_arrive(
    tiny_asr: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = MlxRecognizer.from_pretrained(tiny_asr, batch_size=7)
    clips, options = [clip(seed) for seed in range(7)], [RecognitionOptions(max_new_tokens=4)] * 7
    whole = batched.recognize(clips, options)
    encoder = batched.thinker.model.audio_tower
    original, sizes = encoder.encode_batch, []

    def encode(mels: list[Any], **kwargs: Any) -> Any:
        sizes.append(len(mels))
        return original(mels, **kwargs)

    monkeypatch.setattr(encoder, "encode_batch", encode)
    monkeypatch.setattr(recognizer_module, "ENCODE_GROUP", 3)
    assert batched.recognize(clips, options) == whole
    assert sizes == [3, 3, 1]


@pytest.mark.parametrize("decoder_reason", [FinishReason.STOP, FinishReason.LENGTH])
def test_a_trimmed_repetition_loop_is_reported(decoder_reason: FinishReason) -> None:
    looped = Decoded(
        prompt_ids=(),
        tokens=(),
        finish_reason=decoder_reason,
        raw_text="language English<asr_text>" + "yes " * 40,
    )
    transcript = MlxRecognizer._transcript(clip(0), RecognitionOptions(), looped)
    assert transcript.finish_reason is FinishReason.REPETITION
    assert transcript.text.count("yes") < 40
    plain = attrs.evolve(looped, raw_text="language English<asr_text>yes it is")
    assert MlxRecognizer._transcript(clip(0), RecognitionOptions(), plain).finish_reason is (
        decoder_reason
    )
