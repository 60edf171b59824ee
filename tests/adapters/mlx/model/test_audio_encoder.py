"""The audio encoder's contract, on a tiny random model (parity lives in tests/parity)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx, tree_flatten, tree_map
from qasr.adapters.mlx.model.audio_encoder import AudioEncoder, AudioEncoderConfig, sinusoids
from qasr.adapters.mlx.model.lengths import audio_token_count
from qasr.errors import CheckpointError, InvalidInputError

TINY = AudioEncoderConfig(
    d_model=32, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=64,
    output_dim=48, downsample_hidden_size=8, num_mel_bins=128, n_window=50, n_window_infer=800,
)  # fmt: skip


def randomised(encoder: AudioEncoder, seed: int = 0) -> AudioEncoder:
    # MLX initialises biases to 0; random ones make a dropped bias or padding leak visible.
    mx.random.seed(seed)
    encoder.update(tree_map(lambda p: 0.3 * mx.random.normal(p.shape), encoder.parameters()))
    return encoder


@pytest.fixture(scope="module")
def encoder() -> AudioEncoder:
    return randomised(AudioEncoder(TINY))


def mel(frames: int, seed: int = 0) -> mx.array:
    return mx.array(np.random.default_rng(seed).standard_normal((128, frames)).astype(np.float32))


def test_config_reads_config_json_and_ignores_unknown_keys():
    values = {"d_model": 896, "encoder_attention_heads": 14, "n_window": 50, "model_type": "x"}
    config = AudioEncoderConfig.from_dict({**values, "dropout": 0.0, "scale_embedding": False})
    assert (config.d_model, config.encoder_attention_heads, config.n_window) == (896, 14, 50)
    assert config.n_window_infer == 400  # the official default where config.json is silent


def test_config_window_is_whole_chunks_of_tokens():
    assert TINY.chunk_frames == 100
    assert TINY.window_tokens == 8 * 13


@pytest.mark.parametrize(
    "values",
    [{"d_model": 30, "encoder_attention_heads": 4}, {"n_window": 50, "n_window_infer": 50},
     {"activation_function": "relu"}],
)  # fmt: skip
def test_invalid_configs_are_refused(values):
    with pytest.raises(CheckpointError, match=r"config\.json|gelu"):
        AudioEncoderConfig.from_dict(values)


def test_token_count_within_one_chunk_is_three_halvings_rounded_up():
    for frames in range(0, 101):
        assert audio_token_count(frames) == math.ceil(math.ceil(math.ceil(frames / 2) / 2) / 2)


@given(frames=st.integers(0, 100_000))
def test_each_full_chunk_adds_13_tokens(frames):
    assert audio_token_count(frames + 100) == audio_token_count(frames) + 13
    assert audio_token_count(frames + 1) >= audio_token_count(frames)


def test_negative_frames_are_refused():
    with pytest.raises(InvalidInputError):
        audio_token_count(-1)


def test_parameter_names_are_the_checkpoint_names():
    names = {name for name, _ in tree_flatten(AudioEncoder(TINY).parameters())}
    expected = {f"conv2d{i}.{p}" for i in (1, 2, 3) for p in ("weight", "bias")}
    expected |= {"conv_out.weight", "ln_post.weight", "ln_post.bias"}
    expected |= {f"proj{i}.{p}" for i in (1, 2) for p in ("weight", "bias")}
    for layer in range(TINY.encoder_layers):
        for part in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                     "self_attn.out_proj", "self_attn_layer_norm", "fc1", "fc2",
                     "final_layer_norm"):  # fmt: skip
            expected |= {f"layers.{layer}.{part}.weight", f"layers.{layer}.{part}.bias"}
    assert names == expected


def test_sanitize_turns_conv_kernels_to_mlx_layout_and_nothing_else():
    encoder = AudioEncoder(TINY)
    torch_layout = {
        name: mx.array(np.random.default_rng(0).standard_normal(value.shape, np.float32))
        for name, value in tree_flatten(encoder.parameters())
    }
    for i in (1, 2, 3):  # MLX holds OHWI; a PyTorch checkpoint holds OIHW
        torch_layout[f"conv2d{i}.weight"] = torch_layout[f"conv2d{i}.weight"].transpose(0, 3, 1, 2)
    sanitized = AudioEncoder.sanitize(torch_layout)
    assert sanitized.keys() == torch_layout.keys()
    for name, weight in sanitized.items():
        if name.startswith("conv2d") and name.endswith("weight"):
            assert np.array_equal(
                np.array(weight), np.array(torch_layout[name]).transpose(0, 2, 3, 1)
            )
        else:
            assert weight is torch_layout[name]
    encoder.load_weights(list(sanitized.items()))  # strict: every name and shape fits


@pytest.mark.parametrize("frames", [1, 7, 99, 100, 101, 801, 1234])
def test_output_has_one_row_per_audio_token(encoder, frames):
    out = encoder(mel(frames))
    assert out.shape == (audio_token_count(frames), TINY.output_dim)
    assert np.all(np.isfinite(np.array(out)))


@pytest.mark.parametrize("shape", [(80, 100), (128, 0), (128,), (1, 128, 100)])
def test_wrong_mel_shapes_are_refused(encoder, shape):
    with pytest.raises(InvalidInputError, match="log-mel"):
        encoder(mx.zeros(shape))


def test_windowed_attention_keeps_windows_apart(encoder):
    first_window = 800
    base = np.array(mel(1234, seed=1))
    changed = base.copy()
    changed[:, first_window:] += 1.0
    a, b = np.array(encoder(mx.array(base))), np.array(encoder(mx.array(changed)))
    tokens = TINY.window_tokens
    np.testing.assert_array_equal(a[:tokens], b[:tokens])
    assert np.abs(a[tokens:] - b[tokens:]).min() > 0


def test_global_attention_differs_only_past_one_window(encoder):
    global_encoder = AudioEncoder(TINY, windowed_attention=False)
    global_encoder.update(encoder.parameters())
    short, long = mel(800, 2), mel(900, 3)
    np.testing.assert_allclose(
        np.array(global_encoder(short)), np.array(encoder(short)), rtol=0, atol=1e-5
    )
    assert np.abs(np.array(global_encoder(long)) - np.array(encoder(long))).max() > 1e-3


def test_tail_chunk_is_zero_padded_like_the_official():
    # A 73-frame clip is one unpadded chunk; the same frames as a tail of a longer clip are
    # padded to 100 frames, and the padding reaches the tail's last token through the convs.
    encoder = randomised(AudioEncoder(TINY), seed=1)
    tail = np.array(mel(73, 4))
    alone = np.array(encoder._embed([mx.array(tail)])[0])
    as_tail = np.array(encoder._embed([mx.concatenate([mel(100, 5), mx.array(tail)], axis=1)])[0])
    np.testing.assert_allclose(as_tail[13:-1], alone[:-1], rtol=0, atol=1e-5)
    assert np.abs(as_tail[-1] - alone[-1]).max() > 1e-3


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(1, 1300), min_size=1, max_size=4))
def test_a_batch_equals_one_clip_at_a_time(encoder, frame_counts):
    mels = [mel(frames, seed) for seed, frames in enumerate(frame_counts)]
    batch = encoder.encode_batch(mels)
    assert len(batch) == len(mels)
    for one, in_batch in zip(mels, batch, strict=True):
        expected = np.array(encoder(one))
        np.testing.assert_allclose(np.array(in_batch), expected, rtol=0, atol=1e-5)


def test_an_empty_batch_gives_no_outputs(encoder):
    assert encoder.encode_batch([]) == []


def test_positions_start_with_sines_of_zero_then_cosines_of_zero():
    table = np.array(sinusoids(13, 32))
    assert table.shape == (13, 32)
    assert np.all(table[0, :16] == 0) and np.all(table[0, 16:] == 1)
    np.testing.assert_allclose(table[:, 0], np.sin(np.arange(13)), atol=1e-6)
