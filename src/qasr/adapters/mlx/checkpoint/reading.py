"""Load a checkpoint folder into the MLX thinker: read its tensors once, rename them through the
weight table, let each module `sanitize` them, rebuild quantized layers, check every shape.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import attrs

from qasr.adapters.mlx.backend import dtype_name, mx, tree_flatten
from qasr.adapters.mlx.checkpoint.config import CheckpointConfig, read_checkpoint_config
from qasr.adapters.mlx.checkpoint.files import safetensors_files
from qasr.adapters.mlx.checkpoint.quantize import quantize_like_checkpoint
from qasr.adapters.mlx.checkpoint.weights import Layout, module_name
from qasr.adapters.mlx.model.audio_encoder import AudioEncoderConfig
from qasr.adapters.mlx.model.text_decoder import TextConfig
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.errors import CheckpointError


def read_weights(folder: Path, layout: Layout) -> dict[str, Any]:
    """All tensors of the checkpoint as MLX arrays, renamed to module paths."""
    weights: dict[str, Any] = {}
    for path in safetensors_files(folder):
        try:
            tensors = mx.load(str(path))
        except Exception as error:  # MLX raises RuntimeError/ValueError with C++ messages
            raise CheckpointError(f"{path}: cannot read safetensors ({error})") from None
        for name, tensor in tensors.items():
            target = module_name(name, layout)
            if target is not None:
                weights[target] = tensor
    return weights


def check_shapes(
    expected: dict[str, tuple[int, ...]], weights: dict[str, Any], folder: Path
) -> None:
    """Fail with one message listing what is missing, unexpected or mis-shaped."""
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = sorted(
        f"{name}: checkpoint {tuple(weights[name].shape)}, model {shape}"
        for name, shape in expected.items()
        if name in weights and tuple(weights[name].shape) != shape
    )
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
    if wrong:
        problems.append(f"{len(wrong)} with wrong shapes (e.g. {'; '.join(wrong[:3])})")
    if problems:
        raise CheckpointError(
            f"{folder}: the weights do not match config.json: " + "; ".join(problems)
        )


@attrs.frozen
class LoadedThinker:
    model: Qwen3ASRThinker
    config: CheckpointConfig
    folder: Path
    dtype: mx.Dtype
    # One model, one computation at a time: MLX evaluation is not safe to interleave from several
    # threads on shared weights and caches. The recognizer and the aligner both hold it while
    # they compute, so worker threads (`transcribe_async`, a server) may share either.
    lock: threading.Lock = attrs.field(factory=threading.Lock, eq=False, repr=False)

    @property
    def dtype_name(self) -> str:
        return dtype_name(self.dtype)

    def describe(self, source: str) -> dict[str, Any]:
        """What `model_info()` of the recognizer and the aligner report about the checkpoint."""
        return {
            "model": source,
            "path": str(self.folder),
            "layout": self.config.layout.value,
            "dtype": self.dtype_name,
            "quantization": self.config.raw.get("quantization"),
        }


def load_thinker(folder: Path, dtype: mx.Dtype) -> LoadedThinker:
    """Build the model from config.json and load the safetensors into it, checking every shape."""
    config = read_checkpoint_config(folder)
    audio = AudioEncoderConfig.from_dict(config.audio)
    text = TextConfig.from_dict(config.text)
    weights = read_weights(folder, config.layout)
    separate_head = "lm_head.weight" in weights
    if not separate_head and config.is_aligner:
        raise CheckpointError(f"{folder}: a forced aligner needs its lm_head (timestamp) weights")
    if not separate_head and not config.tie_word_embeddings:
        raise CheckpointError(f"{folder}: no lm_head weights and tie_word_embeddings is false")
    model = Qwen3ASRThinker(
        audio,
        text,
        lm_head=separate_head,
        classify_num=config.classify_num,
        head_bias="lm_head.bias" in weights,
        whole_chunks=config.pads_short_clips,
    )
    sanitized = Qwen3ASRThinker.sanitize(weights)
    if "quantization" in config.raw:  # written by `qasr convert`: rebuild its quantized layers
        quantize_like_checkpoint(model, config.raw["quantization"], sanitized, folder)
    expected = {name: tuple(value.shape) for name, value in tree_flatten(model.parameters())}
    check_shapes(expected, sanitized, folder)
    model.load_weights(
        [
            (name, value.astype(dtype) if mx.issubdtype(value.dtype, mx.floating) else value)
            for name, value in sanitized.items()
        ],
        strict=True,
    )
    model.eval()
    mx.eval(model.parameters())
    return LoadedThinker(model=model, config=config, folder=folder, dtype=dtype)
