"""The MLX text decoder, MRoPE and positions against the official Qwen3-ASR thinker.

Tolerance: rel_err(ours, official) = max|ours - official| / max|official| < 1e-4 in float32.
The MLX-only properties (fast RoPE path == general MRoPE path, masks, config parsing) live in
tests/adapters/mlx/model/test_text_decoder.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.generate import greedy_generate
from qasr.adapters.mlx.model.mrope import (
    inverse_frequencies,
    mrope_cos_sin,
    position_ids_from_mask,
    start_positions_from_mask,
)
from qasr.adapters.mlx.model.text_decoder import TextConfig, TextModel, padded_causal_mask
from qasr.domain import FinishReason

TOLERANCE = 1e-4
EOS_IDS = (151645, 151643)  # <|im_end|>, <|endoftext|>: the official generate's defaults


def rel_err(ours: Any, official: Any) -> float:
    ours, official = np.asarray(ours, np.float64), np.asarray(official, np.float64)
    return float(np.abs(ours - official).max() / np.abs(official).max())


@pytest.fixture(autouse=True)
def torch_one_thread() -> Iterator[None]:
    """On a small shared CPU, torch's spinning worker threads make it ~3x slower; one is faster."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Tiny(NamedTuple):
    official: Any  # the official thinker (Qwen3ASRThinkerForConditionalGeneration)
    ours: TextModel
    lm_head: mx.array

    def logits(self, hidden: mx.array) -> np.ndarray:
        return np.array(hidden @ self.lm_head.T)


@pytest.fixture(scope="module")
def tiny(official_checkpoint: Any) -> Tiny:
    """Tiny random official checkpoint, loaded into ours from its saved safetensors. The
    official init sets every norm weight to 1, which would hide a norm weight we never apply
    (k_norm, q_norm, the layer norms): noise on all 1-D parameters makes each one count."""
    checkpoint = official_checkpoint(vector_noise=0.3)
    config = json.loads(Path(checkpoint.folder, "config.json").read_text())
    weights = mx.load(str(checkpoint.folder / "model.safetensors"))
    prefix = "thinker.model."
    text = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
    ours = TextModel(TextConfig.from_dict(config["thinker_config"]["text_config"]))
    ours.load_checkpoint_weights(text)
    return Tiny(checkpoint.model.thinker, ours, weights["thinker.lm_head.weight"])


