"""Load test of `qasr serve` on loopback: N concurrent clients, short and long files, sync and job
endpoints; every request must be answered and no job lost or duplicated.

The server is the real `qasr serve` command in its own process, on a random-weight checkpoint
(`--model tiny`: the test sizes; `--model 0.6b`: the real Qwen3-ASR-0.6B shapes, for a GPU; or a
checkpoint folder). Clients are threads of this process, each with its own HTTP connection.

    python scripts/serve_load.py --model tiny --concurrency 1,8,32,64 \\
        --out docs/benchmarks/serve-load-cpu.json
    # on the H200 (mlx[cuda]): what batching across requests buys at full size
    python scripts/serve_load.py --model 0.6b --batch-size 64 --concurrency 1,8,32,64 \\
        --out docs/benchmarks/serve-load-h200.json

Per concurrency level it records p50/p99 latency (sync: the answer; job: submit to succeeded),
throughput in audio seconds per wall second, 503 retries, and the mean requests per decode batch
read from /metrics. Bounded: `--requests` per level and `--time-limit` seconds overall.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
KEY = "load-test-key-0001"
RATE = 16_000


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Tones in syllable-long bursts with pauses, so chunk cuts find quiet places."""
    rng = np.random.default_rng(seed)
    times = np.arange(int(seconds * RATE)) / RATE
    envelope = (np.sin(2 * np.pi * 2.5 * times) > -0.2).astype(np.float32)
    voice = np.sin(2 * np.pi * rng.uniform(150, 400) * times)
    noise = 0.02 * rng.standard_normal(times.size)
    return (0.3 * envelope * voice + noise).astype(np.float32)


def build_checkpoint(name: str, folder: Path) -> Path:
    if Path(name).is_dir():
        return Path(name)
    from tests.support.official import FULL_06B_AUDIO, FULL_06B_TEXT, TINY_AUDIO, TINY_TEXT
    from tests.support.qwen_vocab import cached_tokenizer_folder

    from qasr.training.scratch import scratch_config, write_scratch_checkpoint

    shapes = {"tiny": (TINY_AUDIO, TINY_TEXT), "0.6b": (FULL_06B_AUDIO, FULL_06B_TEXT)}[name]
    return write_scratch_checkpoint(
        folder / f"random-{name}", scratch_config(*shapes), cached_tokenizer_folder()
    )


def start_server(args: argparse.Namespace, model: Path, data: Path, port: int) -> Any:
    command = [
        "serve", "--model", str(model),
        "--port", str(port), "--api-key", KEY, "--data-dir", str(data),
        "--batch-size", str(args.batch_size), "--max-queue", str(args.max_queue),
        "--rate-limit", "0", "--request-timeout", str(args.time_limit),
    ]  # fmt: skip
    if args.dtype:
        command += ["--dtype", args.dtype]
    # This checkout's src first, then whatever the caller's path holds (the GPU machine's staged
    # MLX and server wheels live there).
    paths = [str(ROOT / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    log = open(data / "server.log", "w")  # noqa: SIM115 - lives as long as the server
    launcher = "import sys; from qasr.app.entry.cli import main; sys.exit(main(sys.argv[1:]))"
    server = subprocess.Popen(
        [sys.executable, "-c", launcher, *command],
        env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while True:
        if server.poll() is not None:
            raise SystemExit(f"the server exited; see {data / 'server.log'}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not become ready in 600 s")
        time.sleep(0.2)


def one_request(url: str, index: int, files: dict[str, Path], deadline: float) -> dict[str, Any]:
    kind = "job" if index % 2 else "sync"
    size = "long" if index % 4 in (2, 3) else "short"
    path = files[size]
    headers = {"Authorization": f"Bearer {KEY}"}
    started = time.monotonic()
    retries = 0
    with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
        while True:
            upload = {"file": (path.name, path.read_bytes(), "audio/wav")}
            endpoint = "/v1/jobs" if kind == "job" else "/v1/audio/transcriptions"
            answer = client.post(endpoint, files=upload)
            if answer.status_code != 503 or time.monotonic() > deadline:
                break
            retries += 1
            time.sleep(float(answer.headers.get("retry-after", "1")))
        result: dict[str, Any] = {"kind": kind, "size": size, "retries": retries}
        if kind == "sync":
            result |= {"status": answer.status_code, "text": answer.json().get("text")}
        else:
            assert answer.status_code == 202, answer.text
            job_id = answer.json()["id"]
            while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] in (
                "queued", "running",
            ):  # fmt: skip
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            result |= {"status": job["status"], "text": job.get("text"), "id": job_id}
    result["seconds"] = time.monotonic() - started
    return result


def batch_stats(url: str) -> tuple[float, float]:
    text = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {KEY}"}).text
    values = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    return float(values["qasr_batch_requests_sum"]), float(values["qasr_batch_requests_count"])


def run_level(
    url: str, concurrency: int, count: int, files: dict[str, Path], seconds: dict[str, float],
    deadline: float, allow_variation: bool,
) -> dict[str, Any]:  # fmt: skip
    before = batch_stats(url)
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda i: one_request(url, i, files, deadline), range(count)))
    wall = time.monotonic() - started
    after = batch_stats(url)
    failed = [r for r in results if r["status"] not in (200, "succeeded")]
    assert not failed, f"unanswered or failed requests: {failed[:3]}"
    job_ids = [r["id"] for r in results if r["kind"] == "job"]
    assert len(set(job_ids)) == len(job_ids), "a job id was given twice"
    texts = {(r["size"], r["text"]) for r in results}
    texts_per_file = len(texts) / len({r["size"] for r in results})
    # On CPU float32 a file's text does not depend on its batch (docs/adr/0012). In bfloat16 on a
    # GPU the matmul kernels change with the batch's rows, and random weights have near-tied
    # logits, so a row's greedy text may differ: recorded, asserted only where it must hold.
    assert allow_variation or texts_per_file == 1, "one file, one text, batched or not"
    latencies = np.array([r["seconds"] for r in results])
    audio = sum(seconds[r["size"]] for r in results)
    batches = after[1] - before[1]
    return {
        "concurrency": concurrency,
        "requests": count,
        "jobs": len(job_ids),
        "wall_s": round(wall, 3),
        "p50_s": round(float(np.percentile(latencies, 50)), 4),
        "p99_s": round(float(np.percentile(latencies, 99)), 4),
        "audio_seconds_per_second": round(audio / wall, 2),
        "retries_503": sum(r["retries"] for r in results),
        "decode_batches": int(batches),
        "mean_requests_per_batch": round((after[0] - before[0]) / max(batches, 1), 2),
        "distinct_texts_per_file": round(texts_per_file, 2),
    }


