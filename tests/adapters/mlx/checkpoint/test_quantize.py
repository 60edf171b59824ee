"""`qasr convert` and loading its output: quantized round trips on a tiny random checkpoint.

The source checkpoints are written here the way the real ones are stored (unfused q/k/v and
gate/up, PyTorch conv layout, `thinker.` or `-hf` prefixes), from a random MLX model, so these
tests need neither torch nor the hub. Agreement with the float model on speech is measured in
tests/parity/test_quantized_agreement.py and scripts/quant_agreement.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.official import REAL_TOKEN_IDS, TINY_AUDIO, TINY_TEXT
from tests.support.qwen_vocab import write_qwen_tokenizer_files

from qasr.adapters.mlx.backend import mx, nn, tree_flatten
from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint
from qasr.adapters.mlx.checkpoint.quantize import GROUP_SIZES, QuantizationPlan, quantize_thinker
from qasr.adapters.mlx.checkpoint.reading import load_thinker
from qasr.adapters.mlx.checkpoint.weights import Layout, checkpoint_name, module_name
from qasr.adapters.mlx.model.audio_encoder import AudioEncoderConfig
from qasr.adapters.mlx.model.text_decoder import TextConfig
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.adapters.mlx.recognizer import MlxRecognizer
from qasr.app.entry.cli import main
from qasr.domain import AudioClip, RecognitionOptions
from qasr.errors import InvalidInputError, ModelNotFoundError

_UNFUSED = {"qkv_proj": ("q_proj", "k_proj", "v_proj"), "gate_up_proj": ("gate_proj", "up_proj")}


# Most tests need no tokenizer, so a small vocabulary keeps them fast; recognizing needs the real
# ids (<|audio_pad|> is 151676).
SMALL_TEXT = {**TINY_TEXT, "vocab_size": 1024}


def _random_thinker(seed: int, *, lm_head: bool, text: dict[str, Any]) -> Qwen3ASRThinker:
    mx.random.seed(seed)
    model = Qwen3ASRThinker(
        AudioEncoderConfig.from_dict(TINY_AUDIO),
        TextConfig.from_dict(text),
        lm_head=lm_head,
    )
    mx.eval(model.parameters())
    return model


def _stored_tensors(model: Qwen3ASRThinker, layout: Layout) -> dict[str, mx.array]:
    """The model's weights named and shaped as a real (unfused, PyTorch-layout) checkpoint."""
    text = TINY_TEXT
    q_dim = text["num_attention_heads"] * text["head_dim"]
    kv_dim = text["num_key_value_heads"] * text["head_dim"]
    splits = {"qkv_proj": [q_dim, q_dim + kv_dim], "gate_up_proj": 2}
    tensors = {}
    for path, value in tree_flatten(model.parameters()):
        module, leaf = path.rsplit(".", 1)
        parent, _, proj = module.rpartition(".")
        if proj in _UNFUSED:
            pieces = mx.split(value, splits[proj], axis=0)
            for part, piece in zip(_UNFUSED[proj], pieces, strict=True):
                tensors[checkpoint_name(f"{parent}.{part}.{leaf}", layout)] = piece
            continue
        if path.startswith("audio_tower.conv2d") and leaf == "weight":
            value = value.transpose(0, 3, 1, 2)
        tensors[checkpoint_name(path, layout)] = value
    return tensors


def write_tiny_checkpoint(
    folder: Path, layout: Layout, seed: int = 0, text: dict[str, Any] = SMALL_TEXT
) -> Path:
    """A complete random checkpoint folder: config, weights, tokenizer. HF layout gets an
    untied lm_head, the original layout ties it, so both head kinds are covered."""
    folder.mkdir(parents=True, exist_ok=True)
    hf = layout is Layout.HF
    model = _random_thinker(seed, lm_head=hf, text=text)
    mx.save_safetensors(str(folder / "model.safetensors"), _stored_tensors(model, layout))
    inner = {"audio_config": TINY_AUDIO, "text_config": text, **REAL_TOKEN_IDS}
    config = (
        {**inner, "architectures": ["Qwen3ASRForConditionalGeneration"]}
        if hf
        else {"thinker_config": inner, "architectures": ["Qwen3ASRForConditionalGeneration"]}
    )
    config["tie_word_embeddings"] = not hf
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": [151645, 151643]}))
    return write_qwen_tokenizer_files(folder)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("source"), Layout.ORIGINAL)


