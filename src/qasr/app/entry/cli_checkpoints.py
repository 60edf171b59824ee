"""`qasr convert` and `qasr train`: the subcommands that write checkpoints."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qasr.app import bootstrap
from qasr.app.entry.cli_support import Parser, positive_int, report_error, run_command


def _build_convert_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr convert",
        usage="qasr convert --model SRC [--quantize {4,8}] [--dtype DTYPE] --output DIR\n"
        "       qasr convert --model SRC --to-layout {original,hf} --output DIR",
        description="Write a quantized (and/or float16/bfloat16/float32) MLX copy of a "
        "checkpoint, or the same weights in the other published layout; load it with --model DIR.",
    )
    parser.add_argument("--model", required=True, help="Hugging Face repo id or local folder")
    parser.add_argument("--output", required=True, help="folder to write (must be empty)")
    parser.add_argument("--quantize", type=int, choices=(4, 8), help="decoder bit width")
    parser.add_argument(
        "--group-size", type=int, default=64, help="weights per scale: 32, 64 or 128 (default 64)"
    )
    parser.add_argument(
        "--encoder-bits",
        type=int,
        choices=(4, 8, 16),
        help="audio encoder bit width; 16 leaves it float (default: as --quantize)",
    )
    parser.add_argument("--dtype", help="float16, bfloat16 or float32 (default: the source's)")
    parser.add_argument(
        "--to-layout",
        choices=("original", "hf"),
        help="rewrite in the qwen-asr (original) or transformers (hf) layout, weights unchanged",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an --output folder that qasr wrote"
    )
    parser.add_argument("--verbose", action="store_true", help="tracebacks")
    return parser


def convert_command(words: Sequence[str]) -> int:
    """`qasr convert ...`: the exit status, with the error contract of `run_command`."""
    return run_command(_build_convert_parser(), words, _convert)


def _convert(args: argparse.Namespace) -> int:
    if args.to_layout:
        if args.quantize or args.dtype:
            return report_error(
                "--to-layout copies the weights unchanged; use it without --quantize/--dtype"
            )
        folder = bootstrap.convert_layout(args.model, args.output, args.to_layout)
        print(f"qasr: wrote {folder} ({args.to_layout} layout)")
        return 0
    conversion = bootstrap.convert_model(
        args.model,
        args.output,
        bits=args.quantize,
        group_size=args.group_size,
        encoder_bits=args.encoder_bits,
        dtype=args.dtype,
        force=args.force,
    )
    block = conversion.quantization
    bits = f"{block['bits']}-bit, group size {block['group_size']}, " if block else ""
    size = conversion.weight_bytes / 1e6
    print(f"qasr: wrote {conversion.folder} ({bits}{conversion.dtype}, {size:.1f} MB of weights)")
    return 0


def _build_train_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qasr train",
        usage="qasr train --data TRAIN.jsonl [--valid VALID.jsonl] --model BASE --output DIR "
        "[--lora-rank R] [--steps N] [--batch-size B] [--lr X] [--resume] [options]",
        description="Fine-tune a Qwen3-ASR checkpoint (all weights, or LoRA adapters) on a "
        'JSON-lines manifest of {"audio": path, "text": ..., "language": ...} rows. Writes '
        "resumable checkpoints to DIR/checkpoints and the trained model to DIR, loadable with "
        "--model DIR and by qwen-asr.",
    )
    parser.add_argument("--data", required=True, help="training manifest (JSON lines)")
    parser.add_argument("--valid", help="validation manifest: loss and WER/CER every --eval-every")
    parser.add_argument("--model", required=True, help="base model: Hugging Face repo id or folder")
    parser.add_argument("--output", required=True, help="folder for checkpoints and the model")
    parser.add_argument("--lora-rank", type=int, default=0, help="LoRA rank; 0 trains all weights")
    parser.add_argument("--lora-alpha", type=float, default=16.0, help="LoRA scale numerator")
    parser.add_argument("--lora-encoder", action="store_true", help="LoRA on the audio encoder too")
    parser.add_argument(
        "--ctc-weight",
        type=float,
        default=0.0,
        help="auxiliary CTC loss on the audio tokens (helps training from scratch; default 0)",
    )
    parser.add_argument(
        "--steps", type=positive_int, default=1000, help="optimizer steps (default: 1000)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, help="clips per step (default: 8)"
    )
    parser.add_argument(
        "--lr", type=float, help="peak learning rate (default: 1e-5 full, 1e-4 LoRA)"
    )
    parser.add_argument("--warmup-steps", type=int, help="linear warm-up (default: 5%% of steps)")
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument(
        "--max-grad-norm", type=float, default=1.0, help="gradient clipping; 0 turns it off"
    )
    parser.add_argument("--dtype", default="float32", help="weights: float32 or bfloat16")
    parser.add_argument("--seed", type=int, default=0, help="data order and LoRA init")
    parser.add_argument("--eval-every", type=int, default=100, help="steps between validations")
    parser.add_argument("--save-every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument(
        "--eval-clips", type=int, default=16, help="validation clips decoded for WER/CER"
    )
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument(
        "--time-limit",
        type=float,
        help="seconds of training; then save a checkpoint and stop (continue with --resume)",
    )
    parser.add_argument(
        "--feature-cache",
        help="folder of the cached log-mels (default: .qasr-features next to --data)",
    )
    parser.add_argument(
        "--pad-chunks",
        type=positive_int,
        default=1,
        help="pad clips to a multiple of this many 1 s chunks: fewer compiled shapes (GPU: 4)",
    )
    parser.add_argument("--log-every", type=positive_int, default=10, help="steps per log line")
    parser.add_argument(
        "--compile",
        choices=("step", "update", "none"),
        help="what mx.compile covers: the whole step, the clipping and AdamW update alone, or "
        "nothing (default: the whole step)",
    )
    parser.add_argument("--no-compile", action="store_true", help="the same as --compile none")
    masks = parser.add_argument_group("feature masking (SpecAugment; default: none)")
    masks.add_argument("--time-masks", type=int, default=0, help="stripes of frames per clip")
    masks.add_argument(
        "--time-mask-width", type=int, default=30, help="widest, in 10 ms frames (default: 30)"
    )
    masks.add_argument("--freq-masks", type=int, default=0, help="stripes of mel bins per clip")
    masks.add_argument(
        "--freq-mask-width", type=int, default=20, help="widest, in mel bins (default: 20)"
    )
    parser.add_argument("--verbose", action="store_true", help="tracebacks")
    return parser


def train_command(words: Sequence[str]) -> int:
    """`qasr train ...`: the exit status, with the error contract of `run_command`."""
    return run_command(
        _build_train_parser(), words, _train, interrupted="interrupted; continue with --resume"
    )


def _train(args: argparse.Namespace) -> int:
    folder = bootstrap.train_model(
        data=args.data,
        valid=args.valid,
        model=args.model,
        output=args.output,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        warmup_steps=args.warmup_steps,
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        lora_rank=args.lora_rank,
        lora_alpha=args.lora_alpha,
        lora_encoder=args.lora_encoder,
        ctc_weight=args.ctc_weight,
        dtype=args.dtype,
        seed=args.seed,
        eval_every=args.eval_every,
        save_every=args.save_every,
        eval_clips=args.eval_clips,
        resume=args.resume,
        time_limit=args.time_limit,
        feature_cache=args.feature_cache,
        pad_chunks=args.pad_chunks,
        log_every=args.log_every,
        compile="none" if args.no_compile else args.compile,
        time_masks=args.time_masks,
        time_mask_width=args.time_mask_width,
        freq_masks=args.freq_masks,
        freq_mask_width=args.freq_mask_width,
        on_progress=lambda line: print(f"qasr: {line}", file=sys.stderr),
    )
    print(f"qasr: wrote {folder}")
    return 0
