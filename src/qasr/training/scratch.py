"""A randomly initialised Qwen3-ASR checkpoint of any size: the start of training from scratch.

`qasr train` fine-tunes a checkpoint folder; to train from scratch it is given the folder this
module writes: config.json in the original Qwen3-ASR layout (the architecture the official
`qwen-asr` builds), weights from MLX's default initialisation, and the tokenizer files copied
from a tokenizer folder (any Qwen3-ASR checkpoint's `vocab.json`, `merges.txt`,
`tokenizer_config.json`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qasr.adapters.mlx.backend import mx, nn
from qasr.adapters.mlx.checkpoint.files import write_json
from qasr.adapters.mlx.checkpoint.writing import MAX_SHARD_BYTES, write_weights
from qasr.adapters.mlx.model.audio_encoder import AudioEncoderConfig
from qasr.adapters.mlx.model.text_decoder import TextConfig
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.errors import CheckpointError
from qasr.training.export import checkpoint_tensors

# The special-token ids of the real Qwen3-ASR vocabulary.
QWEN3_ASR_TOKEN_IDS = {
    "audio_token_id": 151676,  # <|audio_pad|>
    "audio_start_token_id": 151669,
    "audio_end_token_id": 151670,
}
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json")


def scratch_config(audio: Mapping[str, Any], text: Mapping[str, Any]) -> dict[str, Any]:
    """config.json of a Qwen3-ASR model with these encoder and decoder sizes (original layout)."""
    tie = bool(text.get("tie_word_embeddings", True))
    return {
        "architectures": ["Qwen3ASRForConditionalGeneration"],
        "model_type": "qwen3_asr",
        "thinker_config": {
            "model_type": "qwen3_asr_thinker",
            "audio_config": dict(audio),
            "text_config": {**text, "tie_word_embeddings": tie},
            **QWEN3_ASR_TOKEN_IDS,
        },
        "tie_word_embeddings": tie,
        "torch_dtype": "float32",
    }


def share_unused_rows(embedding: nn.Embedding, token_ids: Iterable[int]) -> None:
    """Give every row outside `token_ids` the values of the last such row."""
    weight = embedding.weight
    own = np.zeros(weight.shape[0], dtype=bool)
    own[np.fromiter(token_ids, dtype=np.int64)] = True
    if own.all():
        return
    shared = int(np.flatnonzero(~own)[-1])
    embedding.weight = mx.where(mx.array(own)[:, None], weight, weight[shared])


def write_scratch_checkpoint(
    folder: Path,
    config: Mapping[str, Any],
    tokenizer_folder: Path,
    *,
    token_ids: Iterable[int] | None = None,
    seed: int = 0,
) -> Path:
    """Write a randomly initialised checkpoint of `config` (a `scratch_config`) into `folder`.

    With `token_ids` (the tokens the training data uses: `vocab.used_token_ids`), every other
    token gets one shared embedding row, which lets the trainer train over the full vocabulary
    at the cost of the used tokens (vocab.py).
    """
    missing = [name for name in TOKENIZER_FILES if not (tokenizer_folder / name).is_file()]
    if missing:
        raise CheckpointError(f"{tokenizer_folder} lacks the tokenizer files {', '.join(missing)}")
    thinker = config["thinker_config"]
    mx.random.seed(seed)
    model = Qwen3ASRThinker(
        AudioEncoderConfig.from_dict(thinker["audio_config"]),
        TextConfig.from_dict(thinker["text_config"]),
        lm_head=not config.get("tie_word_embeddings", True),
    )
    if token_ids is not None:
        share_unused_rows(model.model.embed_tokens, token_ids)
    mx.eval(model.parameters())
    folder.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copyfile(tokenizer_folder / name, folder / name)
    write_weights(checkpoint_tensors(model, mx.float32), folder, MAX_SHARD_BYTES, format="pt")
    write_json(folder / "config.json", dict(config))
    return folder


__all__ = [
    "QWEN3_ASR_TOKEN_IDS",
    "scratch_config",
    "share_unused_rows",
    "write_scratch_checkpoint",
]