@pytest.fixture(scope="module")
def real_vocab_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("real_vocab_source")
    return write_tiny_checkpoint(folder, Layout.ORIGINAL, seed=2, text=TINY_TEXT)


@pytest.fixture(scope="module")
def hf_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("hf_source"), Layout.HF, seed=1)


def _speechlike(seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(seconds * 16_000)) / 16_000
    tone = np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 3 * t)
    noise = np.random.default_rng(0).standard_normal(t.size) * 0.05
    return (0.3 * tone + noise).astype(np.float32)


def _params(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: np.array(value) for name, value in tree_flatten(model.parameters())}


def _modules(model: nn.Module) -> dict[str, nn.Module]:
    return dict(model.named_modules())


# --- plan validation ------------------------------------------------------------------------


@given(st.integers(-1000, 1000).filter(lambda n: n not in GROUP_SIZES))
def test_unsupported_group_sizes_are_rejected_with_the_choices(group_size: int) -> None:
    with pytest.raises(InvalidInputError, match="32, 64, 128"):
        QuantizationPlan(bits=8, group_size=group_size)


@given(st.integers(-64, 64).filter(lambda n: n not in (4, 8)))
def test_unsupported_bit_widths_are_rejected(bits: int) -> None:
    with pytest.raises(InvalidInputError, match="choose one of"):
        QuantizationPlan(bits=bits)


def test_encoder_follows_decoder_bits_unless_told() -> None:
    assert QuantizationPlan(bits=4).bits_for("audio_tower.layers.0.fc1") == 4
    assert QuantizationPlan(bits=4, encoder_bits=16).bits_for("audio_tower.proj1") is None
    assert QuantizationPlan(bits=4, encoder_bits=8).bits_for("model.layers.0.mlp.down_proj") == 4


@pytest.mark.parametrize("layout", list(Layout))
def test_checkpoint_names_invert_module_names(layout: Layout) -> None:
    for path, _ in tree_flatten(_random_thinker(0, lm_head=True, text=SMALL_TEXT).parameters()):
        assert module_name(checkpoint_name(path, layout), layout) == path


# --- quantizing a model ---------------------------------------------------------------------


def test_layers_whose_input_dim_does_not_divide_stay_float() -> None:
    model = _random_thinker(0, lm_head=False, text=SMALL_TEXT)
    block = quantize_thinker(model, QuantizationPlan(bits=8, group_size=64))
    modules = _modules(model)
    # hidden_size 96 is not a multiple of 64; intermediate 192 and the encoder's 64 are.
    assert isinstance(modules["model.layers.0.self_attn.qkv_proj"], nn.Linear)
    assert isinstance(modules["model.embed_tokens"], nn.Embedding)
    assert isinstance(modules["model.layers.0.mlp.down_proj"], nn.QuantizedLinear)
    assert isinstance(modules["audio_tower.layers.1.fc1"], nn.QuantizedLinear)
    assert isinstance(modules["audio_tower.conv2d1"], nn.Conv2d)
    assert block == {"group_size": 64, "bits": 8, "mode": "affine"}


def test_mixed_bits_are_recorded_per_module() -> None:
    model = _random_thinker(0, lm_head=False, text=SMALL_TEXT)
    block = quantize_thinker(model, QuantizationPlan(bits=8, group_size=32, encoder_bits=4))
    overridden = {path for path in block if "." in path}
    encoder_linears = {
        path
        for path, module in _modules(model).items()
        if path.startswith("audio_tower.") and isinstance(module, nn.QuantizedLinear)
    }
    # per layer q, k, v, out, fc1, fc2; then conv_out, proj1, proj2
    assert overridden == encoder_linears and len(encoder_linears) == 2 * 6 + 3
    assert all(block[path] == {"group_size": 32, "bits": 4} for path in overridden)
    assert isinstance(_modules(model)["model.embed_tokens"], nn.QuantizedEmbedding)


