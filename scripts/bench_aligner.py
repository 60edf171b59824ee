"""Benchmark the forced aligner: qasr's MlxAligner against the official Qwen3ForcedAligner.

Both load the same full-size random-weight checkpoint (the Qwen3-ForcedAligner-0.6B shapes: the
ASR-0.6B encoder and decoder with a 5000-class head) and align the same clips and texts on the
same machine; times are medians of `--repeats` runs after one warm-up. The script also checks
that both give the same words and times.

    python scripts/bench_aligner.py --clips 5,15,30 --out docs/benchmarks/aligner-cpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from bench import median_seconds, qwen_asr_without_init  # noqa: E402
from tests.support.official import FULL_06B_AUDIO, FULL_06B_TEXT  # noqa: E402

# Imported by the official forced aligner at module level, used only for Japanese words (nagisa)
# and audio files (librosa, soundfile): English text and in-memory samples need none of them.
UNUSED_BY_THE_BENCHMARK = ("nagisa", "librosa", "soundfile")


def official_importable() -> list[str]:
    """Make the official aligner importable where a GPU image lacks what it never calls here:
    an empty module stands in for each missing one of UNUSED_BY_THE_BENCHMARK (their names are
    returned, for the report), and `qwen_asr/__init__` (the demo stack) is skipped."""
    import importlib
    import importlib.machinery
    import types

    stubbed = []
    for name in UNUSED_BY_THE_BENCHMARK:
        try:
            importlib.import_module(name)
        except ImportError:
            stand_in = types.ModuleType(name)
            # A spec, so transformers' find_spec probe sees a module; with no installed
            # metadata it still counts the package as absent.
            stand_in.__spec__ = importlib.machinery.ModuleSpec(name, None)
            sys.modules[name] = stand_in
            stubbed.append(name)
    qwen_asr_without_init()
    return stubbed


SAMPLE_RATE = 16_000
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "speech",
    "turns",
    "into",
    "written",
    "text",
]
WORDS_PER_SECOND = 2.5


def clip_and_text(seconds: float, seed: int) -> tuple[np.ndarray, str]:
    rng = np.random.default_rng(seed)
    samples = (0.1 * rng.standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32)
    count = max(1, round(seconds * WORDS_PER_SECOND))
    return samples, " ".join(WORDS[i % len(WORDS)] for i in range(count))


def official_aligner(model: Any, folder: Path) -> Any:
    from qwen_asr.core.transformers_backend.processing_qwen3_asr import Qwen3ASRProcessor
    from qwen_asr.inference.qwen3_forced_aligner import (
        Qwen3ForceAlignProcessor,
        Qwen3ForcedAligner,
    )
    from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

    tokenizer = Qwen2TokenizerFast.from_pretrained(str(folder))
    tokenizer.audio_token = "<|audio_pad|>"
    tokenizer.audio_bos_token = "<|audio_start|>"
    tokenizer.audio_eos_token = "<|audio_end|>"
    processor = Qwen3ASRProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer
    )
    return Qwen3ForcedAligner(model, processor, Qwen3ForceAlignProcessor())


def machine() -> dict[str, Any]:
    import os

    from qasr.adapters.mlx.backend import BLAS_PATH, mx

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "mlx_device": str(mx.default_device()),
        "mlx_blas": BLAS_PATH,
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError

    found = {}
    for name in ("qasr", "mlx", "torch", "transformers", "qwen-asr", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # on the path but not installed (a staged GPU machine)
            found[name] = "not installed (imported from the path)"
    return found


def differences(
    mine: list[tuple[str, float, float]], theirs: list[tuple[str, float, float]]
) -> dict[str, Any]:
    """How far apart two alignments of the same words are: the words whose start or end differ
    and the largest difference in seconds (random weights put many frames near a tie)."""
    if [w for w, _, _ in mine] != [w for w, _, _ in theirs]:
        return {"same_words": False}
    gaps = [max(abs(a[1] - b[1]), abs(a[2] - b[2])) for a, b in zip(mine, theirs, strict=True)]
    return {
        "same_words": True,
        "words_with_other_times": sum(gap > 0 for gap in gaps),
        "largest_time_difference_s": round(max(gaps, default=0.0), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default="5,15,30", help="clip lengths in seconds")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="JSON report path")
    args = parser.parse_args()

    stubbed = official_importable()
    import torch
    from tests.parity.test_aligner_parity import build_official_aligner, save_aligner

    from qasr.adapters.mlx.aligner import MlxAligner

    device = "cuda" if torch.cuda.is_available() else "cpu"
    # true float32 on both sides: cuDNN's convolutions (the audio encoder's stem) default to TF32
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

    folder = Path(tempfile.mkdtemp(prefix="qasr-bench-aligner-"))
    try:
        text_shape = {**FULL_06B_TEXT, "tie_word_embeddings": False}
        model = build_official_aligner(seed=0, audio=FULL_06B_AUDIO, text=text_shape)
        save_aligner(model, folder)
        ours = MlxAligner.from_pretrained(folder, dtype="float32")
        theirs = official_aligner(model.to(device), folder)
        results = []
        for index, seconds in enumerate(float(c) for c in args.clips.split(",")):
            samples, text = clip_and_text(seconds, index)
            mine = [(w.text, w.start, w.end) for w in ours.align_words(samples, text, "English")]
            [official] = theirs.align(audio=(samples, SAMPLE_RATE), text=text, language="English")
            theirs_words = [(it.text, it.start_time, it.end_time) for it in official]
            same = mine == theirs_words
            differing = differences(mine, theirs_words)
            mlx_s = median_seconds(lambda: ours.align_words(samples, text, "English"), args.repeats)
            with torch.inference_mode():
                official_s = median_seconds(
                    lambda: theirs.align(
                        audio=(samples, SAMPLE_RATE), text=text, language="English"
                    ),
                    args.repeats,
                )
            row = {
                "clip_seconds": seconds,
                "words": len(mine),
                "mlx_seconds": round(mlx_s, 4),
                "official_seconds": round(official_s, 4),
                "official_over_mlx": round(official_s / mlx_s, 3),
                "identical_output": same,
                **differing,
            }
            print(json.dumps(row), flush=True)
            results.append(row)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    report = {
        "benchmark": "forced aligner, full-size random Qwen3-ForcedAligner-0.6B shapes, float32",
        "command": " ".join(["python", *sys.argv]),
        "machine": machine(),
        "versions": versions(),
        "torch_threads": torch.get_num_threads(),
        "official_device": device,
        "stand_ins": {name: "empty module (never called here)" for name in stubbed},
        "repeats": args.repeats,
        "results": results,
        "median_official_over_mlx": float(np.median([r["official_over_mlx"] for r in results])),
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
