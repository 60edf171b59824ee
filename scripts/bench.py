"""Benchmark qasr (MLX) against the official qwen-asr transformers backend, side by side.

Both sides load the same full-size random-weight checkpoint (the real 0.6B / 1.7B shapes) and get
the same inputs; every decode produces exactly `--tokens` tokens (EOS is ignored) so runs compare.
Each side runs in its own process, so peak memory and thread pools do not mix.

    python scripts/bench.py --sizes 0.6b --clips 2.5,10,60 --dtypes float32 \\
        --batch-sizes 1,4 --tokens 16 --out docs/benchmarks/cpu.json

Clips longer than 30 s are split at the same points for both sides (qasr's chunk plan) and
decoded as batches of chunks; `--tokens` is then per chunk. Times are medians of `--repeats`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.official import (  # noqa: E402
    FULL_06B_AUDIO,
    FULL_06B_TEXT,
    REAL_TOKEN_IDS,
)

SIZES = {
    "0.6b": (FULL_06B_AUDIO, FULL_06B_TEXT),
    "1.7b": (
        {**FULL_06B_AUDIO, "d_model": 1024, "encoder_layers": 24, "encoder_attention_heads": 16,
         "encoder_ffn_dim": 4096, "output_dim": 2048},
        {**FULL_06B_TEXT, "hidden_size": 2048, "intermediate_size": 6144},
    ),
}  # fmt: skip
SAMPLE_RATE = 16_000
CHUNK_SECONDS = 30.0


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up: compilation, allocator, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise shaped like speech loudness: the models are random, only the shapes matter."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    envelope = 0.5 + 0.5 * np.sin(np.arange(n) / SAMPLE_RATE * 2 * np.pi * 3)
    return (rng.standard_normal(n) * 0.1 * envelope).astype(np.float32)


def chunks_of(samples: np.ndarray) -> list[np.ndarray]:
    from qasr.domain.chunking import plan_chunks

    return [samples[s.as_slice()] for s in plan_chunks(samples, SAMPLE_RATE, CHUNK_SECONDS)]


def batch_rows(
    decode: Callable[[list[np.ndarray], int, int], None],
    pieces: list[np.ndarray],
    seconds: float,
    args: argparse.Namespace,
    *,
    reset_peak: Callable[[], None],
    peak_gb: Callable[[], float | None],
) -> dict[str, Any]:
    """End-to-end time, per-token decode (N tokens minus 1), RTF and peak memory per batch size.

    One chunk of this length is decoded `batch` times over, as if several files came together."""
    rows: dict[str, Any] = {}
    for batch in args.batch_sizes:
        items = pieces * batch if batch > 1 and len(pieces) == 1 else pieces
        reset_peak()
        one = median_seconds(lambda: decode(items, 1, batch), args.repeats)
        full = median_seconds(lambda: decode(items, args.tokens, batch), args.repeats)
        steps = -(-len(items) // batch)
        rows[str(batch)] = {
            "items": len(items),
            "end_to_end_ms": 1e3 * full,
            "decode_ms_per_token": 1e3 * (full - one) / (args.tokens - 1) / steps,
            "real_time_factor": full / (seconds * len(items) / len(pieces)),
            "peak_memory_gb": peak_gb(),
        }
    return rows


# --- checkpoint -----------------------------------------------------------------------------


def build_checkpoint(size: str, folder: Path, tokenizer_dir: Path | None) -> None:
    """The official model with random weights (std 0.02), saved with the Qwen tokenizer files."""
    import shutil

    import torch

    official = _official_modules()
    from transformers.modeling_utils import no_init_weights

    audio, text = SIZES[size]
    config = official.Qwen3ASRConfig(
        thinker_config={"audio_config": audio, "text_config": text, **REAL_TOKEN_IDS}
    )
    torch.manual_seed(0)
    with no_init_weights():
        model = official.Qwen3ASRForConditionalGeneration(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name and param.ndim == 1:
                param.fill_(1.0)
            elif param.ndim == 1:
                param.zero_()
            else:
                param.normal_(0.0, 0.02)
    model.save_pretrained(str(folder), safe_serialization=True)
    if tokenizer_dir is not None:
        for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
            shutil.copyfile(tokenizer_dir / name, folder / name)
    else:
        from tests.support.qwen_vocab import write_qwen_tokenizer_files

        write_qwen_tokenizer_files(folder)


def qwen_asr_without_init() -> None:
    """Make `qwen_asr.*` importable without running `qwen_asr/__init__` (which pulls in
    librosa, soundfile and the demo stack that a GPU image may lack)."""
    if "qwen_asr" not in sys.modules:
        spec = importlib.util.find_spec("qwen_asr")
        assert spec is not None and spec.submodule_search_locations is not None
        package = types.ModuleType("qwen_asr")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["qwen_asr"] = package


def _official_modules() -> Any:
    """qwen_asr's transformers backend (qwen_asr/__init__ skipped)."""
    qwen_asr_without_init()
    import qwen_asr.core.transformers_backend as backend

    return backend


