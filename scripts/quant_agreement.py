"""Measure what `qasr convert --quantize` costs and buys on this CPU.

Agreement: random official checkpoints (qwen_asr + torch, as the parity tests build them) are
converted to 8 and 4 bits with `convert_checkpoint`, and greedy tokens on the parity inputs
(espeak-ng speech, noise) are compared with the float model's: the fraction of identical
sequences and the mean fraction of the float sequence matched before the first difference.
Speed: median ms per decoded token (decoder step + logits, batch 1) for float32, 8 and 4 bits,
on the random checkpoints and, with --full, on random weights of the real 0.6B shapes.

    python scripts/quant_agreement.py [--seeds 4] [--tokens 24] [--full]

Writes docs/benchmarks/quantization-cpu.json (machine, versions, command, results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support builds the random official checkpoints

import attrs  # noqa: E402
import numpy as np  # noqa: E402

from qasr.adapters.mlx.backend import BLAS_PATH, mx  # noqa: E402
from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint  # noqa: E402
from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan, quantize_thinker  # noqa: E402
from qasr.adapters.mlx.model.audio_encoder import AudioEncoderConfig  # noqa: E402
from qasr.adapters.mlx.model.text_decoder import TextConfig  # noqa: E402
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker  # noqa: E402
from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.domain import RecognitionOptions  # noqa: E402

SPEECH_TEXT = (
    "The quick brown fox jumps over the lazy dog. "
    "Speech recognition turns spoken words into written text."
)
# As the parity tests: weights large enough that random models say different things.
SCALE = {"weight_scale": 6.0, "vector_noise": 0.3}
# "Tiny" is the parity tests' model; "small" has group-size-64-friendly widths and 4 layers.
CONFIGS: dict[str, dict[str, Any]] = {
    "tiny": {"audio": {}, "text": {}, "group_size": 32},
    "small": {
        "audio": dict(
            d_model=256,
            encoder_layers=4,
            encoder_attention_heads=4,
            encoder_ffn_dim=1024,
            output_dim=512,
            downsample_hidden_size=64,
        ),
        "text": dict(
            hidden_size=512,
            intermediate_size=1536,
            num_hidden_layers=4,
            num_attention_heads=8,
            num_key_value_heads=4,
            head_dim=64,
        ),
        "group_size": 64,
    },
}


def synthesise(folder: Path) -> np.ndarray:
    import soundfile

    raw, resampled = folder / "espeak.wav", folder / "speech16k.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), SPEECH_TEXT], check=True, capture_output=True)
    subprocess.run(
        ["sox", str(raw), "-r", "16000", "-e", "floating-point", "-b", "32", str(resampled)],
        check=True,
        capture_output=True,
    )
    samples, _ = soundfile.read(str(resampled), dtype="float32")
    return np.ascontiguousarray(samples if samples.ndim == 1 else samples.mean(axis=1))


def noise(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32)


def parity_inputs(speech: np.ndarray) -> list[tuple[np.ndarray, RecognitionOptions]]:
    """The inputs of tests/parity/test_recognizer_parity.py."""
    return [
        (speech, RecognitionOptions()),
        (noise(3.3, 1), RecognitionOptions(context="Qwen, MLX, parity")),
        (speech[:20_000], RecognitionOptions(language="English")),
        (noise(1.05, 2), RecognitionOptions(language="zh-cn")),
    ]


def official_folder(config: dict[str, Any], seed: int, folder: Path) -> Path:
    import torch
    from tests.support.official import build_official_model, save_official_checkpoint
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    model = build_official_model(seed, config["audio"], config["text"], SCALE["weight_scale"])
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for param in model.parameters():
            if param.ndim == 1:
                param.add_(SCALE["vector_noise"] * torch.randn(param.shape, generator=generator))
    save_official_checkpoint(model, folder)
    return write_qwen_tokenizer_files(folder)


def prefix_agreement(reference: tuple[int, ...], other: tuple[int, ...]) -> float:
    """The fraction of `reference` that `other` reproduces before the first difference."""
    same = next(
        (i for i, (a, b) in enumerate(zip(reference, other, strict=False)) if a != b),
        min(len(reference), len(other)),
    )
    return 1.0 if reference == other else same / max(len(reference), 1)


def decode_ms_per_token(model: Qwen3ASRThinker, tokens: int = 24, prompt: int = 64) -> float:
    """Median wall time of one greedy step (embed, decoder, logits, argmax) after a prefill."""
    text = model.model
    cache = text.make_cache()
    hidden = text(mx.random.normal((1, prompt, text.config.hidden_size)), 0, cache)
    token = mx.argmax(model.logits(hidden[:, -1, :]), axis=-1)[:, None]
    mx.eval(token)
    times = []
    for _ in range(tokens + 3):  # the first steps warm up allocations
        start = time.perf_counter()
        hidden = text(text.embed_tokens(token), cache[0].offset, cache)
        token = mx.argmax(model.logits(hidden[:, -1, :]), axis=-1)[:, None]
        mx.eval(token)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times[3:])


def measure_config(name: str, seeds: int, new_tokens: int, speech: np.ndarray) -> dict[str, Any]:
    config = CONFIGS[name]
    inputs = parity_inputs(speech)
    results: dict[str, Any] = {"group_size": config["group_size"], "pairs": 0}
    per_bits: dict[int, dict[str, list[float]]] = {8: {}, 4: {}}
    with tempfile.TemporaryDirectory() as scratch:
        for seed in range(seeds):
            source = official_folder(config, seed, Path(scratch) / f"seed{seed}")
            float_model = MlxRecognizer.from_pretrained(source, dtype="float32")
            reference = [
                float_model.decode(samples, attrs.evolve(options, max_new_tokens=new_tokens))
                for samples, options in inputs
            ]
            speed = {"float32": decode_ms_per_token(float_model.thinker.model)}
            for bits in (8, 4):
                plan = QuantizationPlan(bits=bits, group_size=config["group_size"])
                target = Path(scratch) / f"seed{seed}-q{bits}"
                convert_checkpoint(source, target, quantization=plan)
                quantized = MlxRecognizer.from_pretrained(target, dtype="float32")
                stats = per_bits[bits]
                for (samples, options), ref in zip(inputs, reference, strict=True):
                    budget = attrs.evolve(options, max_new_tokens=new_tokens)
                    ours = quantized.decode(samples, budget)
                    stats.setdefault("identical", []).append(float(ours.tokens == ref.tokens))
                    stats.setdefault("prefix", []).append(prefix_agreement(ref.tokens, ours.tokens))
                speed[f"{bits}bit"] = decode_ms_per_token(quantized.thinker.model)
                shutil.rmtree(target)
            results.setdefault("ms_per_token", []).append(speed)
            results["pairs"] += len(inputs)
            print(f"{name} seed {seed}: {speed}", flush=True)
    for bits, stats in per_bits.items():
        results[f"{bits}bit"] = {
            "identical_sequences": statistics.mean(stats["identical"]),
            "mean_prefix_agreement": statistics.mean(stats["prefix"]),
        }
    results["ms_per_token"] = {
        key: statistics.median(run[key] for run in results["ms_per_token"])
        for key in ("float32", "8bit", "4bit")
    }
    return results


def measure_full_shapes() -> dict[str, float]:
    """Decode speed with the real Qwen3-ASR-0.6B shapes (random MLX weights, tied head)."""
    from tests.support.official import FULL_06B_AUDIO, FULL_06B_TEXT

    speed = {}
    for bits in (None, 8, 4):
        mx.random.seed(0)
        model = Qwen3ASRThinker(
            AudioEncoderConfig.from_dict(FULL_06B_AUDIO),
            TextConfig.from_dict(FULL_06B_TEXT),
            lm_head=False,
        )
        mx.eval(model.parameters())
        if bits:
            quantize_thinker(model, QuantizationPlan(bits=bits, group_size=64))
        speed["float32" if bits is None else f"{bits}bit"] = decode_ms_per_token(model)
        print(f"full 0.6B shapes: {speed}", flush=True)
        del model
    return speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--configs", default="tiny,small")
    parser.add_argument("--full", action="store_true", help="also time the real 0.6B shapes")
    parser.add_argument("--output", default=str(ROOT / "docs/benchmarks/quantization-cpu.json"))
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        speech = synthesise(Path(scratch))
    report: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg(),
            "blas": BLAS_PATH,
            "mlx_device": str(mx.default_device()),
        },
        "versions": {name: version(name) for name in ("qasr", "mlx", "numpy", "torch", "qwen-asr")},
        "settings": {
            "seeds": args.seeds,
            "max_new_tokens": args.tokens,
            "weights": SCALE,
            "inputs": "espeak-ng speech 6 s, noise 3.3 s, speech 1.25 s, noise 1.05 s",
            "runtime_dtype": "float32",
        },
        "configs": {},
    }
    for name in args.configs.split(","):
        report["configs"][name] = measure_config(name, args.seeds, args.tokens, speech)
    if args.full:
        report["full_06b_shapes_ms_per_token"] = measure_full_shapes()
    report["wall_seconds"] = round(time.time() - started, 1)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
