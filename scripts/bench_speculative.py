"""Speculative decoding's speed and acceptance against plain greedy decoding, on this machine.

    python scripts/bench_speculative.py --model TARGET --draft DRAFT --draft-tokens 2,4,8 \\
        --seconds 10 --tokens 48 --out docs/benchmarks/speculative-cpu.json

With the same folder as --model and --draft every proposal is right: the upper bound of
acceptance, and the cost of a draft as big as the target. Every decode produces exactly
`--tokens` tokens (EOS is ignored), so runs compare; times are medians of `--repeats`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--draft", required=True)
    parser.add_argument("--draft-tokens", default="2,4,8")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speech", help="a 16 kHz wav to decode instead of noise")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from qasr.adapters.mlx.backend import mx
    from qasr.adapters.mlx.recognizer import MlxRecognizer
    from qasr.domain import RecognitionOptions

    if args.speech:
        import soundfile

        samples, _ = soundfile.read(args.speech, dtype="float32")
        clip = samples[: int(args.seconds * 16_000)]
    else:
        rng = np.random.default_rng(0)
        clip = (rng.standard_normal(int(args.seconds * 16_000)) * 0.1).astype(np.float32)
    target = MlxRecognizer.from_pretrained(args.model, dtype=args.dtype)
    target.eos_ids = frozenset()  # exactly --tokens tokens
    draft = target if args.draft == args.model else MlxRecognizer.from_pretrained(args.draft)
    clips, options = [clip] * args.batch, [RecognitionOptions(max_new_tokens=args.tokens)]
    options = options * args.batch

    def timed(recognizer: MlxRecognizer) -> tuple[float, Any]:
        recognizer.decode_batch(clips, options)  # warm-up
        times, tokens = [], None
        for _ in range(args.repeats):
            start = time.perf_counter()
            tokens = [d.tokens for d in recognizer.decode_batch(clips, options)]
            times.append(time.perf_counter() - start)
        return float(np.median(times)), tokens

    report: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "device": str(mx.default_device()),
        "load_average": os.getloadavg(),
        "decode_step": target.decode_step,
        "tokens": args.tokens,
        "batch": args.batch,
        "seconds": args.seconds,
        "runs": {},
    }
    plain_s, plain_tokens = timed(target)
    report["runs"]["plain"] = {"decode_s": plain_s}
    print(f"plain: {plain_s:.3f} s", file=sys.stderr, flush=True)
    for k in (int(value) for value in args.draft_tokens.split(",")):
        speculative = target.with_draft(draft, k)
        seconds, tokens = timed(speculative)
        generation = speculative.last_generation
        assert generation is not None
        report["runs"][f"draft{k}"] = {
            "decode_s": seconds,
            "speedup_over_plain": plain_s / seconds,
            "acceptance": generation.accepted / max(1, generation.drafted),
            "same_tokens_as_plain": tokens == plain_tokens,
        }
        print(f"k={k}: {json.dumps(report['runs'][f'draft{k}'])}", file=sys.stderr, flush=True)
    report["load_average_after"] = os.getloadavg()
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
