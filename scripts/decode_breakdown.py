"""Where one decode step's time goes, op by op: each op of the step timed alone at its real shapes.

A decode step of the 0.6B text decoder is ~16 ops per layer (28 layers) plus the embedding,
the final norm, the tied output projection and the greedy pick. Each op here is built from the
real modules' weights (layer 0 of a random 0.6B decoder, `--dtype`) on the inputs the step
gives it, and timed as `--copies` independent copies evaluated together: MLX runs them one
after another on one stream, so a copy's share is that op's cost in a step, host dispatch
included. Next to it: the bytes the op must move and the floor those bytes put on it at the
bandwidth measured in the same run (a large copy), and the host time to build the op lazily.
The sum over a step's ops is set beside the measured step (dynamic and compiled decode steps).

    python scripts/decode_breakdown.py --batch-sizes 1,64 --dtype bfloat16 \\
        --out docs/benchmarks/decode-breakdown-h200.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import median_seconds  # noqa: E402
from bench_decode_step import time_tokens  # noqa: E402
from count_kernels import load_thinker  # noqa: E402

Op = Callable[[], Any]
Build = Callable[[int], list[Any]]  # n -> the arrays of n copies of an op, left lazy


def copies_of(op: Op) -> Build:
    return lambda n: [op() for _ in range(n)]


def per_copy(build: Build, copies: int, rounds: int) -> tuple[float, float]:
    """(seconds per copy evaluated, seconds per copy only built) for `copies` copies."""
    from qasr.adapters.mlx.backend import mx

    run = median_seconds(lambda: mx.eval(build(copies)), rounds) / copies
    built = median_seconds(lambda: build(copies), rounds) / copies
    return run, built


def bandwidth(rounds: int) -> float:
    """Bytes per second of a 1 GiB read + 1 GiB write on the default device."""
    from qasr.adapters.mlx.backend import mx

    source = mx.ones((1 << 29,), dtype=mx.bfloat16)
    mx.eval(source)
    seconds = median_seconds(lambda: mx.eval(source * 1), rounds)
    return 2 * source.nbytes / seconds


def step_ops(thinker: Any, batch: int, prompt: int) -> list[tuple[str, int, Build, int]]:
    """(name, times per step, its copies, bytes it moves) for every op of one decode step."""
    from qasr.adapters.mlx.backend import mx
    from qasr.adapters.mlx.model.mrope import rope_from_start
    from qasr.adapters.mlx.model.text_decoder import _swiglu

    model = thinker.model
    layer = model.layers[0]
    attn, config = layer.self_attn, model.config
    dtype = model.embed_tokens.weight.dtype
    size = dtype.size
    n_layers = config.num_hidden_layers
    x = mx.random.normal((batch, 1, config.hidden_size)).astype(dtype)
    qkv = attn.qkv_proj(layer.input_layernorm(x))
    q, k, v = mx.split(qkv, [attn.q_dim, attn.q_dim + attn.kv_dim], axis=-1)
    qn = attn.q_norm(q.reshape(batch, 1, attn.n_heads, -1)).transpose(0, 2, 1, 3)
    kn = attn.k_norm(k.reshape(batch, 1, attn.n_kv_heads, -1)).transpose(0, 2, 1, 3)
    vt = v.reshape(batch, 1, attn.n_kv_heads, -1).transpose(0, 2, 1, 3)
    cache_shape = (batch, attn.n_kv_heads, prompt + 256, attn.head_dim)
    keys, values = mx.zeros(cache_shape, dtype), mx.zeros(cache_shape, dtype)
    heads = mx.random.normal((batch, attn.n_heads, 1, attn.head_dim)).astype(dtype)
    attended = mx.random.normal((batch, attn.n_heads, 1, attn.head_dim)).astype(dtype)
    gate_up = layer.mlp.gate_up_proj(x)
    gate, up = mx.split(gate_up, 2, axis=-1)
    hidden = mx.random.normal((batch, 1, config.intermediate_size)).astype(dtype)
    token = mx.zeros((batch, 1), dtype=mx.int32)
    logits = mx.random.normal((batch, config.vocab_size)).astype(dtype)
    mx.eval(x, qkv, qn, kn, vt, keys, values, heads, attended, gate, up, hidden, logits)
    wavelengths = model._wavelengths

    def rope(heads: mx.array) -> mx.array:
        return rope_from_start(heads, wavelengths, prompt)

    def cache_writes(n: int) -> list[mx.array]:
        # Chained as in the cache: each update may write in place into the one before.
        written = mx.zeros(cache_shape, dtype)
        for _ in range(n):
            written[..., prompt : prompt + 1, :] = kn
        return [written]

    T = prompt + 1
    D, Dq, Dkv, F = config.hidden_size, attn.q_dim, attn.kv_dim, config.intermediate_size
    act = batch * D * size
    ops: list[tuple[str, int, Op | Build, int]] = [
        ("embedding gather", 1, lambda: model.embed_tokens(token), act),
        ("input rms_norm", n_layers, lambda: layer.input_layernorm(x), 2 * act + D * size),
        ("qkv matmul", n_layers, lambda: attn.qkv_proj(x), (Dq + 2 * Dkv) * D * size),
        ("q rms_norm (+copy)", n_layers, lambda: attn.q_norm(q.reshape(batch, 1, attn.n_heads, -1)),
         2 * batch * Dq * size),
        ("k rms_norm (+copy)", n_layers,
         lambda: attn.k_norm(k.reshape(batch, 1, attn.n_kv_heads, -1)), 2 * batch * Dkv * size),
        ("q rope", n_layers, lambda: rope(qn), 2 * batch * Dq * size),
        ("k rope", n_layers, lambda: rope(kn), 2 * batch * Dkv * size),
        ("kv cache write (x2)", 2 * n_layers, cache_writes, 2 * batch * Dkv * size),
        ("sdpa", n_layers,
         lambda: mx.fast.scaled_dot_product_attention(
             heads, keys[..., :T, :], values[..., :T, :], scale=attn.scale),
         2 * batch * T * Dkv * size),
        ("attention out transpose (copy)", n_layers,
         lambda: attended.transpose(0, 2, 1, 3).reshape(batch, 1, -1) + 0, 2 * batch * Dq * size),
        ("o_proj matmul", n_layers, lambda: attn.o_proj(attended.reshape(batch, 1, -1)),
         Dq * D * size),
        ("residual add (x2)", 2 * n_layers, lambda: x + x, 3 * act),
        ("post rms_norm", n_layers, lambda: layer.post_attention_layernorm(x), 2 * act),
        ("gate_up matmul", n_layers, lambda: layer.mlp.gate_up_proj(x), 2 * F * D * size),
        ("swiglu (compiled)", n_layers, lambda: _swiglu(gate, up), 3 * batch * F * size),
        ("down matmul", n_layers, lambda: layer.mlp.down_proj(hidden), F * D * size),
        ("final rms_norm", 1, lambda: model.norm(x), 2 * act),
        ("tied output projection", 1, lambda: model.as_logits(x[:, 0, :]),
         config.vocab_size * D * size),
        ("argmax", 1, lambda: mx.argmax(logits, axis=-1), batch * config.vocab_size * size),
    ]  # fmt: skip
    return [
        (name, times, what if what is cache_writes else copies_of(what), moved)
        for name, times, what, moved in ops
    ]


def breakdown(thinker: Any, batch: int, args: argparse.Namespace, bytes_per_s: float) -> dict:
    from qasr.adapters.mlx.backend import mx

    rows, run_total, build_total, floor_total = [], 0.0, 0.0, 0.0
    for name, times, build_copies, moved in step_ops(thinker, batch, args.prompt):
        run, build = per_copy(build_copies, args.copies, args.rounds)
        floor = moved / bytes_per_s
        rows.append({
            "op": name, "per_step": times, "us_each": round(1e6 * run, 2),
            "us_per_step": round(1e6 * run * times, 1), "host_build_us_each": round(1e6 * build, 2),
            "floor_us_each": round(1e6 * floor, 3), "bytes_each": moved,
        })  # fmt: skip
        run_total += run * times
        build_total += build * times
        floor_total += floor * times
    empty = mx.zeros((1,), dtype=mx.float32)
    mx.eval(empty)
    tiny, tiny_build = per_copy(copies_of(lambda: empty + 1), args.copies, args.rounds)
    hidden = thinker.model.config.hidden_size
    dtype = thinker.model.embed_tokens.weight.dtype
    embeds = mx.random.normal((batch, args.prompt, hidden)).astype(dtype)
    cache = thinker.model.make_cache()
    starts = mx.zeros((batch,), dtype=mx.int32)
    mx.eval(thinker.model(embeds, starts, cache))
    measured = {}
    for step in ("dynamic", "compiled"):
        time_tokens(thinker, step, cache, starts, args.tokens)  # warm-up, compile trace
        ms = [1e3 * time_tokens(thinker, step, cache, starts, args.tokens) for _ in range(3)]
        measured[step] = round(float(np.median(ms)), 3)
    rows.sort(key=lambda row: -row["us_per_step"])
    return {
        "ops": rows,
        "ops_per_step": sum(row["per_step"] for row in rows),
        "sum_ms": round(1e3 * run_total, 3),
        "host_build_sum_ms": round(1e3 * build_total, 3),
        "bandwidth_floor_ms": round(1e3 * floor_total, 4),
        "trivial_op_us": round(1e6 * tiny, 2),
        "trivial_op_host_build_us": round(1e6 * tiny_build, 2),
        "measured_step_ms": measured,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint folder (default: random 0.6B decoder)")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--batch-sizes", default="1,64")
    parser.add_argument("--prompt", type=int, default=400, help="cached positions before the step")
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=32, help="tokens per measured-step round")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from qasr.adapters.mlx.backend import mx

    thinker = load_thinker(args.model, args.dtype)
    bytes_per_s = bandwidth(args.rounds)
    report: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "model": args.model or "random 0.6B text decoder (tests/support/official.py shapes)",
        "dtype": args.dtype,
        "device": str(mx.default_device()),
        "mlx": mx.__version__,
        "how": __doc__.split("\n\n")[1].replace("\n", " "),
        "bandwidth_gb_per_s": round(bytes_per_s / 1e9, 1),
        "batches": {},
    }
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        result = breakdown(thinker, batch, args, bytes_per_s)
        report["batches"][str(batch)] = result
        print(
            f"batch {batch}: {result['ops_per_step']} ops, sum {result['sum_ms']} ms, host build "
            f"{result['host_build_sum_ms']} ms, floor {result['bandwidth_floor_ms']} ms, measured "
            f"{result['measured_step_ms']}, trivial op {result['trivial_op_us']} us",
            file=sys.stderr,
            flush=True,
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
