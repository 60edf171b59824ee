"""End to end: the same random checkpoint folder in qasr and in the official transformers backend.

The official side runs exactly what `Qwen3ASRModel._infer_asr_transformers` runs: the
`Qwen3ASRProcessor` (WhisperFeatureExtractor + Qwen2TokenizerFast, `<|audio_pad|>` expansion)
and `generate()` with its default EOS ids; we compare token ids, not decoded text.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from tests.support.qwen_vocab import write_qwen_tokenizer_files

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.adapters.mlx.text.prompt import build_prompt  # noqa: E402
from qasr.domain import RecognitionOptions  # noqa: E402

# Large enough weights that random models say different things (std 0.02 repeats one token).
SCALE = dict(weight_scale=6.0, vector_noise=0.3)
NEW_TOKENS = 24


@pytest.fixture(scope="module")
def official_processor(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from qwen_asr.core.transformers_backend.processing_qwen3_asr import Qwen3ASRProcessor
    from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

    folder = write_qwen_tokenizer_files(tmp_path_factory.mktemp("tokenizer"))
    tokenizer = Qwen2TokenizerFast.from_pretrained(str(folder))
    tokenizer.audio_token = "<|audio_pad|>"
    tokenizer.audio_bos_token = "<|audio_start|>"
    tokenizer.audio_eos_token = "<|audio_end|>"
    return Qwen3ASRProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer
    )


def qasr_folder(official_folder: Path, target: Path) -> Path:
    """The official save plus the tokenizer files: a complete checkpoint folder."""
    shutil.copytree(official_folder, target, dirs_exist_ok=True)
    return write_qwen_tokenizer_files(target)


def official_tokens(
    model: Any,
    processor: Any,
    samples: np.ndarray,
    options: RecognitionOptions,
    max_new_tokens: int,
) -> list[int]:
    prompt = build_prompt(options.context, options.language, n_audio_tokens=1)
    inputs = processor(text=[prompt], audio=[samples], return_tensors="pt", padding=True)
    inputs = inputs.to(torch.float32)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens)
    generated = out.sequences[0, inputs["input_ids"].shape[1] :].tolist()
    eos = {151645, 151643}
    return generated[: next((i for i, t in enumerate(generated) if t in eos), len(generated))]


def noise(seconds: float, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * 16000)) * 0.1).astype(
        np.float32
    )


@pytest.fixture(scope="module")
def inputs(speech_16k: np.ndarray) -> list[tuple[np.ndarray, RecognitionOptions]]:
    return [
        (speech_16k, RecognitionOptions()),
        (noise(3.3, 1), RecognitionOptions(context="Qwen, MLX, parity")),
        (speech_16k[:20_000], RecognitionOptions(language="English")),
        (noise(1.05, 2), RecognitionOptions(language="zh-cn")),
    ]


def test_greedy_tokens_identical_for_twenty_checkpoints(
    official_checkpoint: Any, official_processor: Any, inputs: Any, tmp_path: Path
) -> None:
    outputs = set()
    for seed in range(20):
        checkpoint = official_checkpoint(seed=seed, **SCALE)
        recognizer = MlxRecognizer.from_pretrained(
            qasr_folder(checkpoint.folder, tmp_path / f"seed{seed}"), dtype="float32"
        )
        samples, options = inputs[seed % len(inputs)]
        ours = recognizer.decode(samples, attrs.evolve(options, max_new_tokens=NEW_TOKENS))
        theirs = official_tokens(checkpoint.model, official_processor, samples, options, NEW_TOKENS)
        assert list(ours.tokens) == theirs, f"seed {seed}"
        outputs.add(tuple(theirs))
    # The comparison means something only if the random models say different things.
    assert len(outputs) >= 15
    assert all(len(set(tokens)) > 1 for tokens in outputs)


def official_prompt_logits(
    model: Any, processor: Any, samples: np.ndarray, options: RecognitionOptions
) -> np.ndarray:
    prompt = build_prompt(options.context, options.language, n_audio_tokens=1)
    inputs = processor(text=[prompt], audio=[samples], return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.thinker(**inputs.to(torch.float32))
    return out.logits[0].numpy()


def rel_err(ours: np.ndarray, official: np.ndarray) -> float:
    return float(np.max(np.abs(ours - official)) / np.max(np.abs(official)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prefill_logits_match(
    official_checkpoint: Any, official_processor: Any, inputs: Any, tmp_path: Path, seed: int
) -> None:
    checkpoint = official_checkpoint(seed=seed, **SCALE)
    recognizer = MlxRecognizer.from_pretrained(
        qasr_folder(checkpoint.folder, tmp_path), dtype="float32"
    )
    samples, options = inputs[seed]
    ours = np.array(recognizer.prompt_logits(samples, options))
    theirs = official_prompt_logits(checkpoint.model, official_processor, samples, options)
    assert ours.shape == theirs.shape
    assert rel_err(ours, theirs) < 1e-4


@pytest.mark.slow
def test_full_size_06b_random_weights(
    official_checkpoint: Any, official_processor: Any, speech_16k: np.ndarray, tmp_path: Path
) -> None:
    from tests.support.official import FULL_06B_AUDIO, FULL_06B_TEXT

    checkpoint = official_checkpoint(seed=7, audio=FULL_06B_AUDIO, text=FULL_06B_TEXT)
    recognizer = MlxRecognizer.from_pretrained(
        qasr_folder(checkpoint.folder, tmp_path), dtype="float32"
    )
    info = recognizer.model_info()
    assert info["vocab_size"] == 151936
    samples, options = speech_16k[:64_000], RecognitionOptions()
    ours = np.array(recognizer.prompt_logits(samples, options))
    theirs = official_prompt_logits(checkpoint.model, official_processor, samples, options)
    assert rel_err(ours, theirs) < 1e-4
    decoded = recognizer.decode(samples, RecognitionOptions(max_new_tokens=8))
    assert list(decoded.tokens) == official_tokens(
        checkpoint.model, official_processor, samples, options, 8
    )