def quantized_copy(folder: Path, bits: int) -> Path:
    from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint
    from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan

    target = folder.with_name(f"{folder.name}-q{bits}")
    if not (target / "config.json").exists():
        convert_checkpoint(folder, target, quantization=QuantizationPlan(bits), force=True)
    return target


# --- the two sides --------------------------------------------------------------------------


def bench_mlx(folder: Path, args: argparse.Namespace, dtype: str) -> dict[str, Any]:
    from qasr.adapters.mlx.backend import mx
    from qasr.adapters.mlx.model.mel import log_mel_spectrogram
    from qasr.adapters.mlx.recognizer import MlxRecognizer
    from qasr.domain import RecognitionOptions

    start = time.perf_counter()
    recognizer = MlxRecognizer.from_pretrained(
        folder, dtype=dtype, batch_size=max(args.batch_sizes)
    )
    load_s = time.perf_counter() - start
    recognizer.eos_ids = frozenset()  # exactly --tokens tokens per row
    model = recognizer.thinker.model
    results: dict[str, Any] = {"load_s": load_s, "device": str(mx.default_device()), "clips": {}}

    def decode(pieces: list[np.ndarray], tokens: int, batch: int) -> None:
        options = RecognitionOptions(max_new_tokens=tokens)
        for first in range(0, len(pieces), batch):
            part = pieces[first : first + batch]
            recognizer.decode_batch(part, [options] * len(part))

    for seconds in args.clips:
        samples = speech_like(seconds)
        pieces = chunks_of(samples)
        mel = log_mel_spectrogram(pieces[0])
        dtype_mel = mel.astype(recognizer.thinker.dtype)
        mx.eval(dtype_mel)
        embeds = mx.random.normal((1, 400, model.model.config.hidden_size))
        embeds = embeds.astype(recognizer.thinker.dtype)
        row: dict[str, Any] = {
            "chunks": len(pieces),
            "mel_ms": 1e3 * median_seconds(
                lambda: mx.eval(log_mel_spectrogram(pieces[0])), args.repeats
            ),
            "encoder_ms": 1e3 * median_seconds(
                lambda: mx.eval(model.audio_tower(dtype_mel)), args.repeats
            ),
            "prefill_400_tokens_ms": 1e3 * median_seconds(
                lambda: mx.eval(model.model(embeds, 0, model.model.make_cache())), args.repeats
            ),
            "batches": {},
        }  # fmt: skip
        row["batches"] = batch_rows(
            decode,
            pieces,
            seconds,
            args,
            reset_peak=mx.reset_peak_memory,
            peak_gb=lambda: mx.get_peak_memory() / 1e9,
        )
        results["clips"][str(seconds)] = row
        print(f"mlx {dtype} {seconds}s: {json.dumps(row)}", file=sys.stderr, flush=True)
    return results


