"""How the host's log-mel scales with worker threads: `numpy_log_mel` of `--clips` 30 s clips
in a pool of 1, 2, 4, ... threads, as `MlxRecognizer.recognize` computes a batch's log-mels.

    python scripts/mel_threads.py --clips 64 --threads 1,2,4,8,16 \\
        --frames-per-chunk 4096,1024,512,256 --out docs/benchmarks/mel-threads-h200.json

Each count is timed `--repeats` times after one warm-up; the median is reported. `ms_per_clip`
is what one thread spends on a clip (flat when threads do not slow each other), and
`clips_per_second` what the pool delivers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from bench import speech_like  # noqa: E402


def pool_seconds(clips: list[np.ndarray], threads: int, frames_per_chunk: int) -> float:
    from qasr.adapters.mlx.model.mel import numpy_log_mel

    with ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        list(pool.map(lambda clip: numpy_log_mel(clip, frames_per_chunk=frames_per_chunk), clips))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--threads", default="1,2,4,8,16")
    parser.add_argument("--frames-per-chunk", default="512", help="STFT chunk sizes to compare")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from qasr.app import bootstrap

    clips = [speech_like(30.0, seed) for seed in range(args.clips)]
    rows = []
    counts = [int(t) for t in args.threads.split(",")]
    for chunk, threads in ((int(c), t) for c in args.frames_per_chunk.split(",") for t in counts):
        pool_seconds(clips[:threads], threads, chunk)  # threads started, FFT plans cached
        seconds = float(
            np.median([pool_seconds(clips, threads, chunk) for _ in range(args.repeats)])
        )
        rows.append(
            {
                "frames_per_chunk": chunk,
                "threads": threads,
                "seconds": round(seconds, 4),
                "ms_per_clip": round(1000 * seconds * threads / args.clips, 2),
                "clips_per_second": round(args.clips / seconds, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    report = {
        "command": " ".join(["python", *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "cpu": bootstrap.cpu_model(),
            "cpu_count": os.cpu_count(),
            "numpy": np.__version__,
        },
        "clip_seconds": 30.0,
        "clips": args.clips,
        "results": rows,
        "how": __doc__.split("\n\n")[2].replace("\n", " "),
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
