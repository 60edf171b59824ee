"""The float copy of a quantized checkpoint computes what the quantized one computes in qasr.

A random tiny checkpoint (byte tokenizer of tests/training/tiny.py, sizes that the 64-wide groups
divide, weights scaled up so greedy decoding says varied things) is quantized as tiny-en ships
(`--quantize 4 --encoder-bits 16 --dtype float16`) or fully at 8 bits, dequantized, and both are
loaded in qasr at float32: prefill logits rel < 1e-5, greedy tokens identical. The official side
(loading the copy in `qwen-asr`) is tests/parity/test_official_api_parity.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.training import tiny
from tests.training.tiny import AUDIO_TOKEN_ID, tone, write_tokenizer_files

from qasr.adapters.mlx.backend import mx, nn, tree_map
from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint
from qasr.adapters.mlx.checkpoint.dequantize import write_dequantized_checkpoint
from qasr.adapters.mlx.checkpoint.files import write_json
from qasr.adapters.mlx.checkpoint.layout_convert import convert_layout
from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan
from qasr.adapters.mlx.checkpoint.reading import load_thinker
from qasr.adapters.mlx.checkpoint.weights import Layout
from qasr.adapters.mlx.checkpoint.writing import MAX_SHARD_BYTES, write_weights
from qasr.adapters.mlx.model.audio_encoder import AudioEncoderConfig
from qasr.adapters.mlx.model.text_decoder import TextConfig
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.adapters.mlx.recognizer import MlxRecognizer
from qasr.domain import RecognitionOptions
from qasr.errors import InvalidInputError
from qasr.training.export import checkpoint_tensors
from qasr.training.scratch import scratch_config

# tests/training/tiny.py's sizes, widened to 64 so that groups of 64 (tiny-en's) quantize.
AUDIO = {**tiny.AUDIO, "d_model": 64, "encoder_ffn_dim": 128, "output_dim": 64}
TEXT = {
    **tiny.TEXT,
    "hidden_size": 64,
    "intermediate_size": 128,
    "head_dim": 16,
    "rope_scaling": {"mrope_section": [4, 2, 2], "interleaved": True, "rope_type": "default"},
}
WEIGHT_SCALE = 5.0  # the std-0.02 init repeats one token; larger weights make varied output
NEW_TOKENS = 16
SHIPPED = QuantizationPlan(bits=4, group_size=64, encoder_bits=16)  # tiny-en's `qasr convert`


def write_random_checkpoint(folder: Path, seed: int = 0) -> Path:
    config = scratch_config(AUDIO, TEXT)
    config["thinker_config"]["audio_token_id"] = AUDIO_TOKEN_ID
    mx.random.seed(seed)
    model = Qwen3ASRThinker(
        AudioEncoderConfig.from_dict(AUDIO), TextConfig.from_dict(TEXT), lm_head=False
    )
    model.update(tree_map(lambda w: w * WEIGHT_SCALE if w.ndim >= 2 else w, model.parameters()))
    folder.mkdir(parents=True, exist_ok=True)
    write_tokenizer_files(folder)
    write_weights(checkpoint_tensors(model, mx.float32), folder, MAX_SHARD_BYTES, format="pt")
    write_json(folder / "config.json", config)
    return folder


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_checkpoint(tmp_path_factory.mktemp("float-source"))


def rel_err(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def outputs(folder: Path) -> tuple[np.ndarray, tuple[int, ...]]:
    """Prefill logits and greedy tokens of one clip, at float32."""
    recognizer = MlxRecognizer.from_pretrained(folder, dtype="float32")
    clip = tone(2.0, 310.0, 3)
    logits = np.array(recognizer.prompt_logits(clip))
    decoded = recognizer.decode(clip, RecognitionOptions(max_new_tokens=NEW_TOKENS))
    return logits, decoded.tokens


def quantized_layers(folder: Path) -> int:
    model = load_thinker(folder, mx.float32).model
    kinds = (nn.QuantizedLinear, nn.QuantizedEmbedding)
    return sum(isinstance(module, kinds) for _, module in model.named_modules())


@pytest.mark.parametrize(
    ("plan", "dtype"),
    [(SHIPPED, "float16"), (QuantizationPlan(bits=8, group_size=64), "float32")],
    ids=["4bit-float-encoder-fp16", "8bit-everything-fp32"],
)
def test_dequantized_copy_computes_what_the_quantized_model_computes(
    source: Path, tmp_path: Path, plan: QuantizationPlan, dtype: str
) -> None:
    quantized = convert_checkpoint(source, tmp_path / "q", quantization=plan, dtype=dtype).folder
    copy = write_dequantized_checkpoint(quantized, tmp_path / "float")

    assert quantized_layers(quantized) > 0 and quantized_layers(copy) == 0
    theirs_logits, theirs_tokens = outputs(quantized)
    ours_logits, ours_tokens = outputs(copy)
    assert rel_err(ours_logits, theirs_logits) < 1e-5
    assert ours_tokens == theirs_tokens
    assert len(set(ours_tokens)) > 2, "the random model must say varied things"
    # Quantizing moved the model, so equality above is the quantized model, not the float one.
    assert rel_err(outputs(source)[0], theirs_logits) > 1e-3


def test_copy_is_an_original_layout_float_checkpoint_with_official_side_files(
    source: Path, tmp_path: Path
) -> None:
    quantized = convert_checkpoint(source, tmp_path / "q", quantization=SHIPPED).folder
    copy = write_dequantized_checkpoint(quantized, tmp_path / "float")

    tensors = mx.load(str(copy / "model.safetensors"))
    # The names and shapes of a float export: unfused q/k/v, no `.scales` / `.biases`.
    float_model = load_thinker(source, mx.float32).model
    expected = checkpoint_tensors(float_model, mx.float32)
    assert {name: v.shape for name, v in tensors.items()} == {
        name: v.shape for name, v in expected.items()
    }
    assert all(v.dtype == mx.float32 for v in tensors.values())
    config = json.loads((copy / "config.json").read_text())
    assert "quantization" not in config and config["torch_dtype"] == "float32"
    assert (
        config["thinker_config"]
        == json.loads((source / "config.json").read_text())["thinker_config"]
    )
    for name in ("vocab.json", "merges.txt", "preprocessor_config.json", "chat_template.json"):
        assert (copy / name).is_file(), name
    tokenizer = json.loads((copy / "tokenizer_config.json").read_text())
    assert tokenizer["extra_special_tokens"]["audio_token"] == "<|audio_pad|>"


@pytest.mark.parametrize("layout", list(Layout))
def test_float_source_is_copied_unchanged(source: Path, tmp_path: Path, layout: Layout) -> None:
    hf = layout is Layout.HF
    origin = convert_layout(source, tmp_path / "hf", layout) if hf else source
    copy = write_dequantized_checkpoint(origin, tmp_path / "float")
    ours = mx.load(str(copy / "model.safetensors"))
    theirs = mx.load(str(source / "model.safetensors"))
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        np.testing.assert_array_equal(np.array(ours[name]), np.array(value), err_msg=name)


def test_refuses_a_non_empty_output_or_the_source_itself(source: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(InvalidInputError, match="not empty"):
        write_dequantized_checkpoint(source, tmp_path / "busy")
    with pytest.raises(InvalidInputError, match="source folder"):
        write_dequantized_checkpoint(source, source, force=True)
