"""GELU on this machine: MLX's erf `nn.gelu` against qasr's multiply-add one (ADR 0022).

In one process, alternating old and new each repeat so load from other users hits both alike:
GELU alone on the 0.6B encoder's activation shapes for a 10 s clip, then that encoder (random
full-size weights) with either GELU. Medians, with the load average before and after.

    python scripts/gelu_bench.py --repeats 7 --out docs/benchmarks/gelu-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.official import FULL_06B_AUDIO  # noqa: E402

SAMPLE_RATE = 16_000


def timed_pair(
    old: Callable[[], Any], new: Callable[[], Any], repeats: int
) -> dict[str, float | list[float]]:
    """Median milliseconds of each, interleaved, after one warm-up each."""
    old(), new()
    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(repeats):
        for name, fn in (("old", old), ("new", new)):
            start = time.perf_counter()
            fn()
            times[name].append(1e3 * (time.perf_counter() - start))
    old_ms, new_ms = float(np.median(times["old"])), float(np.median(times["new"]))
    return {
        "old_ms": old_ms,
        "new_ms": new_ms,
        "speedup": old_ms / new_ms,
        "old_runs_ms": times["old"],
        "new_runs_ms": times["new"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from qasr.adapters.mlx.backend import BLAS_PATH, mx, nn
    from qasr.adapters.mlx.model import audio_encoder
    from qasr.adapters.mlx.model.activations import gelu
    from qasr.adapters.mlx.model.audio_encoder import AudioEncoder, AudioEncoderConfig
    from qasr.adapters.mlx.model.mel import log_mel_spectrogram
    from qasr.app.bootstrap import cpu_model

    load_before = os.getloadavg()
    config = AudioEncoderConfig.from_dict(FULL_06B_AUDIO)
    chunks = int(args.seconds)  # 1 s chunks of 100 frames
    tokens = 13 * chunks
    channels = config.downsample_hidden_size
    # The stem's three conv outputs (NHWC) and the layers' fc1 output, for `--seconds` of audio.
    shapes = {
        "conv1": (chunks, 64, 50, channels),
        "conv2": (chunks, 32, 25, channels),
        "conv3": (chunks, 16, 13, channels),
        "fc1": (tokens, config.encoder_ffn_dim),
    }
    results: dict[str, Any] = {"gelu": {}}
    for name, shape in shapes.items():
        x = mx.random.normal(shape, key=mx.random.key(0)) * 3
        mx.eval(x)
        old, new = (lambda x=x: mx.eval(nn.gelu(x))), (lambda x=x: mx.eval(gelu(x)))
        results["gelu"][name] = {"shape": list(shape), **timed_pair(old, new, args.repeats)}

    encoder = AudioEncoder(config)
    mx.eval(encoder.parameters())
    noise = np.random.default_rng(0).standard_normal(int(args.seconds * SAMPLE_RATE)) * 0.1
    mel = log_mel_spectrogram(noise.astype(np.float32))
    mx.eval(mel)

    def encode_with(activation: Callable[[mx.array], mx.array]) -> None:
        audio_encoder.gelu = activation  # the module-level name both the stem and layers call
        mx.eval(encoder(mel))

    same = np.array(encoder(mel))
    audio_encoder.gelu = nn.gelu
    reference = np.array(encoder(mel))
    audio_encoder.gelu = gelu
    results["encoder_10s"] = {
        "audio_seconds": args.seconds,
        "max_abs_difference_old_vs_new": float(np.abs(same - reference).max()),
        **timed_pair(lambda: encode_with(nn.gelu), lambda: encode_with(gelu), args.repeats),
    }
    audio_encoder.gelu = gelu
    record = {
        "benchmark": "GELU: nn.gelu (MLX erf) = old, qasr multiply-add gelu = new",
        "command": "python " + " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "blas": BLAS_PATH,
            "platform": platform.platform(),
            "mlx": mx.__version__,
            "device": str(mx.default_device()),
            "dtype": "float32",
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "note": "shared with other sessions; medians of interleaved repeats",
        },
        "encoder_config": FULL_06B_AUDIO,
        **results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "encoder_config"}, indent=1))


if __name__ == "__main__":
    main()
