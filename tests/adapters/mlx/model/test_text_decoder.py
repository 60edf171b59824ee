"""MLX-only properties of the text decoder and MRoPE: the fast RoPE path equals the general
MRoPE path, masks, config parsing and weight fusing. The official comparison is in
tests/parity/test_text_decoder_parity.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx, tree_flatten
from qasr.adapters.mlx.model.mrope import (
    frequency_axes,
    inverse_frequencies,
    mrope_angles,
    position_ids_from_mask,
    start_positions_from_mask,
)
from qasr.adapters.mlx.model.text_decoder import TextConfig, TextModel, padded_causal_mask
from qasr.errors import CheckpointError


def rel_err(ours: np.ndarray, reference: np.ndarray) -> float:
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


SMALL = dict(
    hidden_size=32,
    intermediate_size=48,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=12,
    vocab_size=50,
    rope_theta=1_000_000.0,
    rope_scaling={"mrope_section": [2, 2, 2], "interleaved": True, "rope_type": "default"},
)


@given(section=st.tuples(*[st.integers(0, 30)] * 3), n=st.integers(1, 64))
def test_equal_axes_make_mrope_plain_rope(section: tuple[int, int, int], n: int) -> None:
    """Whatever the section, equal axes give angles position * inv_freq exactly."""
    inv_freq = inverse_frequencies(2 * n, 1_000_000.0)
    pos = mx.arange(40).reshape(1, 40)
    angles = mrope_angles(mx.broadcast_to(pos[None], (3, 1, 40)), inv_freq, section)
    np.testing.assert_array_equal(np.array(angles), np.array(pos[..., None] * inv_freq))
    assert set(frequency_axes(section, n).tolist()) <= {0, 1, 2}


def test_fast_path_equals_general_path() -> None:
    mx.random.seed(3)
    model = TextModel(TextConfig.from_dict(SMALL))
    embeds = mx.random.normal((2, 7, 32))
    mask = mx.array([[1] * 7, [0, 0, 1, 1, 1, 1, 1]])
    causal = padded_causal_mask(mask, 7)
    fast = model(embeds, start_positions_from_mask(mask), None, causal)
    general = model(embeds, position_ids_from_mask(mask)[0], None, causal)
    real = np.array(mask).astype(bool)
    assert rel_err(np.array(fast)[real], np.array(general)[real]) < 1e-5


def test_every_weight_changes_the_output() -> None:
    """A weight the forward pass never applies (say k_norm's, with the norm computed without
    it) would load without complaint; nudging each parameter in turn must move the hidden
    states. Norm weights start at 1, so they are first set away from it."""
    mx.random.seed(4)
    model = TextModel(TextConfig.from_dict(SMALL))
    names = [name for name, _ in tree_flatten(model.parameters())]
    model.load_weights(
        [
            (name, mx.random.uniform(0.5, 1.5, value.shape)) if value.ndim == 1 else (name, value)
            for name, value in tree_flatten(model.parameters())
        ]
    )
    embeds = mx.random.normal((1, 6, 32))
    baseline = np.array(model(embeds, 0, None, None))
    unused = {"embed_tokens.weight"}  # the caller embeds; the forward pass takes embeddings
    for name in names:
        if name in unused:
            continue
        original = dict(tree_flatten(model.parameters()))[name]
        model.load_weights([(name, original * 1.25 + 0.1)], strict=False)
        moved = np.abs(np.array(model(embeds, 0, None, None)) - baseline).max()
        model.load_weights([(name, original)], strict=False)
        assert moved > 1e-4, f"{name} does not change the output"


def test_padded_causal_mask_hides_padding_and_the_future() -> None:
    mask = mx.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    allowed = np.array(padded_causal_mask(mask, 3))[:, 0]  # queries at positions 2, 3, 4
    assert allowed.shape == (2, 3, 5)
    assert not allowed[0, :, :2].any()  # real queries never see padding
    assert np.array_equal(allowed[1], np.tril(np.ones((3, 5), bool), k=2))
    padding_query = np.array(padded_causal_mask(mask, 5))[0, 0, 0]
    assert padding_query.tolist() == [True, False, False, False, False]  # never an empty row


def test_config_from_dict_reads_the_checkpoint_fields() -> None:
    data = {**SMALL, "model_type": "qwen3_asr_text", "hidden_act": "silu", "use_cache": True}
    data["rope_scaling"] = {"mrope_section": [24, 20, 20], "type": "default", "extra": 1}
    config = TextConfig.from_dict(data)
    assert config.rope_scaling.mrope_section == (24, 20, 20)
    assert config.rope_scaling.rope_type == "default"
    assert (config.hidden_size, config.tie_word_embeddings) == (32, False)
    with pytest.raises(CheckpointError, match="hidden_size"):
        TextConfig.from_dict({k: v for k, v in SMALL.items() if k != "hidden_size"})
    with pytest.raises(CheckpointError, match="gelu"):
        TextConfig.from_dict({**SMALL, "hidden_act": "gelu"})
    with pytest.raises(CheckpointError, match="yarn"):
        TextConfig.from_dict({**SMALL, "rope_scaling": {"rope_type": "yarn"}})


def test_sanitize_fuses_projections_in_checkpoint_order() -> None:
    parts = {
        f"layers.0.self_attn.{name}.weight": mx.full((rows, 4), float(i))
        for i, (name, rows) in enumerate([("q_proj", 6), ("k_proj", 2), ("v_proj", 2)])
    }
    parts |= {"layers.0.mlp.gate_proj.weight": mx.zeros((3, 4)), "norm.weight": mx.ones(4)}
    parts["layers.0.mlp.up_proj.weight"] = mx.ones((3, 4))
    fused = TextModel.sanitize(parts)
    qkv = np.array(fused["layers.0.self_attn.qkv_proj.weight"])[:, 0]
    assert qkv.tolist() == [0.0] * 6 + [1.0] * 2 + [2.0] * 2
    assert np.array(fused["layers.0.mlp.gate_up_proj.weight"])[:, 0].tolist() == [0] * 3 + [1] * 3
    assert "norm.weight" in fused and len(fused) == 3
    del parts["layers.0.self_attn.v_proj.weight"]
    with pytest.raises(CheckpointError, match="v_proj"):
        TextModel.sanitize(parts)


def test_loading_incomplete_weights_is_a_checkpoint_error() -> None:
    model = TextModel(TextConfig.from_dict(SMALL))
    with pytest.raises(CheckpointError, match="text decoder weights"):
        model.load_checkpoint_weights({"norm.weight": mx.ones(32)})
