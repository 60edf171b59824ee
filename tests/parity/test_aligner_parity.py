"""The forced aligner end to end: the same random checkpoint in qasr and in the official one.

The official side is `qwen_asr.Qwen3ForcedAligner.align`, built directly from the official model,
a `Qwen3ASRProcessor` on the same tokenizer files and `Qwen3ForceAlignProcessor`; it gets the
same samples, text and language. Words and times must be identical (times are whole
milliseconds, so equality is exact), and so must the prompt ids.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from tests.support.official import REAL_TOKEN_IDS, TINY_AUDIO, TINY_TEXT
from tests.support.qwen_vocab import write_qwen_tokenizer_files

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from qasr.adapters.mlx.aligner import MlxAligner, TimestampClasses  # noqa: E402
from qasr.adapters.mlx.backend import mx  # noqa: E402
from qasr.adapters.mlx.checkpoint.reading import load_thinker  # noqa: E402
from qasr.adapters.mlx.text.tokenizer import Tokenizer  # noqa: E402

# The released Qwen3-ForcedAligner-0.6B's head and timestamp settings.
ALIGNER_FIELDS = {"classify_num": 5000, "timestamp_token_id": 151705, "timestamp_segment_time": 80}
SAMPLE_RATE = 16_000
NEAR_TIE = 1e-4  # relative to the largest logit: where float32 rounding may pick either class

ENGLISH = "The quick brown fox, jumps over the lazy dog! It's 2024 and MLX runs fast."
CHINESE = "今天天气很好，我们去公园散步吧。语音识别把说的话变成文字。"
MIXED = "我们用 MLX 跑 Qwen3-ASR 模型，速度 fast 又 stable！"


def build_official_aligner(
    seed: int,
    audio: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
    weight_scale: float = 1.0,
    vector_noise: float = 0.0,
    audio_scale: float = 1.0,
) -> Any:
    """A float32 official Qwen3ASRForConditionalGeneration configured as the forced aligner.

    `weight_scale` multiplies the decoder's and the head's matrices, so the argmaxes vary;
    `audio_scale` the audio encoder's. Scaled much, the audio encoder turns chaotic (its
    attention goes one-hot and float32 rounding picks the key), which tests nothing useful.
    """
    from qwen_asr.core.transformers_backend import Qwen3ASRConfig, Qwen3ASRForConditionalGeneration

    thinker = {
        "audio_config": {**TINY_AUDIO, **(audio or {})},
        "text_config": {**TINY_TEXT, **(text or {})},
        **REAL_TOKEN_IDS,
        "model_type": "qwen3_forced_aligner",
        "classify_num": ALIGNER_FIELDS["classify_num"],
    }
    config = Qwen3ASRConfig(
        thinker_config=thinker,
        timestamp_token_id=ALIGNER_FIELDS["timestamp_token_id"],
        timestamp_segment_time=ALIGNER_FIELDS["timestamp_segment_time"],
    )
    torch.manual_seed(seed)
    model = Qwen3ASRForConditionalGeneration(config).float().eval()
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim >= 2:
                param.mul_(audio_scale if ".audio_tower." in f".{name}" else weight_scale)
            elif vector_noise:
                param.add_(vector_noise * torch.randn(param.shape, generator=generator))
    assert model.thinker.lm_head.weight.shape[0] == ALIGNER_FIELDS["classify_num"]
    return model


def save_aligner(model: Any, folder: Path, *, tokenizer: bool = True) -> Path:
    """save_pretrained, with the thinker's model_type put back as the released config has it
    (transformers writes the class default), plus the aligner's tokenizer files."""
    model.save_pretrained(str(folder), safe_serialization=True)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["thinker_config"]["model_type"] = "qwen3_forced_aligner"
    config_path.write_text(json.dumps(config))
    return write_qwen_tokenizer_files(folder, aligner=True) if tokenizer else folder


@pytest.fixture(scope="module")
def tokenizer_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_qwen_tokenizer_files(tmp_path_factory.mktemp("aligner-tok"), aligner=True)