def bench_official(folder: Path, args: argparse.Namespace, dtype: str) -> dict[str, Any]:
    import torch

    official = _official_modules()
    from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

    from qasr.adapters.mlx.text.prompt import build_prompt

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    start = time.perf_counter()
    model = official.Qwen3ASRForConditionalGeneration.from_pretrained(
        str(folder), dtype=torch_dtype[dtype]
    ).to(device).eval()  # fmt: skip
    tokenizer = Qwen2TokenizerFast.from_pretrained(str(folder))
    tokenizer.audio_token, tokenizer.audio_bos_token = "<|audio_pad|>", "<|audio_start|>"
    tokenizer.audio_eos_token = "<|audio_end|>"
    processor = official.Qwen3ASRProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer
    )
    load_s = time.perf_counter() - start
    prompt = build_prompt(n_audio_tokens=1)
    results: dict[str, Any] = {"load_s": load_s, "device": device, "clips": {}}

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def generate(pieces: list[np.ndarray], tokens: int, batch: int) -> None:
        # What Qwen3ASRModel._infer_asr_transformers runs, with a fixed number of new tokens.
        for first in range(0, len(pieces), batch):
            part = pieces[first : first + batch]
            inputs = processor(
                text=[prompt] * len(part), audio=part, return_tensors="pt", padding=True
            )
            inputs = inputs.to(device).to(torch_dtype[dtype])
            with torch.no_grad():
                model.generate(
                    **inputs, max_new_tokens=tokens, min_new_tokens=tokens, eos_token_id=None
                )
        sync()

    for seconds in args.clips:
        pieces = chunks_of(speech_like(seconds))
        features = processor.feature_extractor(
            [pieces[0]], sampling_rate=SAMPLE_RATE, padding=True, return_attention_mask=True,
            truncation=False, return_tensors="pt",
        )  # fmt: skip
        mel = features["input_features"].to(device).to(torch_dtype[dtype])
        lengths = features["attention_mask"].sum(-1).to(device)
        embeds = torch.randn(1, 400, model.config.thinker_config.text_config.hidden_size,
                             device=device, dtype=torch_dtype[dtype])  # fmt: skip

        def encoder() -> None:
            with torch.no_grad():
                model.thinker.audio_tower(mel[0, :, : int(lengths[0])], feature_lens=lengths)
            sync()

        def prefill() -> None:
            with torch.no_grad():
                model.thinker.model(inputs_embeds=embeds, use_cache=True)
            sync()

        row: dict[str, Any] = {
            "chunks": len(pieces),
            "mel_ms": 1e3 * median_seconds(
                lambda: processor.feature_extractor([pieces[0]], sampling_rate=SAMPLE_RATE,
                                                    padding=True, truncation=False),
                args.repeats,
            ),
            "encoder_ms": 1e3 * median_seconds(encoder, args.repeats),
            "prefill_400_tokens_ms": 1e3 * median_seconds(prefill, args.repeats),
            "batches": {},
        }  # fmt: skip
        cuda = device == "cuda"
        row["batches"] = batch_rows(
            generate,
            pieces,
            seconds,
            args,
            reset_peak=torch.cuda.reset_peak_memory_stats if cuda else lambda: None,
            peak_gb=lambda: torch.cuda.max_memory_allocated() / 1e9 if cuda else None,
        )
        results["clips"][str(seconds)] = row
        print(f"official {dtype} {seconds}s: {json.dumps(row)}", file=sys.stderr, flush=True)
    return results


# --- driver ---------------------------------------------------------------------------------


