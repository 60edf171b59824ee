"""Random `-hf` checkpoints and transformers 5.23.0's outputs on them, for the parity tests.

One session fixture runs `tests/support/hf_reference.py` once: it builds and saves every
checkpoint and computes every case's mel, encoder output, logits and greedy tokens, and every
forced aligner's (`Qwen3ASRForTokenClassification`) words and timestamps, so the ~20 s of torch
import and model building are paid once. Skipped when .venv-hf is missing
(`bash scripts/install-reference-hf.sh` creates it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from tests.support.official import TINY_AUDIO, TINY_TEXT

from qasr.adapters.mlx.text.prompt import build_prompt
from qasr.domain import RecognitionOptions

ROOT = Path(__file__).resolve().parents[2]
HF_PYTHON = ROOT / ".venv-hf" / "bin" / "python"
REFERENCE_SCRIPT = ROOT / "tests" / "support" / "hf_reference.py"
SAMPLE_RATE = 16_000
NEW_TOKENS = 16
N_CHECKPOINTS = 10
# A plain qwen3 text config, as the -hf layout stores it: 1-D RoPE, no mrope section. Narrower
# than TINY_TEXT because the real 151,936-token vocabulary makes the embedding most of the bytes
# that ten checkpoints write and read.
HF_TEXT = {
    **{key: value for key, value in TINY_TEXT.items() if key not in ("rope_theta", "rope_scaling")},
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 16,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0},
}
HF_AUDIO = {**TINY_AUDIO, "output_dim": HF_TEXT["hidden_size"]}
# 2 s attention windows instead of 8 s, so clips of a few seconds span several windows.
SHORT_WINDOWS = {**HF_AUDIO, "n_window_infer": 200}
CLIP_SECONDS = (2.0, 3.3, 1.05, 4.5, 2.6)
OPTIONS = (
    RecognitionOptions(),
    RecognitionOptions(context="Qwen, MLX, parity"),
    RecognitionOptions(language="English"),
    RecognitionOptions(language="zh"),
)
# Clips under one 100-frame chunk, where the two references disagree (docs/adr/0010).
SHORT_CLIP_SECONDS = (0.3, 0.7)

ENGLISH = "The quick brown fox, jumps over the lazy dog! It's 2024 and MLX runs fast."
CHINESE = "今天天气很好，我们去公园散步吧。"
MIXED = "我们用 MLX 跑 Qwen3-ASR 模型，速度 fast 又 stable！"
# (seconds, text, language) per forced aligner: short clips (padded to 0.5 s, one chunk) too.
ALIGNER_CASES = (
    (2.0, ENGLISH, "English"),
    (0.4, "hello world", "English"),
    (3.3, CHINESE, "Chinese"),
    (0.8, MIXED, "Chinese"),
    (4.5, MIXED, "English"),
    (2.6, ENGLISH + " " + CHINESE, "English"),
)


class HfCase(NamedTuple):
    checkpoint: int
    samples: np.ndarray
    options: RecognitionOptions
    reference: dict[str, np.ndarray]  # what hf_reference.py saved for this clip


class AlignerCase(NamedTuple):
    spec: dict[str, Any]  # aligner_spec(): how the checkpoint was built
    folder: Path
    samples: np.ndarray
    text: str
    language: str
    reference: dict[str, np.ndarray]  # transformers' alignment (hf_reference.py)


class HfReference(NamedTuple):
    folders: list[Path]  # save_pretrained() output plus the tokenizer files
    cases: list[HfCase]  # one per checkpoint, in checkpoint order
    short_cases: list[HfCase]  # SHORT_CLIP_SECONDS on checkpoint 0
    aligner_cases: list[AlignerCase]  # one random forced aligner each


def clip(seconds: float, seed: int) -> np.ndarray:
    """Noise plus a tone whose pitch depends on the seed: inputs that differ between cases."""
    rng = np.random.default_rng(seed)
    time = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * (180 + 40 * seed) * time)
    return (tone + 0.05 * rng.standard_normal(time.size)).astype(np.float32)


def checkpoint_spec(seed: int, folder: Path) -> dict[str, Any]:
    return {
        "folder": str(folder),
        "seed": seed,
        "audio": SHORT_WINDOWS if seed % 4 == 3 else HF_AUDIO,
        "text": HF_TEXT,
        # Tied (no lm_head stored, the real -hf default) and untied checkpoints alternate.
        "tie_word_embeddings": seed % 2 == 0,
        "weight_scale": 6.0,  # std-0.02 weights make every random model repeat one token
        "vector_noise": 0.3,
    }


def aligner_spec(seed: int, folder: Path) -> dict[str, Any]:
    return {
        "folder": str(folder),
        "seed": 1000 + seed,
        "audio": SHORT_WINDOWS if seed % 4 == 3 else HF_AUDIO,
        "text": HF_TEXT,
        # The released aligner's 5000 classes, and a smaller head; with and without the
        # optional bias (`token_classification_bias`); one non-default class width.
        "num_labels": 300 if seed == 2 else 5000,
        "bias": seed % 2 == 1,
        "timestamp_segment_time": 40.0 if seed == 4 else 80.0,
        # Scaled decoder and head make the argmax classes vary; a scaled audio tower turns
        # chaotic (one-hot attention) and tests nothing more.
        "weight_scale": 6.0,
        "audio_scale": 1.0,
        "vector_noise": 0.3,
    }


def _prompt(options: RecognitionOptions) -> str:
    return build_prompt(options.context, options.language, n_audio_tokens=1)


@pytest.fixture(scope="session")
def hf_reference(tmp_path_factory: pytest.TempPathFactory) -> HfReference:
    if not HF_PYTHON.exists():
        pytest.skip(
            "transformers' Qwen3-ASR reference is not installed: run "
            "`bash scripts/install-reference-hf.sh` to create .venv-hf"
        )
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    work = tmp_path_factory.mktemp("hf_reference")
    tokenizer = write_qwen_tokenizer_files(work / "tokenizer")
    folders = [work / f"checkpoint{seed}" for seed in range(N_CHECKPOINTS)]
    planned: list[tuple[int, np.ndarray, RecognitionOptions]] = [
        (seed, clip(CLIP_SECONDS[seed % len(CLIP_SECONDS)], seed), OPTIONS[seed % len(OPTIONS)])
        for seed in range(N_CHECKPOINTS)
    ]
    planned += [
        (0, clip(seconds, 100 + i), OPTIONS[0]) for i, seconds in enumerate(SHORT_CLIP_SECONDS)
    ]
    cases = []
    for index, (checkpoint, samples, options) in enumerate(planned):
        np.save(work / f"case{index}.npy", samples)
        cases.append(
            {
                "checkpoint": checkpoint,
                "audio": str(work / f"case{index}.npy"),
                "prompt": _prompt(options),
                "max_new_tokens": NEW_TOKENS,
                "output": str(work / f"case{index}.npz"),
            }
        )
    aligner_tokenizer = write_qwen_tokenizer_files(work / "aligner-tokenizer", aligner=True)
    aligners = [aligner_spec(seed, work / f"aligner{seed}") for seed in range(len(ALIGNER_CASES))]
    aligner_cases = []
    for seed, (seconds, text, language) in enumerate(ALIGNER_CASES):
        np.save(work / f"aligner_case{seed}.npy", clip(seconds, 200 + seed))
        aligner_cases.append(
            {
                "aligner": seed,
                "audio": str(work / f"aligner_case{seed}.npy"),
                "text": text,
                "language": language,
                "output": str(work / f"aligner_case{seed}.npz"),
            }
        )
    request = {
        "tokenizer": str(tokenizer),
        "checkpoints": [checkpoint_spec(seed, folder) for seed, folder in enumerate(folders)],
        "cases": cases,
        "aligner_tokenizer": str(aligner_tokenizer),
        "aligners": aligners,
        "aligner_cases": aligner_cases,
    }
    (work / "request.json").write_text(json.dumps(request))
    result = subprocess.run(
        [str(HF_PYTHON), str(REFERENCE_SCRIPT), str(work / "request.json")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-4000:])
        pytest.fail(f"hf_reference.py failed (exit {result.returncode}); its stderr is above")
    for folder in folders:
        write_qwen_tokenizer_files(folder)
    for spec in aligners:
        write_qwen_tokenizer_files(Path(spec["folder"]), aligner=True)
    loaded = [
        HfCase(checkpoint, samples, options, dict(np.load(case["output"])))
        for (checkpoint, samples, options), case in zip(planned, cases, strict=True)
    ]
    aligned = [
        AlignerCase(
            spec,
            Path(spec["folder"]),
            np.load(case["audio"]),
            case["text"],
            case["language"],
            dict(np.load(case["output"])),
        )
        for spec, case in zip(aligners, aligner_cases, strict=True)
    ]
    return HfReference(folders, loaded[:N_CHECKPOINTS], loaded[N_CHECKPOINTS:], aligned)


def rel_err(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))