def embeddings_with_audio(tiny: Tiny, rng: np.random.Generator, batch: int, length: int) -> Any:
    """Real token embeddings with a random block standing in for audio features."""
    ids = rng.integers(0, 151_000, size=(batch, length))
    embeds = np.array(tiny.ours.embed_tokens(mx.array(ids)))
    audio = slice(length // 4, 3 * length // 4)
    embeds[:, audio] = 0.1 * rng.standard_normal(embeds[:, audio].shape)
    return embeds.astype(np.float32)


def positions(path: str, mask: mx.array, offset: int, deltas: mx.array | None) -> Any:
    """Our position argument for the fast (start per row) or general (3-axis ids) path."""
    if deltas is None:  # prefill
        if path == "fast":
            return start_positions_from_mask(mask)
        return position_ids_from_mask(mask)[0]
    start = offset + deltas[:, 0]
    return start if path == "fast" else mx.broadcast_to(start[None, :, None], (3, len(start), 1))


@pytest.mark.parity
@pytest.mark.parametrize("path", ["fast", "general"])
@pytest.mark.parametrize("pads", [(0,), (0, 4, 11)], ids=["one-row", "left-padded-batch"])
def test_prefill_and_decode_match_official(tiny: Tiny, path: str, pads: tuple[int, ...]) -> None:
    """Prefill logits at real positions, then 16 teacher-forced decode steps through our cache
    vs the official thinker with its DynamicCache and 2-D attention mask. The last row of the
    padded batch has one real token: the reference's off-by-one decode positions apply."""
    torch = pytest.importorskip("torch")
    from transformers import DynamicCache

    rng = np.random.default_rng(len(pads))
    batch, length = len(pads), 12
    embeds = embeddings_with_audio(tiny, rng, batch, length)
    mask_np = np.array([[0] * pad + [1] * (length - pad) for pad in pads], np.int64)
    official_cache, cache = DynamicCache(), tiny.ours.make_cache()

    with torch.no_grad():
        official = tiny.official(
            inputs_embeds=torch.from_numpy(embeds),
            attention_mask=torch.from_numpy(mask_np),
            past_key_values=official_cache,
            cache_position=torch.arange(length),
            use_cache=True,
        )
    mask = mx.array(mask_np)
    prefill_mask = padded_causal_mask(mask, length) if batch > 1 else None  # None: causal
    hidden = tiny.ours(mx.array(embeds), positions(path, mask, 0, None), cache, prefill_mask)
    ours_logits = tiny.logits(hidden)
    real = mask_np.astype(bool)
    assert rel_err(ours_logits[real], official.logits.numpy()[real]) < TOLERANCE
    _, deltas = position_ids_from_mask(mask)
    np.testing.assert_array_equal(np.array(deltas), tiny.official.rope_deltas.numpy())

    for step in range(16):
        tokens = rng.integers(0, 151_000, size=(batch, 1))
        mask_np = np.concatenate([mask_np, np.ones((batch, 1), np.int64)], axis=1)
        with torch.no_grad():
            official = tiny.official(
                input_ids=torch.from_numpy(tokens),
                attention_mask=torch.from_numpy(mask_np),
                past_key_values=official_cache,
                cache_position=torch.tensor([length + step]),
                use_cache=True,
            )
        mask = mx.array(mask_np)
        hidden = tiny.ours(
            tiny.ours.embed_tokens(mx.array(tokens)),
            positions(path, mask, cache[0].offset, deltas),
            cache,
            padded_causal_mask(mask, 1) if batch > 1 else None,
        )
        assert rel_err(tiny.logits(hidden), official.logits.numpy()) < TOLERANCE, f"step {step}"


@pytest.mark.parity
def test_greedy_generation_matches_official_generate(tiny: Tiny) -> None:
    """Greedy decoding of a left-padded text prompt equals the official `generate`."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    ids = rng.integers(0, 151_000, size=(2, 9))
    mask_np = np.ones_like(ids)
    mask_np[1, :3] = 0
    ids[1, :3] = 151643  # the processor pads with <|endoftext|>
    with torch.no_grad():
        official = tiny.official.generate(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask_np),
            max_new_tokens=10,
            do_sample=False,
            eos_token_id=list(EOS_IDS),
            pad_token_id=151643,
        )
    official_new = official[:, ids.shape[1] :].tolist()

    model, cache = tiny.ours, tiny.ours.make_cache()
    mask = mx.array(mask_np)
    _, deltas = position_ids_from_mask(mask)
    hidden = model(
        model.embed_tokens(mx.array(ids)),
        start_positions_from_mask(mask),
        cache,
        padded_causal_mask(mask, ids.shape[1]),
    )
    seen = {"mask": mask}

    def step(tokens: mx.array) -> mx.array:
        seen["mask"] = mx.concatenate([seen["mask"], mx.ones((2, 1), mx.int32)], axis=1)
        out = model(
            model.embed_tokens(tokens),
            cache[0].offset + deltas[:, 0],
            cache,
            padded_causal_mask(seen["mask"], 1),
        )
        return out[:, -1] @ tiny.lm_head.T

    result = greedy_generate(
        step, hidden[:, -1] @ tiny.lm_head.T, eos_ids=EOS_IDS, max_new_tokens=10
    )
    for row, tokens in enumerate(official_new):
        stop = next((i for i, token in enumerate(tokens) if token in EOS_IDS), None)
        assert list(result.tokens[row]) == tokens[:stop]
        reason = FinishReason.LENGTH if stop is None else FinishReason.STOP
        assert result.finish_reasons[row] is reason


@pytest.mark.parity
@settings(max_examples=40, deadline=None)
@given(
    mask=st.integers(1, 3).flatmap(
        lambda rows: st.integers(1, 10).flatmap(
            lambda length: st.lists(
                st.lists(st.integers(0, 1), min_size=length, max_size=length),
                min_size=rows,
                max_size=rows,
            )
        )
    )
)
def test_position_ids_match_get_rope_index(mask: list[list[int]]) -> None:
    """Any 0/1 mask: ids equal `get_rope_index`; deltas equal what the thinker's forward stores
    (get_rope_index's deltas minus the padding count)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from qwen_asr.core.transformers_backend.modeling_qwen3_asr import (
        Qwen3ASRPreTrainedModelForConditionalGeneration as Official,
    )

    mask_t = torch.tensor(mask)
    official_ids, official_deltas = Official.get_rope_index(None, mask_t)  # uses no state
    official_deltas = official_deltas - (1 - mask_t).sum(dim=-1).unsqueeze(1)
    ids, deltas = position_ids_from_mask(mx.array(mask))
    np.testing.assert_array_equal(np.array(ids), official_ids.numpy())
    np.testing.assert_array_equal(np.array(deltas), official_deltas.numpy())


@pytest.mark.parity
@pytest.mark.parametrize("text", ["tiny", "full"])
def test_mrope_cos_sin_match_official_for_distinct_axes(text: str) -> None:
    """The general path with three different position axes vs the official rotary module."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from qwen_asr.core.transformers_backend.modeling_qwen3_asr import (
        Qwen3ASRThinkerTextRotaryEmbedding,
    )
    from tests.support.official import FULL_06B_TEXT, official_config

    text_config = official_config(text=FULL_06B_TEXT if text == "full" else None)
    text_config = text_config.thinker_config.text_config
    config = TextConfig.from_dict(text_config.to_dict())
    position_ids = np.random.default_rng(0).integers(0, 600, size=(3, 2, 7))
    official_cos, official_sin = Qwen3ASRThinkerTextRotaryEmbedding(text_config)(
        torch.zeros(1, dtype=torch.float32), torch.from_numpy(position_ids)
    )
    inv_freq = inverse_frequencies(config.head_dim, config.rope_theta)
    cos, sin = mrope_cos_sin(mx.array(position_ids), inv_freq, config.rope_scaling.mrope_section)
    assert np.abs(np.array(cos) - official_cos.numpy()).max() < 1e-5
    assert np.abs(np.array(sin) - official_sin.numpy()).max() < 1e-5


# The real 0.6B shapes -----------------------------------------------------------------------


def _pool_weights(shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Random weights as views of one 16M-value pool: drawing 600M normals would take longer
    than the rest of the test. Norm weights are 1 + noise, matrices std 0.02 (the init)."""
    rng = np.random.default_rng(0)
    pool = 0.02 * rng.standard_normal(1 << 24, dtype=np.float32)
    weights = {}
    for index, (name, shape) in enumerate(shapes.items()):
        size = int(np.prod(shape))
        if len(shape) == 1:
            weights[name] = 1 + rng.standard_normal(shape, dtype=np.float32) * 0.1
        elif size > pool.size:
            weights[name] = np.resize(pool, size).reshape(shape)
        else:
            start = (index * 1_000_003) % (pool.size - size + 1)
            weights[name] = pool[start : start + size].reshape(shape)
    return weights


@pytest.mark.parity
@pytest.mark.slow
def test_full_06b_shapes_match_official() -> None:
    """28 layers, hidden 1024, vocab 151936, tied head: a 96-token prefill and 4 decode steps."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from qwen_asr.core.transformers_backend.modeling_qwen3_asr import Qwen3ASRThinkerTextModel
    from tests.support.official import FULL_06B_TEXT, official_config
    from transformers import DynamicCache
    from transformers.modeling_utils import no_init_weights

    text_config = official_config(text=FULL_06B_TEXT).thinker_config.text_config
    with no_init_weights():
        official = Qwen3ASRThinkerTextModel._from_config(text_config).float().eval()
    shapes = {name: tuple(t.shape) for name, t in official.state_dict().items()}
    weights = _pool_weights(shapes)
    official.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, assign=True)
    config = TextConfig.from_dict(text_config.to_dict())
    assert config.tie_word_embeddings and config.num_hidden_layers == 28
    ours = TextModel(config)
    ours.load_checkpoint_weights({k: mx.array(v) for k, v in weights.items()})
    del weights

    rng = np.random.default_rng(5)
    length = 96
    ids = rng.integers(0, 151_000, size=(1, length))
    embeds = np.array(ours.embed_tokens(mx.array(ids)))  # real tokens around fake audio
    embeds[:, 20:86] = 0.05 * rng.standard_normal((1, 66, 1024))
    embedding = official.embed_tokens.weight
    official_cache, cache = DynamicCache(), ours.make_cache()

    def official_step(inputs: Any, start: int) -> Any:
        steps = inputs.shape[1]
        position_ids = torch.arange(start, start + steps).expand(3, 1, steps)
        with torch.no_grad():
            out = official(
                inputs_embeds=inputs,
                position_ids=position_ids,
                past_key_values=official_cache,
                use_cache=True,
            ).last_hidden_state
            return out.numpy(), (out[:, -2:] @ embedding.T).numpy()

    official_hidden, official_logits = official_step(torch.from_numpy(embeds), 0)
    hidden = ours(mx.array(embeds), 0, cache)
    assert rel_err(np.array(hidden), official_hidden) < TOLERANCE
    assert rel_err(np.array(ours.as_logits(hidden[:, -2:])), official_logits) < TOLERANCE
    for step in range(4):
        token = rng.integers(0, 151_000, size=(1, 1))
        _, official_logits = official_step(
            embedding[torch.from_numpy(token)].detach(), length + step
        )
        hidden = ours(ours.embed_tokens(mx.array(token)), length + step, cache)
        assert rel_err(np.array(ours.as_logits(hidden)), official_logits) < TOLERANCE
