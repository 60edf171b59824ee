"""ms per decoded token of the dynamic, static and compiled decode steps, interleaved in one run.

The steps take turns on the same prefilled cache (the same model, prompt and batch), so a load
that drifts on a shared machine hits them alike; the report keeps every round and its median.

    python scripts/bench_decode_step.py --batch-sizes 1,4 --tokens 16 --rounds 5 \\
        --out docs/benchmarks/decode-step-cpu.json

Without `--model` the text decoder has the real 0.6B shapes with random weights. `--padding N`
left-pads row r of a batch by (r * N) % prompt positions, as a batch of unequal chunks is, so the
steps attend under a key mask. `--fused both` (CUDA) times each step with the fused decode
kernels (cuda_decode_kernels.py) and without them (QASR_FUSED_DECODE=0), turn by turn.
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
sys.path.insert(0, str(ROOT / "scripts"))

from count_kernels import load_thinker  # noqa: E402

STEPS = ("dynamic", "static", "compiled")


def time_tokens(
    thinker: Any, step: str, cache: Any, starts: Any, key_mask: Any, tokens: int
) -> float:
    """Seconds per token for `tokens` greedy steps after the prompt in `cache` (left as it was)."""
    from qasr.adapters.mlx.backend import mx
    from qasr.adapters.mlx.model.generate import next_tokens
    from qasr.adapters.mlx.model.prefilled_decoder import PrefilledDecoder
    from qasr.adapters.mlx.model.static_decoder import StaticDecoder

    if step == "dynamic":
        decoder: Any = PrefilledDecoder(thinker, cache, starts, key_mask, tokens + 1)
    else:
        compiled = step == "compiled"
        decoder = StaticDecoder(thinker, cache, starts, key_mask, tokens + 1, compiled=compiled)
    token = mx.zeros((starts.shape[0], 1), dtype=mx.int32)
    start = time.perf_counter()
    for _ in range(tokens):  # as greedy_generate: queue the next step, then read the ids back
        token = next_tokens(decoder.feed(token))[:, None]
        mx.async_eval(token)
        token.tolist()
    seconds = (time.perf_counter() - start) / tokens
    if step == "dynamic":
        decoder.rewind(tokens)
    return seconds


def _label(mode: str, step: str) -> str:
    """A run's key in the report: the step, after its mode when fused and plain are both run."""
    return step if mode == "default" else f"{mode}/{step}"


class ModeSwitch:
    """Turns the fused kernels on or off; each mode keeps its own compiled step (its trace)."""

    def __init__(self, thinker: Any, variable: str, mode: str) -> None:
        self.thinker, self.variable, self.mode = thinker, variable, mode
        self.compiled: dict[str, Any] = {}

    def use(self, mode: str) -> None:
        if mode != "default":
            os.environ[self.variable] = "1" if mode == "fused" else "0"
        self.compiled[self.mode] = getattr(self.thinker, "_qasr_compiled_step", None)
        self.thinker._qasr_compiled_step = self.compiled.get(mode)
        self.mode = mode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint folder (default: random 0.6B decoder)")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--batch-sizes", default="1,4")
    parser.add_argument("--prompt", type=int, default=400)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--padding", type=int, default=0, help="left padding step between rows")
    parser.add_argument("--fused", choices=["default", "both"], default="default")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from qasr.adapters.mlx.backend import mx
    from qasr.adapters.mlx.model.cuda_decode_kernels import FUSED_DECODE_VARIABLE
    from qasr.adapters.mlx.model.text_decoder import padded_causal_mask

    thinker = load_thinker(args.model, args.dtype)
    report: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "model": args.model or "random 0.6B text decoder (tests/support/official.py shapes)",
        "device": str(mx.default_device()),
        "mlx": mx.__version__,
        "padding": args.padding,
        "load_average_before": os.getloadavg(),
        "batches": {},
    }
    modes = ("fused", "plain") if args.fused == "both" else ("default",)
    switch = ModeSwitch(thinker, FUSED_DECODE_VARIABLE, modes[0])
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        hidden = thinker.model.config.hidden_size
        dtype = thinker.model.embed_tokens.weight.dtype
        embeds = mx.random.normal((batch, args.prompt, hidden)).astype(dtype)
        padding = [(row * args.padding) % args.prompt for row in range(batch)]
        columns = mx.arange(args.prompt)[None, :]
        key_mask = None
        if any(padding):
            key_mask = (columns >= mx.array(padding)[:, None]).astype(mx.int32)
        starts = -mx.array(padding, dtype=mx.int32)
        prompt_mask = None if key_mask is None else padded_causal_mask(key_mask, args.prompt)
        runs = [(mode, step) for mode in modes for step in STEPS]
        caches = {}
        for mode, step in runs:  # a prefill per mode, then a warm-up: allocator, compile trace
            switch.use(mode)
            if mode not in caches:
                caches[mode] = thinker.model.make_cache()
                mx.eval(thinker.model(embeds, starts, caches[mode], prompt_mask))
            time_tokens(thinker, step, caches[mode], starts, key_mask, args.tokens)
        rounds: dict[str, list[float]] = {_label(mode, step): [] for mode, step in runs}
        for _ in range(args.rounds):
            for mode, step in runs:
                switch.use(mode)
                seconds = time_tokens(thinker, step, caches[mode], starts, key_mask, args.tokens)
                rounds[_label(mode, step)].append(1e3 * seconds)
        report["batches"][str(batch)] = {
            key: {"median_ms_per_token": float(np.median(ms)), "rounds_ms": ms}
            for key, ms in rounds.items()
        }
        medians = {s: round(float(np.median(ms)), 2) for s, ms in rounds.items()}
        print(f"batch {batch}: {medians}", file=sys.stderr, flush=True)
    report["load_average_after"] = os.getloadavg()
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
