"""Throughput of bulk transcription: one `qasr transcribe` per file, `qasr batch` in one process,
and `qasr batch --ray` with 1 and 2 actors, on the same files and the same random model.

    python scripts/batch_bench.py --files 16 --seconds 30 --tokens 32 --repeats 2 \\
        --out docs/benchmarks/batch-cpu.json
    # One H200 (not run yet): the full-size 0.6B shapes, 100 files, the plain loop vs batch:
    python scripts/batch_bench.py --size 0.6b --files 100 --seconds 60 --tokens 200 \\
        --modes cli-loop,batch,ray-1 --out docs/benchmarks/batch-h200.json
    # Several GPUs of one host (issue 18): one actor per GPU, ray-N for N actors.
    python scripts/batch_bench.py --size 0.6b --files 64 --seconds 3600 --tokens 200 \\
        --files-per-task 1 --modes ray-1,ray-2,ray-4,ray-8 \\
        --out docs/benchmarks/batch-h200-scaling.json

Every mode runs as its own `qasr` process (the cost a user pays, model loads included) on the
same WAV files of speech-shaped noise; the model is a random checkpoint written once (the tiny
test sizes, or the real 0.6B shapes with `--size 0.6b`) with the real vocabulary. A random model
stops where greedy decoding happens to end, so `--tokens` (each chunk's budget) bounds the work;
every mode decodes the same tokens, so the rates compare. Rates are audio seconds per second of
wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.official import (  # noqa: E402
    FULL_06B_AUDIO,
    FULL_06B_TEXT,
    TINY_AUDIO,
    TINY_TEXT,
)

SIZES = {"tiny": (TINY_AUDIO, TINY_TEXT), "0.6b": (FULL_06B_AUDIO, FULL_06B_TEXT)}
RATE = 16_000
MODES = ("cli-loop", "batch", "ray-1", "ray-2")  # any ray-N works: N actors


def _is_ray_mode(mode: str) -> bool:
    return mode.startswith("ray-") and mode.removeprefix("ray-").isdigit()


def write_inputs(folder: Path, files: int, seconds: float) -> list[Path]:
    """Noise shaped like speech loudness, a different seed per file."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(files):
        rng = np.random.default_rng(index)
        n = int(seconds * RATE)
        envelope = 0.5 + 0.5 * np.sin(np.arange(n) / RATE * 2 * np.pi * 3)
        samples = rng.standard_normal(n) * 0.1 * envelope
        path = folder / f"file{index:04d}.wav"
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(RATE)
            handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
        paths.append(path)
    return paths


def write_model(folder: Path, size: str) -> Path:
    from tests.support.qwen_vocab import cached_tokenizer_folder

    from qasr.training.scratch import scratch_config, write_scratch_checkpoint

    audio, text = SIZES[size]
    return write_scratch_checkpoint(folder, scratch_config(audio, text), cached_tokenizer_folder())


