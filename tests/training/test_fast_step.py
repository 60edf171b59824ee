"""The fast trainer's step: cached features, fixed-shape batches and the compiled step compute
what the eager `loss.batch_loss` computes on the same examples."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.training.test_trainer import config
from tests.training.tiny import AUDIO_TOKEN_ID, TRAIN_ROWS, tiny_tokenizer, write_manifest

from qasr.adapters.audio import load_audio
from qasr.adapters.mlx.backend import mx, nn, tree_flatten
from qasr.adapters.mlx.checkpoint.reading import load_thinker
from qasr.adapters.mlx.model.mel import log_mel_spectrogram
from qasr.training import features as features_module
from qasr.training.batches import example_order, make_batch
from qasr.training.compiled import CompiledSteps, gather_batch, gelu, padded_batch_loss
from qasr.training.export import export_saved
from qasr.training.features import FeatureCache, numpy_log_mel
from qasr.training.loss import batch_loss
from qasr.training.manifest import read_manifest
from qasr.training.optimizer import make_optimizer, warmup_cosine
from qasr.training.padded import WINDOW_BATCHES, ExampleTables, bucketed_step_indices, feature_rows
from qasr.training.state import load_shards, save_shards
from qasr.training.trainer import Trainer

# A clip of one short chunk (convolved unpadded), clips of several chunks (the tail chunk padded
# to a whole one) and one longer than an attention window (8 s: two windows).
ROWS = [
    *TRAIN_ROWS,
    {"seconds": 2.6, "hz": 300.0, "text": "a longer one here"},
    {"seconds": 9.5, "hz": 200.0, "text": "the longest of all the clips"},
]


@pytest.fixture(scope="module")
def mixed_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_manifest(tmp_path_factory.mktemp("mixed"), "train", ROWS)


def eager_and_padded(
    folder: Path, manifest: Path, cache: Path, ctc_weight: float
) -> tuple[tuple[float, dict[str, np.ndarray]], tuple[float, dict[str, np.ndarray]]]:
    examples = read_manifest(manifest)
    model = load_thinker(folder, mx.float32).model
    tokenizer = tiny_tokenizer()
    eager_batch = make_batch(
        examples,
        [load_audio(example.audio) for example in examples],
        tokenizer,
        audio_token_id=AUDIO_TOKEN_ID,
        n_window=50,
    )
    eager = nn.value_and_grad(model, functools.partial(batch_loss, ctc_weight=ctc_weight))
    (eager_loss, _), eager_grads = eager(model, eager_batch)

    cached = FeatureCache.build(cache, examples, 128, jobs=1)
    tables = ExampleTables.encode(
        examples, cached, tokenizer, audio_token_id=AUDIO_TOKEN_ID, n_window=50, pad_id=0
    )
    ids = np.arange(len(examples))
    shape = tables.batch_shape(ids)
    device, rows = tables.device(), feature_rows(cached)

    def loss(model: nn.Module, ids: mx.array) -> tuple[mx.array, mx.array]:
        batch = gather_batch(device, rows, ids, shape, chunk_frames=100, whole_chunks=False)
        return padded_batch_loss(
            model, batch, audio_id=tables.audio_id, logit_offset=None, ctc_weight=ctc_weight
        )

    (padded_loss, _), padded_grads = nn.value_and_grad(model, loss)(model, mx.array(ids))

    def arrays(grads: dict[str, mx.array]) -> dict[str, np.ndarray]:
        return {name: np.array(value) for name, value in tree_flatten(grads)}

    return (eager_loss.item(), arrays(eager_grads)), (padded_loss.item(), arrays(padded_grads))


@pytest.mark.parametrize("ctc_weight", [0.0, 0.5])
def test_the_padded_step_equals_the_eager_step(
    tiny_folder: Path, mixed_manifest: Path, tmp_path: Path, ctc_weight: float
) -> None:
    (eager_loss, eager), (padded_loss, padded) = eager_and_padded(
        tiny_folder, mixed_manifest, tmp_path, ctc_weight
    )
    assert padded_loss == pytest.approx(eager_loss, rel=1e-5)
    assert eager.keys() == padded.keys()
    largest = max(float(np.abs(g).max()) for g in eager.values())
    for name, gradient in eager.items():
        # Relative to the largest gradient: a key bias's true gradient is 0 (softmax ignores a
        # shift), so both are rounding noise there.
        np.testing.assert_allclose(padded[name], gradient, rtol=1e-3, atol=1e-5 * largest)


@pytest.mark.parametrize("mode", ["step", "update"])
def test_the_compiled_step_equals_the_uncompiled_step(
    tiny_folder: Path, mixed_manifest: Path, tmp_path: Path, mode: str
) -> None:
    examples = read_manifest(mixed_manifest)
    cached = FeatureCache.build(tmp_path, examples, 128, jobs=1)
    tables = ExampleTables.encode(
        examples, cached, tiny_tokenizer(), audio_token_id=AUDIO_TOKEN_ID, n_window=50, pad_id=0
    )
    results = []
    for compile in ("none", mode):
        model = load_thinker(tiny_folder, mx.float32).model
        optimizer = make_optimizer(warmup_cosine(3e-3, 1, 10))
        steps = CompiledSteps(
            model,
            optimizer,
            tables,
            feature_rows(cached),
            vocabulary=None,
            ctc_weight=0.5,
            max_grad_norm=1.0,
            compile=compile,
        )
        losses = [steps(ids)[0].item() for ids in (np.array([0, 3]), np.array([1, 4]))]
        results.append((losses, {k: np.array(v) for k, v in tree_flatten(model.parameters())}))
    (plain_losses, plain), (compiled_losses, compiled) = results
    assert compiled_losses == pytest.approx(plain_losses, rel=1e-5)
    for name, value in plain.items():
        np.testing.assert_allclose(compiled[name], value, rtol=1e-4, atol=1e-5, err_msg=name)


def test_the_fast_gelu_is_the_exact_gelu() -> None:
    x = mx.array(np.linspace(-12, 12, 20_001, dtype=np.float32))
    np.testing.assert_allclose(np.array(gelu(x)), np.array(nn.gelu(x)), rtol=1e-6, atol=3e-6)
    ours = mx.grad(lambda v: gelu(v).sum())(x)
    exact = mx.grad(lambda v: nn.gelu(v).sum())(x)
    np.testing.assert_allclose(np.array(ours), np.array(exact), atol=2e-5)


def test_cached_features_are_the_recognizers_log_mels(
    mixed_manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = read_manifest(mixed_manifest)
    cache = FeatureCache.build(tmp_path, examples, 128, jobs=1)
    for index, example in enumerate(examples):
        expected = np.array(log_mel_spectrogram(load_audio(example.audio)))
        np.testing.assert_allclose(cache.mel(index), expected, rtol=0, atol=2e-6)
    # A second run opens the same cache and computes nothing.
    monkeypatch.setattr(features_module, "clip_features", lambda *args: pytest.fail("computed"))
    again = FeatureCache.build(tmp_path, examples, 128, jobs=1)
    assert again.folder == cache.folder
    np.testing.assert_array_equal(again.rows, cache.rows)


def test_a_changed_clip_gets_a_new_cache(mixed_manifest: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    manifest = write_manifest(folder, "train", ROWS[:2])
    before = FeatureCache.build(tmp_path / "cache", read_manifest(manifest), 128, jobs=1)
    write_manifest(folder, "train", [{**ROWS[0], "seconds": 1.7}, ROWS[1]])
    after = FeatureCache.build(tmp_path / "cache", read_manifest(manifest), 128, jobs=1)
    assert after.folder != before.folder
    assert after.frames[0] == 170 and before.frames[0] == 100


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5000).map(lambda seed: np.random.default_rng(seed)))
def test_numpy_log_mel_equals_the_mlx_log_mel(rng: np.random.Generator) -> None:
    samples = (rng.standard_normal(int(rng.integers(201, 24_000))) * rng.uniform(1e-3, 1)).astype(
        np.float32
    )
    np.testing.assert_allclose(
        numpy_log_mel(samples, 128).T, np.array(log_mel_spectrogram(samples)), rtol=0, atol=2e-6
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 30), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3))
def test_the_bucketed_order_visits_the_epochs_in_turn(
    n: int, batch_size: int, seed: int, windows: int
) -> None:
    rng = np.random.default_rng(n)
    chunks = rng.integers(1, 5, n)

    class Tables:  # what the order reads: lengths and the table's size
        row_length = rng.integers(5, 40, n)

        def __len__(self) -> int:
            return n

    tables = Tables()
    tables.chunks = chunks  # type: ignore[attr-defined]
    steps = windows * WINDOW_BATCHES
    seen = np.concatenate(
        [bucketed_step_indices(tables, batch_size, seed, step) for step in range(steps)]  # type: ignore[arg-type]
    )
    positions = steps * batch_size
    stream = np.concatenate([example_order(n, seed, epoch) for epoch in range(-(-positions // n))])[
        :positions
    ]
    assert sorted(seen.tolist()) == sorted(stream.tolist())  # the same examples, reordered
    again = bucketed_step_indices(tables, batch_size, seed, steps - 1)  # type: ignore[arg-type]
    assert again.tolist() == seen[-batch_size:].tolist()  # a pure function of (seed, step)


def test_state_shards_round_trip(tmp_path: Path) -> None:
    tensors = {f"w{i}": mx.array(np.full((64, 64), i, dtype=np.float32)) for i in range(5)}
    save_shards(tmp_path, "trainable", tensors, max_bytes=3 * 64 * 64 * 4)
    assert len(list(tmp_path.glob("trainable-*-of-00002.safetensors"))) == 2
    loaded = load_shards(tmp_path, "trainable")
    assert loaded.keys() == tensors.keys()
    for name, value in tensors.items():
        np.testing.assert_array_equal(np.array(loaded[name]), np.array(value))


def test_a_time_limit_saves_and_the_checkpoint_exports_without_the_data(
    shared_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    settings = config(shared_folder, manifests, tmp_path / "run", steps=4, time_limit=0.0)
    folder = Trainer.from_config(settings).run()
    assert folder.name == "step-000001"  # stopped after its first step
    resumed = Trainer.from_config(
        config(shared_folder, manifests, tmp_path / "run", steps=4, resume=True)
    )
    assert resumed.step == 1
    resumed.run()
    assert resumed.vocabulary is not None
    exported = export_saved(
        tmp_path / "run" / "checkpoints" / "step-000004", shared_folder, tmp_path / "again"
    )
    ours = mx.load(str(exported / "model.safetensors"))
    theirs = mx.load(str(tmp_path / "run" / "model.safetensors"))
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        np.testing.assert_array_equal(np.array(ours[name]), np.array(value), err_msg=name)
