"""The layout table and converter on their own: no reference install needed, milliseconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.adapters.mlx.checkpoint.config import read_checkpoint_config
from qasr.adapters.mlx.checkpoint.layout_convert import (
    aligner_config,
    convert_config,
    convert_layout,
    hf_config,
    mrope_section,
    original_config,
)
from qasr.adapters.mlx.checkpoint.weights import (
    WEIGHT_PREFIXES,
    Layout,
    checkpoint_name,
    module_name,
)
from qasr.errors import CheckpointError

SUFFIX = st.from_regex(r"[a-z_]{1,8}(\.[0-9]{1,2})?\.(weight|bias)", fullmatch=True)
TEXT = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 16,
    "vocab_size": 151936,
    "rms_norm_eps": 1e-6,
}
AUDIO = {"d_model": 64, "encoder_layers": 2, "encoder_attention_heads": 4, "n_window": 50}


@given(layout=st.sampled_from(list(Layout)), suffix=SUFFIX, entry=st.integers(0, 4))
def test_checkpoint_name_inverts_module_name(layout: Layout, suffix: str, entry: int) -> None:
    table = WEIGHT_PREFIXES[layout]
    prefix, _ = table[min(entry, len(table) - 1)]
    name = prefix + suffix
    module = module_name(name, layout)
    assert module is not None
    # `score.` (the -hf aligner head) and `lm_head.` share a module; the name written back is
    # the generation model's.
    expected = "lm_head." + suffix if prefix == "score." else name
    assert checkpoint_name(module, layout) == expected


@given(head_dim=st.sampled_from([16, 24, 64, 128, 256]))
def test_mrope_section_covers_half_the_head(head_dim: int) -> None:
    section = mrope_section(head_dim)
    assert sum(section) == head_dim // 2 and min(section) >= 0


@pytest.mark.parametrize("tie", [True, False])
def test_config_round_trip(tie: bool) -> None:
    hf = {
        "architectures": ["Qwen3ASRForConditionalGeneration"],
        "audio_config": {**AUDIO, "max_position_embeddings": 13},
        "text_config": {**TEXT, "rope_parameters": {"rope_type": "default", "rope_theta": 5e6}},
        "audio_token_id": 151676,
        "tie_word_embeddings": tie,
    }
    original = original_config(hf)
    assert original["thinker_config"]["text_config"]["rope_theta"] == 5e6
    assert original["tie_word_embeddings"] is tie
    again = hf_config(original)
    assert again["audio_config"] == {"model_type": "qwen3_asr_encoder", **hf["audio_config"]}
    text = {k: v for k, v in again["text_config"].items() if k not in ("model_type",)}
    assert text == {**hf["text_config"], "tie_word_embeddings": tie}
    assert again["tie_word_embeddings"] is tie


def write_config(folder: Path, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_hf_config_parsing(tmp_path: Path) -> None:
    hf = {
        "architectures": ["Qwen3ASRForConditionalGeneration"],
        "audio_config": AUDIO,
        "text_config": {**TEXT, "rope_parameters": {"rope_type": "default", "rope_theta": 5e6}},
        "eos_token_id": [1, 2],
    }
    config = read_checkpoint_config(write_config(tmp_path, hf))
    assert config.layout is Layout.HF
    assert config.tie_word_embeddings  # the Qwen3ASRConfig default when the key is absent
    assert config.text["rope_theta"] == 5e6
    assert config.text["rope_scaling"]["mrope_section"] == [8, 0, 0]  # plain 1-D RoPE
    assert config.eos_token_ids == (1, 2)


def test_neither_layout_names_both(tmp_path: Path) -> None:
    folder = write_config(tmp_path, {"model_type": "whisper", "d_model": 8})
    with pytest.raises(CheckpointError, match=r"thinker_config.*audio_config"):
        read_checkpoint_config(folder)


def test_index_of_the_other_layout_is_refused(tmp_path: Path) -> None:
    hf = {"audio_config": AUDIO, "text_config": TEXT}
    folder = write_config(tmp_path, hf)
    index = {"weight_map": {"thinker.model.norm.weight": "model.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match="index names original-layout weights"):
        read_checkpoint_config(folder)


def test_convert_refuses_unknown_layout_and_same_folder(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="choose original, hf"):
        convert_layout(tmp_path, tmp_path / "out", "gguf")
    with pytest.raises(CheckpointError, match="another folder"):
        convert_layout(tmp_path, tmp_path, "hf")


def test_only_the_hf_layout_pads_short_clips(tmp_path: Path) -> None:
    hf = {"audio_config": AUDIO, "text_config": TEXT}
    assert read_checkpoint_config(write_config(tmp_path / "hf", hf)).pads_short_clips
    original = original_config({**hf, "text_config": {**TEXT, "rope_theta": 5e6}})
    assert not read_checkpoint_config(write_config(tmp_path / "orig", original)).pads_short_clips


@pytest.mark.parametrize("labels", [300, 5000])
def test_aligner_config_round_trip(tmp_path: Path, labels: int) -> None:
    """original aligner -> -hf Qwen3ASRForTokenClassification -> original keeps what qasr reads."""
    text = {**TEXT, "rope_theta": 5e6, "rope_scaling": {"mrope_section": [4, 2, 2]}}
    original = {
        "thinker_config": {
            "audio_config": AUDIO,
            "text_config": text,
            "model_type": "qwen3_forced_aligner",
            "classify_num": labels,
        },
        "timestamp_token_id": 151705,
        "timestamp_segment_time": 80,
    }
    first = read_checkpoint_config(write_config(tmp_path / "a", original))
    hf = aligner_config(convert_config(original, Layout.ORIGINAL, Layout.HF), first)
    assert hf["architectures"] == ["Qwen3ASRForTokenClassification"]
    second = read_checkpoint_config(write_config(tmp_path / "b", hf))
    again = aligner_config(convert_config(hf, Layout.HF, Layout.ORIGINAL), second)
    assert again["tie_word_embeddings"] is False  # the head has classify_num rows
    third = read_checkpoint_config(write_config(tmp_path / "c", again))
    for config, layout in ((second, Layout.HF), (third, Layout.ORIGINAL)):
        assert config.layout is layout and config.is_aligner
        assert config.classify_num == labels
        assert config.timestamp_token_id == 151705
        assert config.timestamp_segment_time == 80.0
