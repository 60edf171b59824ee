"""Count the primitive ops (kernels) of one decode step of the recognizer, per batch size.

The step is built exactly as `MlxRecognizer` decodes (a `PrefilledDecoder` after a prefill, then
the greedy pick), left lazy, and its graph is written with `mx.export_to_dot`: every rectangle in
that graph is one primitive MLX runs, and `Compiled` is one fused kernel of an `mx.compile`d
function. View-like primitives (reshape, slice, broadcast...) cost host time but launch no
kernel on a GPU; they are counted apart.

    python scripts/count_kernels.py --batch-sizes 1,8 --out docs/benchmarks/decode-kernels.json
    python scripts/count_kernels.py --model /path/to/checkpoint --batch-sizes 1

Without `--model` the decoder has the real 0.6B shapes with random weights (no checkpoint is
built: only the text decoder takes part in a decode step).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Primitives that only change how an array is viewed (no kernel of their own on a GPU).
VIEWS = frozenset(
    {"Broadcast", "Reshape", "Slice", "Transpose", "AsStrided", "ExpandDims", "Squeeze",
     "Split", "StopGradient", "AsType_view", "Unflatten", "Flatten"}
)  # fmt: skip


class RandomThinker:
    """Just what a decode step uses: the text decoder and its (tied) output projection."""

    def __init__(self, text: dict[str, Any]) -> None:
        from qasr.adapters.mlx.backend import mx
        from qasr.adapters.mlx.model.text_decoder import TextConfig, TextModel

        self.model = TextModel(TextConfig.from_dict(text))
        mx.eval(self.model.parameters())

    def logits(self, hidden: Any) -> Any:
        return self.model.as_logits(hidden)


def load_thinker(model: str | None, dtype: str) -> Any:
    from qasr.adapters.mlx.backend import mx, parse_dtype

    if model is None:
        from tests.support.official import FULL_06B_TEXT

        thinker = RandomThinker(FULL_06B_TEXT)
        wanted = parse_dtype(dtype) or mx.float32
        thinker.model.set_dtype(wanted)
        return thinker
    from qasr.adapters.mlx.recognizer import MlxRecognizer

    return MlxRecognizer.from_pretrained(model, dtype=dtype).thinker.model


def step_graph(thinker: Any, batch: int, prompt: int, tokens_before: int, decode_step: str) -> str:
    """The DOT graph of the decode step after `prompt` prompt and `tokens_before` decoded tokens;
    with batch > 1 the first row is left-padded, as in a batch of clips of different lengths."""
    from qasr.adapters.mlx.backend import mx
    from qasr.adapters.mlx.model.generate import next_tokens
    from qasr.adapters.mlx.model.prefilled_decoder import PrefilledDecoder
    from qasr.adapters.mlx.model.static_decoder import StaticDecoder

    hidden_size = thinker.model.config.hidden_size
    dtype = thinker.model.embed_tokens.weight.dtype
    embeds = mx.random.normal((batch, prompt, hidden_size)).astype(dtype)
    cache = thinker.model.make_cache()
    pads = [prompt // 4 if batch > 1 and row == 0 else 0 for row in range(batch)]
    key_mask = (
        mx.array([[0] * pad + [1] * (prompt - pad) for pad in pads], dtype=mx.int32)
        if any(pads)
        else None
    )
    starts = mx.array([-pad for pad in pads], dtype=mx.int32)
    from qasr.adapters.mlx.model.text_decoder import padded_causal_mask

    mask = None if key_mask is None else padded_causal_mask(key_mask, prompt)
    mx.eval(thinker.model(embeds, starts, cache, mask))
    room = tokens_before + 8
    if decode_step == "dynamic":
        decoder: Any = PrefilledDecoder(thinker, cache, starts, key_mask, room)
    else:
        compiled = decode_step == "compiled"
        decoder = StaticDecoder(thinker, cache, starts, key_mask, room, compiled=compiled)
    token = mx.zeros((batch, 1), dtype=mx.int32)
    for _ in range(tokens_before):  # reach a steady state (a compiled step traces once)
        token = next_tokens(decoder.feed(token))[:, None]
        mx.eval(token)
    picks = next_tokens(decoder.feed(token))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "step.dot"
        mx.export_to_dot(str(path), picks)
        return path.read_text()


def count_primitives(dot: str) -> dict[str, Any]:
    labels = re.findall(r'\[label ="([^"]+)", shape=rectangle\]', dot)
    by_name = collections.Counter(labels)
    views = sum(count for name, count in by_name.items() if name in VIEWS)
    return {
        "primitives": len(labels),
        "kernels": len(labels) - views,
        "views": views,
        "by_primitive": dict(by_name.most_common()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint folder (default: random 0.6B decoder)")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--batch-sizes", default="1,8")
    parser.add_argument("--prompt", type=int, default=400, help="prompt tokens before decoding")
    parser.add_argument("--tokens-before", type=int, default=3)
    parser.add_argument(
        "--decode-step", default="dynamic", choices=["dynamic", "static", "compiled"]
    )
    parser.add_argument("--label", default="", help="name of this run in --out (e.g. 'before')")
    parser.add_argument("--out", type=Path, help="JSON file to add this run to")
    args = parser.parse_args()

    from qasr.adapters.mlx.backend import mx

    thinker = load_thinker(args.model, args.dtype)
    run: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "model": args.model or "random 0.6B text decoder (tests/support/official.py shapes)",
        "dtype": args.dtype,
        "decode_step": args.decode_step,
        "device": str(mx.default_device()),
        "mlx": mx.__version__,
        "batches": {},
    }
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        graph = step_graph(thinker, batch, args.prompt, args.tokens_before, args.decode_step)
        run["batches"][str(batch)] = count_primitives(graph)
        counts = run["batches"][str(batch)]
        print(
            f"batch {batch}: {counts['primitives']} primitives, {counts['kernels']} kernels",
            file=sys.stderr,
        )
    if args.out is not None:
        report = json.loads(args.out.read_text()) if args.out.exists() else {"runs": {}}
        report["runs"][args.label or "latest"] = run
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(run, indent=2))


if __name__ == "__main__":
    main()
