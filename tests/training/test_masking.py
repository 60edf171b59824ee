"""SpecAugment-style feature masking: stripes inside each clip's real frames, filled with the
clip's mean, a pure function of (seed, step), and absent unless asked for."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.training.test_trainer import MASKS, config

from qasr.adapters.mlx.backend import mx
from qasr.errors import InvalidInputError
from qasr.training.masking import Masking, mask_features, step_key
from qasr.training.trainer import Trainer


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, Masking, int]:
    batch = draw(st.integers(1, 3))
    width = draw(st.integers(1, 40))
    bins = draw(st.integers(1, 12))
    frames = np.array([draw(st.integers(0, width)) for _ in range(batch)])
    mels = np.random.default_rng(draw(st.integers(0, 99))).normal(size=(batch, width, bins))
    mels[np.arange(width)[None, :] >= frames[:, None]] = 0.0  # padding is the zero row
    masking = Masking(
        draw(st.integers(0, 3)), draw(st.integers(0, 10)), draw(st.integers(0, 3)),
        draw(st.integers(0, 6)),
    )  # fmt: skip
    return mels.astype(np.float32), frames, masking, draw(st.integers(0, 10_000))


@given(cases())
def test_masks_fall_inside_the_clip_and_take_its_mean(
    case: tuple[np.ndarray, np.ndarray, Masking, int],
) -> None:
    mels, frames, masking, step = case
    out = np.array(mask_features(mx.array(mels), mx.array(frames), step_key(0, step), masking))
    changed = out != mels
    for clip, (before, after, real) in enumerate(zip(mels, out, frames, strict=True)):
        assert not changed[clip, real:].any()  # the padding stays as it was
        mean = before[:real].sum() / max(real * before.shape[1], 1)
        np.testing.assert_allclose(after[changed[clip]], mean, rtol=1e-5, atol=1e-6)
        rows = np.all(changed[clip, :real], axis=1) if before.shape[1] > 1 else None
        if rows is not None and masking.freq_masks == 0:
            # Whole masked frames come from at most time_masks stripes of time_width.
            assert rows.sum() <= masking.time_masks * masking.time_width
    if not masking.enabled:
        assert not changed.any()


def test_the_masks_are_a_function_of_seed_and_step() -> None:
    mels = mx.array(np.random.default_rng(0).normal(size=(2, 200, 32)).astype(np.float32))
    frames = mx.array([200, 150])
    masking = Masking(time_masks=2, time_width=30, freq_masks=2, freq_width=8)

    def masked(seed: int, step: int) -> np.ndarray:
        return np.array(mask_features(mels, frames, step_key(seed, step), masking))

    np.testing.assert_array_equal(masked(0, 5), masked(0, 5))
    assert not np.array_equal(masked(0, 5), masked(0, 6))
    assert not np.array_equal(masked(0, 5), masked(1, 5))
    assert (masked(0, 5) != np.array(mels)).any()


def test_negative_settings_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="time-masks must be >= 0"):
        Masking(time_masks=-1)


def test_masking_changes_training_and_not_validation(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    plain = Trainer.from_config(config(tiny_folder, manifests, tmp_path / "a"))
    masked = Trainer.from_config(config(tiny_folder, manifests, tmp_path / "b", **MASKS))
    assert masked.validation_loss() == plain.validation_loss()
    assert masked.train_step().loss != plain.train_step().loss
    again = Trainer.from_config(
        attrs.evolve(config(tiny_folder, manifests, tmp_path / "c"), **MASKS)
    )
    assert (
        again.train_step().loss
        == Trainer.from_config(config(tiny_folder, manifests, tmp_path / "d", **MASKS))
        .train_step()
        .loss
    )