@pytest.fixture(scope="module")
def tokenizer(tokenizer_folder: Path) -> Tokenizer:
    return Tokenizer.from_folder(tokenizer_folder)


@pytest.fixture(scope="module")
def official_processor(tokenizer_folder: Path) -> Any:
    from qwen_asr.core.transformers_backend.processing_qwen3_asr import Qwen3ASRProcessor
    from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

    tokenizer = Qwen2TokenizerFast.from_pretrained(str(tokenizer_folder))
    tokenizer.audio_token = "<|audio_pad|>"
    tokenizer.audio_bos_token = "<|audio_start|>"
    tokenizer.audio_eos_token = "<|audio_end|>"
    return Qwen3ASRProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer
    )


def official_aligner(model: Any, processor: Any) -> Any:
    from qwen_asr.inference.qwen3_forced_aligner import (
        Qwen3ForceAlignProcessor,
        Qwen3ForcedAligner,
    )

    return Qwen3ForcedAligner(model, processor, Qwen3ForceAlignProcessor())


class OfficialRun(NamedTuple):
    words: list[tuple[str, float, float]]  # Qwen3ForcedAligner.align's items
    prompt_ids: list[int]
    timestamp_logits: np.ndarray  # [2 * words, classify_num], at the <timestamp> tokens


