"""The 0.6B's matrix products on this CPU under each BLAS that MLX can be given (ADR 0006).

Prefill and the audio encoder multiply hundreds of rows at a time (GEMM); decoding multiplies one
row (MLX sends it to sgemm as M = 1). Each library runs in a process of its own, chosen by
QASR_BLAS before MLX loads, and the shapes take turns within it.

    python3 scripts/blas_shapes.py --out docs/benchmarks/blas-shapes-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

SHAPES = {  # (rows, inner, outer): the 0.6B decoder's products and its tied output layer
    "prefill qkv 400x1024x4096": (400, 1024, 4096),
    "prefill gate_up 400x1024x6144": (400, 1024, 6144),
    "decode qkv 1x1024x4096": (1, 1024, 4096),
    "decode gate_up 1x1024x6144": (1, 1024, 6144),
    "decode head 1x1024x151936": (1, 1024, 151936),
}


def measure(rounds: int) -> dict[str, float]:
    from qasr.adapters.mlx.backend import mx

    arrays = {}
    for name, (rows, inner, outer) in SHAPES.items():
        arrays[name] = (mx.random.normal((rows, inner)), mx.random.normal((outer, inner)))
        mx.eval(*arrays[name])
    best = {name: float("inf") for name in SHAPES}
    for _ in range(rounds):
        for name, (x, w) in arrays.items():
            mx.eval(x @ w.T)
            started = time.perf_counter()
            for _ in range(5):
                mx.eval(x @ w.T)
            best[name] = min(best[name], (time.perf_counter() - started) / 5 * 1e3)
    return {name: round(ms, 2) for name, ms in best.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libraries", default="mkl,openblas")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.rounds)))
        return 0
    results = {}
    for library in args.libraries.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--rounds", str(args.rounds)],
            env={**os.environ, "QASR_BLAS": library},
            capture_output=True,
            text=True,
            check=True,
        )
        results[library] = {"best_ms": json.loads(done.stdout.strip().splitlines()[-1])}
    for result in results.values():
        result["gflops"] = {
            name: round(2 * rows * inner * outer / (result["best_ms"][name] * 1e6), 1)
            for name, (rows, inner, outer) in SHAPES.items()
        }
    from qasr.app.bootstrap import cpu_model

    report = {
        "command": "python3 scripts/blas_shapes.py " + " ".join(argv),
        "machine": f"{cpu_model()} ({platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"shared), {platform.system()}",
        "what": "best of rounds x 5 products, float32, milliseconds per product",
        "results": results,
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