# --- converting and loading -----------------------------------------------------------------


@pytest.mark.parametrize(("bits", "encoder_bits"), [(8, 8), (4, 4), (8, 4), (4, 16)])
def test_quantized_round_trip(source: Path, tmp_path: Path, bits: int, encoder_bits: int) -> None:
    plan = QuantizationPlan(bits=bits, group_size=32, encoder_bits=encoder_bits)
    done = convert_checkpoint(source, tmp_path / "out", quantization=plan)
    assert done.weight_files == ("model.safetensors",) and done.dtype == "float32"

    expected = load_thinker(source, mx.float32).model
    quantize_thinker(expected, plan)
    loaded = load_thinker(tmp_path / "out", mx.float32).model
    ours, theirs = _params(loaded), _params(expected)
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        np.testing.assert_array_equal(ours[name], value, err_msg=name)
    for path, module in _modules(expected).items():
        assert type(_modules(loaded)[path]) is type(module), path
        if isinstance(module, nn.QuantizedLinear):
            assert _modules(loaded)[path].bits == module.bits, path


@pytest.mark.parametrize("bits", [8, 4])
def test_quantized_copy_recognizes(real_vocab_source: Path, tmp_path: Path, bits: int) -> None:
    plan = QuantizationPlan(bits=bits, group_size=32)
    convert_checkpoint(real_vocab_source, tmp_path / "out", quantization=plan)
    recognizer = MlxRecognizer.from_pretrained(tmp_path / "out")
    assert recognizer.model_info()["quantization"]["bits"] == bits
    clip = AudioClip(_speechlike(), 16_000)
    [transcript] = recognizer.recognize([clip], [RecognitionOptions(max_new_tokens=4)])
    assert transcript.duration == pytest.approx(1.5)


def test_hf_layout_with_untied_head_round_trips(hf_source: Path, tmp_path: Path) -> None:
    plan = QuantizationPlan(bits=8, group_size=32)
    convert_checkpoint(hf_source, tmp_path / "out", quantization=plan)
    stored = mx.load(str(tmp_path / "out" / "model.safetensors"))
    assert "lm_head.scales" in stored and "model.language_model.embed_tokens.scales" in stored
    assert "model.multi_modal_projector.linear_1.scales" in stored
    loaded = load_thinker(tmp_path / "out", mx.float32).model
    assert isinstance(loaded.lm_head, nn.QuantizedLinear)
    float_model = load_thinker(hf_source, mx.float32).model
    hidden = mx.random.normal((1, 3, TINY_TEXT["hidden_size"]), key=mx.random.key(3))
    # 8-bit logits stay close to the float ones (relative to their spread).
    ours, theirs = np.array(loaded.logits(hidden)), np.array(float_model.logits(hidden))
    assert np.abs(ours - theirs).max() < 0.05 * np.abs(theirs).max()


def test_float_copy_is_lossless_and_loads_like_the_source(source: Path, tmp_path: Path) -> None:
    done = convert_checkpoint(source, tmp_path / "copy", dtype="float32")
    assert done.quantization is None
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    assert "quantization" not in config
    assert config == json.loads((source / "config.json").read_text())
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json", "generation_config.json"):
        assert (tmp_path / "copy" / name).read_bytes() == (source / name).read_bytes()
    original, copy = (
        _params(load_thinker(source, mx.float32).model),
        _params(load_thinker(tmp_path / "copy", mx.float32).model),
    )
    assert original.keys() == copy.keys()
    for name, value in original.items():
        np.testing.assert_array_equal(copy[name], value, err_msg=name)