def commands(
    mode: str, inputs: list[Path], out: Path, common: list[str], files_per_task: int
) -> list[list[str]]:
    qasr = [
        sys.executable,
        "-c",
        "import sys; from qasr.app.entry.cli import main; sys.exit(main())",
    ]
    if mode == "cli-loop":
        return [
            [*qasr, "transcribe", str(path), "-o", str(out), "--quiet", "--no-progress", *common]
            for path in inputs
        ]
    job = [*qasr, "batch", str(inputs[0].parent), "-o", str(out), "--no-progress", *common]
    if mode == "batch":
        return [job]
    actors = mode.removeprefix("ray-")
    cpus = max(1, (os.cpu_count() or 1) // int(actors))
    ray = ["--ray", "--ray-actors", actors, "--ray-cpus-per-actor", str(cpus)]
    from qasr.app import bootstrap

    gpus = len(bootstrap.gpu_names())
    if gpus and int(actors) > gpus:
        # More actors than GPUs (the one-GPU stand-in for a scaling run): they share the GPUs.
        ray += ["--ray-gpus-per-actor", f"{gpus / int(actors):g}"]
    return [[*job, *ray, "--files-per-task", str(files_per_task)]]


class GpuMonitor:
    """Samples each GPU's utilisation with nvidia-smi every 0.5 s while a mode runs (none on a
    machine without it)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        if shutil.which("nvidia-smi"):
            query = ["--query-gpu=index,utilization.gpu", "--format=csv,noheader,nounits"]
            self.process = subprocess.Popen(
                ["nvidia-smi", *query, "-lms", "500"], stdout=subprocess.PIPE, text=True
            )

    def stop(self) -> dict[str, float] | None:
        if self.process is None:
            return None
        self.process.terminate()
        out, _ = self.process.communicate()
        samples: dict[str, list[float]] = {}
        for line in out.splitlines():
            index, _, value = line.partition(",")
            if value.strip().isdigit():
                samples.setdefault(f"gpu{index.strip()}", []).append(float(value))
        return {gpu: round(sum(v) / len(v), 1) for gpu, v in samples.items()}


def run_mode(
    mode: str, inputs: list[Path], work: Path, common: list[str], files_per_task: int
) -> dict[str, Any]:
    out = work / f"out-{mode}"
    shutil.rmtree(out, ignore_errors=True)
    runs = commands(mode, inputs, out, common, files_per_task)
    monitor = GpuMonitor()
    started = time.perf_counter()
    for command in runs:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"{mode} failed ({done.returncode}): {done.stderr[-2000:]}")
    seconds = time.perf_counter() - started
    gpu_utilisation = monitor.stop()
    audio = sum(_duration(path) for path in inputs)
    texts = sorted(path.name for path in out.rglob("*.txt"))
    assert len(texts) == len(inputs), f"{mode} wrote {len(texts)} of {len(inputs)} transcripts"
    manifest = out / "qasr-batch.jsonl"
    rates = worker_rates(manifest) if manifest.exists() else None
    return {
        "mode": mode,
        "processes": len(runs),
        "per_worker_busy_rate": rates,
        "mean_gpu_utilisation_percent": gpu_utilisation,
        # What the wall time holds beyond the workers' decoding: imports, model loads, Ray's
        # start and stop, the driver's writing.
        "overhead_seconds": round(seconds - audio / sum(rates.values()), 2) if rates else None,
        "wall_seconds": round(seconds, 2),
        "audio_seconds": round(audio, 1),
        "audio_seconds_per_second": round(audio / seconds, 2),
        "files_per_second": round(len(inputs) / seconds, 3),
        "command": shlex.join(_shown(runs[0], work))
        + (" (once per file)" if len(runs) > 1 else ""),
    }


def _shown(command: list[str], work: Path) -> list[str]:
    shown = [part.replace(str(work), "$WORK") for part in command]
    return ["qasr", *shown[3:]] if shown[:2] == [sys.executable, "-c"] else shown


def worker_rates(manifest: Path) -> dict[str, float]:
    """Audio seconds per second of each worker's own load + decode time (startup excluded):
    the steady per-actor rate that scaling estimates start from."""
    audio: dict[str, float] = {}
    busy: dict[str, float] = {}
    for line in manifest.read_text().splitlines():
        row = json.loads(line)
        worker = row["worker"]
        audio[worker] = audio.get(worker, 0.0) + (row["duration"] or 0.0)
        timings = row["timings"]
        busy[worker] = busy.get(worker, 0.0) + timings["load_seconds"] + timings["decode_seconds"]
    return {f"worker{index}": round(audio[w] / busy[w], 2) for index, w in enumerate(sorted(audio))}


def _duration(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return handle.getnframes() / handle.getframerate()


def machine(load_at_start: float) -> dict[str, Any]:
    from qasr.app import bootstrap

    return {
        "platform": platform.platform(),
        "cpu": bootstrap.cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "mlx": bootstrap.mlx_backend_summary(),
        # The machine may be shared: the 1-minute load average says how busy it was.
        "load_average_1min": {
            "start": round(load_at_start, 2),
            "end": round(os.getloadavg()[0], 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=20.0, help="audio per file")
    parser.add_argument("--tokens", type=int, default=24, help="token budget per 30 s chunk")
    parser.add_argument("--batch-size", type=int, default=8, help="0: the recognizer picks")
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--files-per-task", type=int, default=4, help="for the ray modes")
    parser.add_argument("--repeats", type=int, default=1, help="runs per mode; the fastest kept")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load_at_start = os.getloadavg()[0]
    modes = args.modes.split(",")
    unknown = {mode for mode in modes if mode not in MODES and not _is_ray_mode(mode)}
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {MODES}")
    with tempfile.TemporaryDirectory(prefix="qasr-batch-bench-") as folder:
        work = Path(folder)
        model = write_model(work / "model", args.size)
        inputs = write_inputs(work / "inputs", args.files, args.seconds)
        common = ["--model", str(model), "--max-new-tokens", str(args.tokens)]
        if args.batch_size:
            common += ["--batch-size", str(args.batch_size)]
        if args.dtype:
            common += ["--dtype", args.dtype]
        results = []
        # Modes interleaved, each run `--repeats` times; the fastest run of each is kept (on a
        # shared machine the others measure the neighbours), all wall times are listed.
        runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
        for _ in range(args.repeats):
            for mode in modes:
                result = run_mode(mode, inputs, work, common, args.files_per_task)
                print(json.dumps(result), flush=True)
                runs[mode].append(result)
        for mode in modes:
            best = min(runs[mode], key=lambda result: result["wall_seconds"])
            results.append({**best, "all_wall_seconds": [r["wall_seconds"] for r in runs[mode]]})
    from qasr.app.bootstrap import gpu_names

    by_mode = {result["mode"]: result["audio_seconds_per_second"] for result in results}
    report = {
        "benchmark": f"bulk transcription, random {args.size} Qwen3-ASR, {args.files} files of "
        f"{args.seconds:g} s, at most {args.tokens} tokens per chunk",
        "command": "python scripts/batch_bench.py " + shlex.join(sys.argv[1:]),
        "machine": machine(load_at_start),
        "results": results,
        "speedups": {
            f"{mode}_vs_cli_loop": round(rate / by_mode["cli-loop"], 2)
            for mode, rate in by_mode.items()
            if "cli-loop" in by_mode and mode != "cli-loop"
        },
        # N actors' throughput / (N x one actor's): the scaling efficiency of the actor pool.
        "ray_scaling_efficiency": {
            mode: round(rate / (int(mode.removeprefix("ray-")) * by_mode["ray-1"]), 3)
            for mode, rate in by_mode.items()
            if _is_ray_mode(mode) and mode != "ray-1" and "ray-1" in by_mode
        },
        "gpus": len(gpu_names()),
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({"speedups": report["speedups"], "ray": report["ray_scaling_efficiency"]}))


if __name__ == "__main__":
    main()