def run_official(aligner: Any, samples: np.ndarray, text: str, language: str) -> OfficialRun:
    """`Qwen3ForcedAligner.align`, with its prompt and head output caught on the way."""
    seen: dict[str, Any] = {}

    def catch_inputs(module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        seen["input_ids"] = kwargs["input_ids"][0]

    def catch_logits(module: Any, args: Any, output: Any) -> None:
        seen["logits"] = output[0]

    thinker = aligner.model.thinker
    hooks = [
        thinker.register_forward_pre_hook(catch_inputs, with_kwargs=True),
        thinker.lm_head.register_forward_hook(catch_logits),
    ]
    try:
        [result] = aligner.align(audio=(samples, SAMPLE_RATE), text=text, language=language)
    finally:
        for hook in hooks:
            hook.remove()
    input_ids = seen["input_ids"]
    logits = seen["logits"][input_ids == aligner.timestamp_token_id]
    return OfficialRun(
        [(item.text, item.start_time, item.end_time) for item in result],
        input_ids.tolist(),
        logits.numpy(),
    )


def official_times_for(aligner: Any, words: Sequence[str], classes: Sequence[int]) -> list:
    """The official post-processing (`parse_timestamp`, then `align`'s rounding) of `classes`."""
    milliseconds = (torch.tensor(list(classes)) * aligner.timestamp_segment_time).numpy()
    items = aligner.aligner_processor.parse_timestamp(list(words), milliseconds)
    return [
        (it["text"], round(it["start_time"] / 1000.0, 3), round(it["end_time"] / 1000.0, 3))
        for it in items
    ]


def check_against_official(
    aligner: MlxAligner, official: Any, samples: np.ndarray, text: str, language: str
) -> TimestampClasses:
    """Same prompt, same classes and same words and times as the official aligner.

    float32 logits differ by ~1e-6 relative, so a class may differ where the official top two
    logits are within NEAR_TIE of each other; then the official post-processing of our classes
    must give our times, and such flips must stay rare.
    """
    theirs = run_official(official, samples, text, language)
    raw = aligner.timestamp_classes(samples, text, language)
    assert list(raw.prompt_ids) == theirs.prompt_ids
    logits = theirs.timestamp_logits
    their_classes = logits.argmax(-1)
    flips = np.nonzero(np.array(raw.classes) != their_classes)[0]
    scale = np.abs(logits).max()
    for index in flips:
        row = logits[index]
        assert row.max() - row[raw.classes[index]] <= NEAR_TIE * scale, f"class {index} differs"
    assert len(flips) <= max(1, len(raw.classes) // 100)
    expected = (
        theirs.words if len(flips) == 0 else official_times_for(official, raw.words, raw.classes)
    )
    assert [(w.text, w.start, w.end) for w in aligner.timed_words(raw)] == expected
    return raw


def noise(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 0.1).astype(np.float32)


def clip_of(speech: np.ndarray, seconds: float) -> np.ndarray:
    """`seconds` of the espeak speech, repeated as needed, with a little noise."""
    size = int(seconds * SAMPLE_RATE)
    tiled = np.tile(speech, size // speech.size + 1)[:size]
    return (0.8 * tiled + noise(seconds, size)).astype(np.float32)


@pytest.fixture(scope="module")
def cases(speech_16k: np.ndarray) -> list[tuple[np.ndarray, str, str]]:
    """(samples, text, language): English, Chinese and mixed text, clips from 1 s to 60 s."""
    return [
        (clip_of(speech_16k, 1.0), "hello world", "English"),
        (clip_of(speech_16k, 6.5), ENGLISH, "English"),
        (noise(3.2, 1), CHINESE, "Chinese"),
        (clip_of(speech_16k, 12.0), MIXED, "Chinese"),
        (clip_of(speech_16k, 2.4), MIXED, "English"),
        (noise(30.0, 2), ENGLISH + " " + ENGLISH, "English"),
        (clip_of(speech_16k, 60.0), " ".join([ENGLISH, CHINESE, MIXED] * 3), "English"),
    ]


SCALE = dict(weight_scale=6.0, vector_noise=0.3)


def test_words_and_times_identical_for_twenty_checkpoints(
    cases: list[tuple[np.ndarray, str, str]],
    official_processor: Any,
    tokenizer: Tokenizer,
    tmp_path: Path,
) -> None:
    classes_seen: set[int] = set()
    varied = repaired = 0
    for seed in range(20):
        model = build_official_aligner(seed, **SCALE)
        folder = save_aligner(model, tmp_path / f"seed{seed}", tokenizer=False)
        aligner = MlxAligner(load_thinker(folder, mx.float32), tokenizer, source=str(folder))
        samples, text, language = cases[seed % len(cases)]
        official = official_aligner(model, official_processor)
        raw = check_against_official(aligner, official, samples, text, language)
        classes_seen.update(raw.classes)
        varied += len(set(raw.classes)) > 1
        repaired += list(raw.classes) != sorted(raw.classes)
        shutil.rmtree(folder)
    # The comparison means something only if the argmaxes vary and the repair has work to do.
    print(f"{len(classes_seen)} classes, {varied} varied, {repaired} repaired")
    assert len(classes_seen) >= 50 and varied >= 15
    assert repaired >= 10


def test_the_released_layout_loads_through_from_pretrained(
    speech_16k: np.ndarray, official_processor: Any, tmp_path: Path
) -> None:
    model = build_official_aligner(seed=42, **SCALE)
    aligner = MlxAligner.from_pretrained(save_aligner(model, tmp_path), dtype="float32")
    assert aligner.model_info()["classify_num"] == ALIGNER_FIELDS["classify_num"]
    official = official_aligner(model, official_processor)
    check_against_official(aligner, official, clip_of(speech_16k, 4.0), CHINESE, "Chinese")


@pytest.mark.slow
def test_full_size_06b_aligner(
    speech_16k: np.ndarray, official_processor: Any, tokenizer: Tokenizer, tmp_path: Path
) -> None:
    from tests.support.official import FULL_06B_AUDIO, FULL_06B_TEXT

    # The aligner's head is its own (5000 classes), so the embedding is not tied to it.
    model = build_official_aligner(
        seed=7, audio=FULL_06B_AUDIO, text={**FULL_06B_TEXT, "tie_word_embeddings": False}
    )
    folder = save_aligner(model, tmp_path, tokenizer=False)
    aligner = MlxAligner(load_thinker(folder, mx.float32), tokenizer, source=str(folder))
    official = official_aligner(model, official_processor)
    raw = check_against_official(aligner, official, clip_of(speech_16k, 8.0), MIXED, "English")
    assert len(set(raw.classes)) > 1