def test_bfloat16_copy_halves_the_weights(source: Path, tmp_path: Path) -> None:
    done = convert_checkpoint(source, tmp_path / "bf16", dtype="bf16")
    stored = mx.load(str(tmp_path / "bf16" / "model.safetensors"))
    assert done.dtype == "bfloat16"
    assert {value.dtype for value in stored.values()} == {mx.bfloat16}


def test_large_checkpoints_are_sharded_with_an_index(source: Path, tmp_path: Path) -> None:
    plan = QuantizationPlan(bits=8, group_size=32)
    done = convert_checkpoint(source, tmp_path / "out", quantization=plan, max_shard_bytes=100_000)
    assert len(done.weight_files) > 1
    index = json.loads((tmp_path / "out" / "model.safetensors.index.json").read_text())
    assert sorted(set(index["weight_map"].values())) == sorted(done.weight_files)
    assert not (tmp_path / "out" / "model.safetensors").exists()
    single = tmp_path / "single"
    convert_checkpoint(source, single, quantization=plan)
    sharded_params = _params(load_thinker(tmp_path / "out", mx.float32).model)
    for name, value in _params(load_thinker(single, mx.float32).model).items():
        np.testing.assert_array_equal(sharded_params[name], value, err_msg=name)


# --- refusals -------------------------------------------------------------------------------


def test_refuses_a_non_empty_output_unless_forced(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    plan = QuantizationPlan(bits=8, group_size=32)
    with pytest.raises(InvalidInputError, match="--force"):
        convert_checkpoint(source, out, quantization=plan)
    # --force replaces only what qasr wrote: the user's file is never deleted.
    with pytest.raises(InvalidInputError, match=r"also holds 'keep\.txt'"):
        convert_checkpoint(source, out, quantization=plan, force=True)
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    convert_checkpoint(source, out, quantization=plan)
    convert_checkpoint(source, out, dtype="float32", force=True)
    assert "quantization" not in json.loads((out / "config.json").read_text())
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or replaced folder left


def test_an_empty_output_folder_is_fine(source: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    convert_checkpoint(source, tmp_path / "empty", dtype="float32")
    assert (tmp_path / "empty" / "config.json").is_file()


def test_missing_source_is_a_model_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no model folder"):
        convert_checkpoint(tmp_path / "nowhere", tmp_path / "out", dtype="float32")
    assert not (tmp_path / "out").exists()


def test_nothing_to_do_and_requantizing_are_refused(source: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="nothing to convert"):
        convert_checkpoint(source, tmp_path / "out")
    quantized = tmp_path / "q8"
    convert_checkpoint(source, quantized, quantization=QuantizationPlan(bits=8, group_size=32))
    with pytest.raises(InvalidInputError, match="already quantized"):
        convert_checkpoint(quantized, tmp_path / "q4", quantization=QuantizationPlan(bits=4))
    with pytest.raises(InvalidInputError, match="source folder"):
        convert_checkpoint(source, source, dtype="float32", force=True)


# --- the command line -----------------------------------------------------------------------


def test_cli_convert_writes_a_loadable_folder(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "q4"
    argv = ["convert", "--model", str(source), "--quantize", "4", "--group-size", "32"]
    assert main([*argv, "--encoder-bits", "16", "--output", str(out)]) == 0
    assert "4-bit, group size 32" in capsys.readouterr().out
    config: dict[str, Any] = json.loads((out / "config.json").read_text())
    assert config["quantization"]["bits"] == 4
    model = load_thinker(out, mx.float32).model
    assert isinstance(_modules(model)["audio_tower.layers.0.fc1"], nn.Linear)

    assert main([*argv, "--output", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--quantize", "8", "--group-size", "48"], "group size 48 is not supported"),
        (["--quantize", "3"], "invalid choice"),
        (["--encoder-bits", "4"], "needs --quantize"),
        ([], "nothing to convert"),
    ],
)
def test_cli_convert_mistakes_are_one_line_errors(
    source: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    argv = ["convert", "--model", str(source), "--output", str(tmp_path / "out"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