def machine() -> dict[str, Any]:
    from qasr.app.bootstrap import cpu_model, gpu_names

    return {"platform": platform.platform(), "cpu": cpu_model(), "cores": os.cpu_count(),
            "python": platform.python_version(),
            "gpu": "\n".join(gpu_names()) or None}  # fmt: skip


def _version(name: str) -> str:
    """The installed distribution's version; qasr itself may run from a source tree (the GPU
    machine's staged copy), where its package says it."""
    try:
        return version(name)
    except PackageNotFoundError:
        if name == "qasr":
            import qasr

            return f"{qasr.__version__} (source tree)"
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny", help="tiny, 0.6b or a checkpoint folder")
    parser.add_argument("--dtype", help="passed to qasr serve (default: by device)")
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument(
        "--requests", type=int, default=0, help="per level (default: N, at least 16)"
    )
    parser.add_argument("--short", type=float, default=2.0, help="seconds of the short file")
    parser.add_argument("--long", type=float, default=45.0, help="seconds of the long file")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-queue", type=int, default=32)
    parser.add_argument("--time-limit", type=int, default=900, help="seconds for the whole run")
    parser.add_argument(
        "--allow-text-variation", action="store_true",
        help="record, do not assert, that a file's text is the same in every batch (bfloat16 GPU)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    deadline = time.monotonic() + args.time_limit

    from tests.app.server.support import free_port

    from qasr.adapters.audio import write_wav

    work = Path(tempfile.mkdtemp(prefix="serve-load-"))
    seconds = {"short": args.short, "long": args.long}
    files = {}
    for seed, (size, length) in enumerate(seconds.items()):
        files[size] = work / f"{size}.wav"
        write_wav(files[size], speech_like(length, seed), RATE)
    model = build_checkpoint(args.model, work)
    (work / "data").mkdir()
    server, url = start_server(args, model, work / "data", free_port())
    levels = []
    try:
        for concurrency in (int(part) for part in args.concurrency.split(",")):
            count = args.requests or max(16, concurrency)
            level = run_level(
                url, concurrency, count, files, seconds, deadline, args.allow_text_variation
            )
            print(json.dumps(level), flush=True)
            levels.append(level)
        listed = httpx.get(f"{url}/v1/jobs", headers={"Authorization": f"Bearer {KEY}"}).json()
        submitted = sum(level["jobs"] for level in levels)
        assert len(listed["data"]) == submitted, "the server lists every job exactly once"
    finally:
        server.terminate()
        server.wait(30)
    report = {
        "command": "python " + " ".join([f"scripts/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
        "machine": machine(),
        "versions": {name: _version(name) for name in ("qasr", "mlx", "fastapi", "uvicorn")},
        "model": args.model,
        "files_s": seconds,
        "batch_size": args.batch_size,
        "max_queue": args.max_queue,
        "mix": "alternating sync / job requests; half short, half long files",
        "levels": levels,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
