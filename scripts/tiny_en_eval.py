"""Score a quantized qasr model on a test manifest and check that the official qwen-asr agrees.

    python scripts/tiny_en_eval.py --model tiny-en --manifest corpus/test.jsonl \
        --out docs/benchmarks/tiny-en.json [--float work/tiny-en] [--limit N]

qasr transcribes every clip of the manifest (batched, language not forced, no context). The model
is then dequantized into a temporary float copy in the original layout
(qasr.adapters.mlx.checkpoint.dequantize: at float32, exactly the numbers qasr's quantized matmuls
multiply with), and the official `Qwen3ASRModel.from_pretrained(copy,
dtype=float32).transcribe(...)` transcribes the same clips in batches. Both are scored (WER/CER
after qasr.training.metrics.normalize_transcript), and every clip whose text differs between the
two is listed: the target is none. A differing clip is transcribed again by the official model
alone, since its padded batches are not quite its one-by-one decoding. `--float FOLDER` also runs
qasr on the float checkpoint the model was quantized from, to show what quantizing cost and which
clips it changed.

Both sides decode greedily at float32 with the same token budget (--max-new-tokens), so a clip
that never ends stops at the same place on both. The JSON records the command, versions,
machine and wall times. Exit status 1 when some clip still differs with the official decoding it
alone (after writing the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from qasr import Session, load_audio
from qasr.adapters.mlx.checkpoint.dequantize import write_dequantized_checkpoint
from qasr.adapters.mlx.checkpoint.files import read_json, resolve_model_folder
from qasr.app.bootstrap import build_recognizer
from qasr.domain import FinishReason
from qasr.errors import QasrError
from qasr.training.manifest import Example, read_manifest
from qasr.training.metrics import character_errors, word_errors

SAMPLE_RATE = 16_000
DTYPE = "float32"  # the official side runs float32; qasr must multiply with the same numbers
PACKAGES = ("qasr", "mlx", "torch", "transformers", "qwen-asr", "numpy")


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def scores(examples: Sequence[Example], texts: Sequence[str]) -> dict[str, Any]:
    references = [example.text for example in examples]
    words, chars = word_errors(references, texts), character_errors(references, texts)
    return {
        "wer": words.rate,
        "cer": chars.rate,
        "word_errors": words.errors,
        "words": words.reference_length,
        "char_errors": chars.errors,
        "chars": chars.reference_length,
    }


def differences(
    examples: Sequence[Example],
    manifest: Path,
    ours: Sequence[str],
    theirs: Sequence[str],
    names: tuple[str, str],
) -> dict[str, Any]:
    clips = [
        {
            "index": index,
            "audio": os.path.relpath(example.audio, manifest.parent),
            "reference": example.text,
            names[0]: a,
            names[1]: b,
        }
        for index, (example, a, b) in enumerate(zip(examples, ours, theirs, strict=True))
        if a != b
    ]
    return {"differing": len(clips), "clips": clips}


def run_qasr(
    model: str, clips: Sequence[np.ndarray], batch_size: int, max_new_tokens: int
) -> dict[str, Any]:
    start = time.perf_counter()
    session = Session(build_recognizer(model, dtype=DTYPE, batch_size=batch_size))
    loaded = time.perf_counter()
    transcripts = session.transcribe_batch(list(clips), max_new_tokens=max_new_tokens)
    done = time.perf_counter()
    return {
        "texts": [t.text for t in transcripts],
        "languages": [t.language.name if t.language else "" for t in transcripts],
        "out_of_tokens": sum(t.finish_reason is FinishReason.LENGTH for t in transcripts),
        "load_seconds": loaded - start,
        "transcribe_seconds": done - loaded,
    }


def run_official(
    folder: Path, clips: Sequence[np.ndarray], batch_size: int, max_new_tokens: int, ours: list[str]
) -> dict[str, Any]:
    """The official model's texts, batched as asked; clips whose text differs from `ours` are
    transcribed again one by one, because the official batch pads audio and prompts, which
    changes its own numbers slightly (qasr's batches equal its one-by-one decoding, ADR 0012)."""
    import torch
    from qwen_asr import Qwen3ASRModel

    start = time.perf_counter()
    model = Qwen3ASRModel.from_pretrained(
        str(folder),
        dtype=torch.float32,
        max_new_tokens=max_new_tokens,
        max_inference_batch_size=batch_size,
    )
    loaded = time.perf_counter()
    results = model.transcribe(audio=[(clip, SAMPLE_RATE) for clip in clips])
    done = time.perf_counter()
    texts = [r.text for r in results]
    differing = [index for index, (a, b) in enumerate(zip(ours, texts, strict=True)) if a != b]
    model.max_inference_batch_size = 1
    alone = [model.transcribe(audio=(clips[index], SAMPLE_RATE))[0] for index in differing]
    return {
        "texts": texts,
        "languages": [r.language for r in results],
        "alone": {index: r.text for index, r in zip(differing, alone, strict=True)},
        "load_seconds": loaded - start,
        "transcribe_seconds": done - loaded,
        "torch_threads": torch.get_num_threads(),
    }


def agreement(
    examples: Sequence[Example], manifest: Path, ours: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, Any]:
    found = differences(examples, manifest, ours["texts"], theirs["texts"], ("qasr", "official"))
    for clip in found["clips"]:
        clip["official_alone"] = theirs["alone"][clip["index"]]
    return {
        **found,
        "differing_official_alone": sum(c["official_alone"] != c["qasr"] for c in found["clips"]),
        "languages_differing": sum(
            a != b for a, b in zip(ours["languages"], theirs["languages"], strict=True)
        ),
    }


def side_report(run: dict[str, Any], examples: Sequence[Example]) -> dict[str, Any]:
    kept = {k: v for k, v in run.items() if k not in ("texts", "languages", "alone")}
    return {**scores(examples, run["texts"]), **kept}


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    examples = read_manifest(args.manifest)[: args.limit]
    clips = [load_audio(example.audio) for example in examples]
    folder = resolve_model_folder(args.model)
    decoding = {
        "dtype": DTYPE,
        "max_new_tokens": args.max_new_tokens,
        "batch_size": args.batch_size,
        "language": "not forced",
        "context": "",
    }
    print(f"{len(clips)} clips; qasr on {args.model} ...", file=sys.stderr)
    ours = run_qasr(args.model, clips, args.batch_size, args.max_new_tokens)
    with tempfile.TemporaryDirectory(prefix="qasr-dequantized-") as work:
        start = time.perf_counter()
        copy = write_dequantized_checkpoint(folder, Path(work) / "model", dtype=DTYPE)
        dequantize_seconds = time.perf_counter() - start
        print("official qwen-asr on the dequantized copy ...", file=sys.stderr)
        theirs = run_official(copy, clips, args.batch_size, args.max_new_tokens, ours["texts"])
    report: dict[str, Any] = {
        "benchmark": "tiny-en accuracy and agreement with the official qwen-asr",
        "command": shlex.join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": versions(),
        "model": {
            "name": args.model,
            "path": str(folder),
            "quantization": read_json(folder, "config.json").get("quantization"),
        },
        "manifest": str(args.manifest),
        "clips": len(examples),
        "audio_seconds": sum(clip.size for clip in clips) / SAMPLE_RATE,
        "decoding": decoding,
        "qasr": side_report(ours, examples),
        "official": {**side_report(theirs, examples), "dequantize_seconds": dequantize_seconds},
        "qasr_vs_official": agreement(examples, args.manifest, ours, theirs),
    }
    if args.float is not None:
        print(f"qasr on the float checkpoint {args.float} ...", file=sys.stderr)
        floats = run_qasr(str(args.float), clips, args.batch_size, args.max_new_tokens)
        report["float"] = {
            "path": str(args.float),
            **side_report(floats, examples),
            "vs_quantized": differences(
                examples, args.manifest, floats["texts"], ours["texts"], ("float", "quantized")
            ),
        }
    report["wall_seconds"] = time.perf_counter() - started
    return report


def summary(report: dict[str, Any]) -> str:
    def line(name: str, side: dict[str, Any]) -> str:
        seconds = side["load_seconds"] + side["transcribe_seconds"]
        return f"  {name:<9}WER {side['wer']:7.2%}  CER {side['cer']:7.2%}  ({seconds:.1f} s)"

    agreed = report["qasr_vs_official"]
    lines = [
        f"{report['model']['name']} on {report['manifest']}: {report['clips']} clips",
        line("qasr", report["qasr"]),
        line("official", report["official"]),
        f"  texts differing, qasr vs official: {agreed['differing']} "
        f"({agreed['differing_official_alone']} when the official decodes those clips alone)",
    ]
    if "float" in report:
        changed = report["float"]["vs_quantized"]["differing"]
        lines += [line("float", report["float"]), f"  texts changed by quantizing: {changed}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny-en", help="quantized qasr model: folder or name")
    parser.add_argument("--manifest", type=Path, required=True, help="JSON-lines test manifest")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON report")
    parser.add_argument("--float", type=Path, help="the float checkpoint the model came from")
    parser.add_argument("--limit", type=int, help="only the first N clips")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=128, help="budget of both sides")
    args = parser.parse_args(argv)
    try:
        report = evaluate(args)
    except QasrError as error:
        print(f"tiny_en_eval: error: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(summary(report))
    print(f"wrote {args.out}")
    return 1 if report["qasr_vs_official"]["differing_official_alone"] else 0


if __name__ == "__main__":
    sys.exit(main())