def run_side(args: argparse.Namespace) -> None:
    bench = bench_mlx if args.side == "mlx" else bench_official
    result = bench(Path(args.checkpoint), args, args.dtype)
    result["max_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    Path(args.result).write_text(json.dumps(result))


def ratios(mlx: dict[str, Any], official: dict[str, Any]) -> dict[str, Any]:
    """official time / qasr time for every measured quantity: > 1 means qasr is faster."""
    out: dict[str, Any] = {}
    for clip, row in mlx["clips"].items():
        theirs = official["clips"][clip]
        out[clip] = {
            k: theirs[k] / row[k] for k in ("mel_ms", "encoder_ms", "prefill_400_tokens_ms")
        }
        for batch, cell in row["batches"].items():
            other = theirs["batches"][batch]
            out[clip][f"batch{batch}_end_to_end"] = other["end_to_end_ms"] / cell["end_to_end_ms"]
            out[clip][f"batch{batch}_decode_per_token"] = (
                other["decode_ms_per_token"] / cell["decode_ms_per_token"]
            )
    return out


def machine() -> dict[str, Any]:
    from qasr.app import bootstrap

    return {
        "platform": platform.platform(),
        "cpu": bootstrap.cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "mlx": bootstrap.mlx_backend_summary(),
        "gpu": "\n".join(bootstrap.gpu_names()) or None,
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("qasr", "mlx", "mlx-cuda-13", "torch", "transformers", "qwen-asr", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def side_process(
    side: str, checkpoint: Path, dtype: str, result_file: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Run one side in its own process; its results, or the exit status it failed with."""
    command = [
        sys.executable, __file__, "--side", side, "--checkpoint", str(checkpoint),
        "--dtype", dtype, "--result", str(result_file),
        "--clips", ",".join(map(str, args.clips)),
        "--batch-sizes", ",".join(map(str, args.batch_sizes)),
        "--tokens", str(args.tokens), "--repeats", str(args.repeats),
    ]  # fmt: skip
    # The official side imports qasr's prompt builder, and with it the MLX backend, whose BLAS
    # preload (ADR 0006) would then serve torch's process too: it must run as torch runs alone.
    env = {**os.environ, "QASR_BLAS": "none"} if side == "official" else None
    finished = subprocess.run(command, check=False, env=env)
    if finished.returncode != 0:
        return {"error": f"exit status {finished.returncode}"}
    result: dict[str, Any] = json.loads(result_file.read_text())
    return result


def save(report: dict[str, Any], runs: list[dict[str, Any]], out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({**report, "runs": runs}, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.6b")
    parser.add_argument("--clips", default="2.5,10,60", help="clip lengths in seconds")
    parser.add_argument("--dtypes", default="float32")
    parser.add_argument("--official-dtype", default=None, help="default: same as each --dtypes")
    parser.add_argument("--batch-sizes", default="1,4")
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-official", action="store_true")
    parser.add_argument("--quantize", default="", help="also run qasr on 8/4-bit copies: '8,4'")
    parser.add_argument("--tokenizer", type=Path, default=None, help="folder with the Qwen vocab")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, required=False)
    # internal: one side in a subprocess
    parser.add_argument("--side", choices=["mlx", "official"], help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.clips = [float(x) for x in str(args.clips).split(",")]
    args.batch_sizes = [int(x) for x in str(args.batch_sizes).split(",")]
    if args.side:
        run_side(args)
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="qasr-bench-"))
    report: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "machine": machine(),
        "versions": versions(),
        "tokens_per_decode": args.tokens,
        "runs": [],
    }  # fmt: skip
    for size in args.sizes.split(","):
        folder = workdir / size
        if not (folder / "config.json").exists():
            start = time.perf_counter()
            build_checkpoint(size, folder, args.tokenizer)
            print(f"built {size} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        for dtype in args.dtypes.split(","):
            run: dict[str, Any] = {"size": size, "dtype": dtype}
            sides = ["mlx"] if args.no_official else ["mlx", "official"]
            for side in sides:
                result_file = workdir / f"{size}-{dtype}-{side}.json"
                side_dtype = (args.official_dtype or dtype) if side == "official" else dtype
                run[side] = side_process(side, folder, side_dtype, result_file, args)
                if "error" in run[side]:
                    continue
                save(report, [*report["runs"], run], args.out)  # partial results survive a kill
            if "clips" in run.get("official", {}) and "clips" in run["mlx"]:
                run["speedup_official_over_qasr"] = ratios(run["mlx"], run["official"])
            report["runs"].append(run)
            save(report, report["runs"], args.out)
        for bits in filter(None, args.quantize.split(",")):
            quantized = quantized_copy(folder, int(bits))
            run = {"size": size, "dtype": f"{args.dtypes.split(',')[0]}+q{bits}"}
            result_file = workdir / f"{size}-q{bits}-mlx.json"
            base_dtype = args.dtypes.split(",")[0]
            run["mlx"] = side_process("mlx", quantized, base_dtype, result_file, args)
            report["runs"].append(run)
            save(report, report["runs"], args.out)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
