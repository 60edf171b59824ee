"""LoRA adapters: only they train, they start as a no-op, and merging changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from tests.training.tiny import tiny_model

from qasr.adapters.mlx.backend import mx, tree_flatten
from qasr.errors import InvalidInputError
from qasr.training.lora import (
    LoRALinear,
    LoraSettings,
    apply_lora,
    lora_modules,
    merge_lora,
    merged_parameters,
)


def logits(model, ids: mx.array) -> np.ndarray:  # type: ignore[no-untyped-def]
    embeds = model.model.embed_tokens(ids)[None]
    return np.array(model.logits(model.model(embeds, 0)))


def audio(model, seed: int = 3) -> np.ndarray:  # type: ignore[no-untyped-def]
    mel = mx.random.normal((128, 150), key=mx.random.key(seed))
    return np.array(model.audio_tower(mel))


IDS = mx.array([5, 17, 99, 200, 3, 42], dtype=mx.int32)


def test_only_adapters_train_and_fresh_ones_change_nothing() -> None:
    model = tiny_model(lm_head=True)
    before = logits(model, IDS)
    paths = apply_lora(model, LoraSettings(rank=4, encoder=False), seed=0)
    assert len(paths) == 2 * 4  # two layers x (qkv, o, gate_up, down)
    trainable = [name for name, _ in tree_flatten(model.trainable_parameters())]
    assert trainable and all(name.endswith((".lora_a", ".lora_b")) for name in trainable)
    assert not any(name.startswith("audio_tower") for name in trainable)
    np.testing.assert_array_equal(logits(model, IDS), before)  # B starts at zero


def test_merge_equals_the_unmerged_forward() -> None:
    model = tiny_model(seed=1)
    base_names = {name for name, _ in tree_flatten(model.parameters())}
    apply_lora(model, LoraSettings(rank=4, alpha=8.0, encoder=True), seed=0)
    for i, (_, module) in enumerate(lora_modules(model)):
        module.lora_b = mx.random.normal(module.lora_b.shape, key=mx.random.key(i)) * 0.1
    unmerged_text, unmerged_audio = logits(model, IDS), audio(model)
    merged = merged_parameters(model)
    assert set(merged) == base_names  # the base model's names, adapters folded in
    merge_lora(model)
    assert not lora_modules(model)
    assert not any(isinstance(m, LoRALinear) for _, m in model.named_modules())
    np.testing.assert_allclose(logits(model, IDS), unmerged_text, rtol=0, atol=1e-5)
    np.testing.assert_allclose(audio(model), unmerged_audio, rtol=0, atol=1e-5)
    for name, value in tree_flatten(model.parameters()):
        np.testing.assert_array_equal(np.array(value), np.array(merged[name]))
    # The adapters did change the model: the comparison above is not vacuous.
    assert np.abs(logits(tiny_model(seed=1), IDS) - unmerged_text).max() > 1e-3


def test_rank_must_be_positive() -> None:
    with pytest.raises(InvalidInputError):
        LoraSettings(rank=0)
