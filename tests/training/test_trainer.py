"""The training loop on a tiny model: it learns, resumes bit for bit, validates and exports."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import numpy as np
import pytest
from tests.training.tiny import tone

from qasr.adapters.mlx.backend import mx, tree_flatten
from qasr.adapters.mlx.checkpoint.reading import load_thinker
from qasr.adapters.mlx.recognizer import MlxRecognizer
from qasr.domain import RecognitionOptions
from qasr.errors import InvalidInputError
from qasr.training.progress import StepReport, progress_line
from qasr.training.settings import TrainingConfig
from qasr.training.state import latest_checkpoint
from qasr.training.trainer import Trainer


def config(tiny_folder: Path, manifests: tuple[Path, Path], output: Path, **changes: object):  # type: ignore[no-untyped-def]
    base = TrainingConfig(
        data=manifests[0],
        valid=manifests[1],
        model=str(tiny_folder),
        output=output,
        steps=6,
        batch_size=2,
        learning_rate=3e-3,
        warmup_steps=1,
        eval_every=0,
        save_every=0,
        eval_clips=1,
        max_new_tokens=4,
    )
    return attrs.evolve(base, **changes)


def trainable(trainer: Trainer) -> dict[str, np.ndarray]:
    return {k: np.array(v) for k, v in tree_flatten(trainer.model.trainable_parameters())}


@pytest.mark.parametrize("lora_rank", [0, 4])
def test_a_few_steps_lower_the_loss(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path, lora_rank: int
) -> None:
    lr = 3e-3 if lora_rank == 0 else 2e-2
    trainer = Trainer.from_config(
        config(tiny_folder, manifests, tmp_path, lora_rank=lora_rank, learning_rate=lr)
    )
    before = trainer.validation_loss()
    losses = [trainer.train_step().loss for _ in range(6)]
    after = trainer.validation_loss()
    assert all(np.isfinite(losses))
    assert after < before - 0.5, (before, after, losses)


MASKS = {"time_masks": 2, "time_mask_width": 8, "freq_masks": 2, "freq_mask_width": 16}


@pytest.mark.parametrize("masks", [{}, MASKS], ids=["plain", "masked"])
def test_resume_continues_bit_for_bit(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path, masks: dict[str, int]
) -> None:
    def run(output: Path, **changes: object) -> Trainer:
        return Trainer.from_config(
            config(tiny_folder, manifests, output, lora_rank=4, **masks, **changes)
        )

    straight = run(tmp_path / "a")
    straight_losses = [straight.train_step().loss for _ in range(4)]

    first = run(tmp_path / "b")
    first_losses = [first.train_step().loss for _ in range(2)]
    first.save()
    with pytest.raises(InvalidInputError, match="--resume"):
        run(tmp_path / "b")
    resumed = run(tmp_path / "b", resume=True)
    assert resumed.step == 2
    resumed_losses = [resumed.train_step().loss for _ in range(2)]
    assert first_losses + resumed_losses == straight_losses
    ours, theirs = trainable(resumed), trainable(straight)
    assert ours.keys() == theirs.keys()
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)


def test_resume_refuses_other_settings_and_missing_checkpoints(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="nothing to resume"):
        Trainer.from_config(config(tiny_folder, manifests, tmp_path, resume=True))
    trainer = Trainer.from_config(config(tiny_folder, manifests, tmp_path, lora_rank=2))
    trainer.train_step()
    trainer.save()
    with pytest.raises(InvalidInputError, match="lora_alpha"):
        Trainer.from_config(
            config(tiny_folder, manifests, tmp_path, lora_rank=2, lora_alpha=4.0, resume=True)
        )


def test_run_validates_saves_and_exports_a_loadable_model(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    lines: list[str] = []
    settings = config(tiny_folder, manifests, tmp_path, steps=4, lora_rank=4, eval_every=2)
    trainer = Trainer.from_config(attrs.evolve(settings, save_every=2), on_progress=lines.append)
    folder = trainer.run()
    assert folder == tmp_path
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoints" / "step-000004"
    assert (tmp_path / "checkpoints" / "step-000002").is_dir()
    assert sum("validation loss" in line and "WER" in line for line in lines) == 2
    assert any(line.startswith("step 4/4") and "ETA" in line for line in lines)
    # One notice per compiled shape, before that shape's first step.
    compiling = [line for line in lines if line.startswith("compiling the step")]
    assert len(compiling) == trainer.compiled_steps.shapes >= 1
    first_step = next(i for i, line in enumerate(lines) if line.startswith("step "))
    assert lines.index(compiling[0]) < first_step

    # The export is an original-layout checkpoint with the base's tensor names and files.
    base = mx.load(str(tiny_folder / "model.safetensors"))
    exported = mx.load(str(folder / "model.safetensors"))
    assert set(exported) == set(base)
    assert all(name.startswith("thinker.") for name in exported)
    assert "thinker_config" in json.loads((folder / "config.json").read_text())
    assert (folder / "tokenizer_config.json").is_file()

    # It loads in the recognizer and computes what the trained (unmerged) model computes.
    clip = tone(1.1, 500, 9)
    options = RecognitionOptions(max_new_tokens=3)
    exported_logits = MlxRecognizer.from_pretrained(folder, dtype="float32").prompt_logits(
        clip, options
    )
    live = MlxRecognizer(trainer.thinker, trainer.tokenizer, source="live")
    np.testing.assert_allclose(
        np.array(exported_logits), np.array(live.prompt_logits(clip, options)), atol=1e-5
    )
    # And training changed the model.
    base_logits = MlxRecognizer.from_pretrained(tiny_folder, dtype="float32").prompt_logits(
        clip, options
    )
    assert np.abs(np.array(base_logits) - np.array(exported_logits)).max() > 1e-3


def test_full_fine_tuning_export_round_trips(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    trainer = Trainer.from_config(config(tiny_folder, manifests, tmp_path / "run"))
    trainer.train_step()
    folder = trainer.export(tmp_path / "export")
    reloaded = load_thinker(folder, mx.float32).model
    ours = dict(tree_flatten(trainer.model.parameters()))
    for name, value in tree_flatten(reloaded.parameters()):
        np.testing.assert_array_equal(np.array(value), np.array(ours[name]), err_msg=name)


def test_progress_line_shows_loss_speed_and_eta() -> None:
    line = progress_line(StepReport(5, 1.23456, 40, 0.5, 1e-4), 10, elapsed=10.0, steps_timed=5)
    assert "step  5/10" in line and "loss 1.2346" in line
    assert "2.00 s/step" in line and "20 tok/s" in line and "ETA 0:00:10" in line


def test_an_hf_layout_base_exports_in_the_original_layout(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    from qasr.adapters.mlx.checkpoint.config import read_checkpoint_config
    from qasr.adapters.mlx.checkpoint.layout_convert import convert_layout
    from qasr.adapters.mlx.checkpoint.weights import Layout

    hf_base = convert_layout(tiny_folder, tmp_path / "hf", "hf")
    trainer = Trainer.from_config(config(hf_base, manifests, tmp_path / "run", lora_rank=2))
    trainer.train_step()
    folder = trainer.export()
    assert read_checkpoint_config(folder).layout is Layout.ORIGINAL
    clip = tone(1.2, 250, 4)
    exported = MlxRecognizer.from_pretrained(folder, dtype="float32").prompt_logits(clip)
    live = MlxRecognizer(trainer.thinker, trainer.tokenizer, source="live").prompt_logits(clip)
    np.testing.assert_allclose(np.array(exported), np.array(live), atol=1e-5)


def test_quantized_and_float16_bases_are_refused(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    from qasr.adapters.mlx.text.tokenizer import Tokenizer
    from qasr.errors import CheckpointError
    from qasr.training.manifest import read_manifest

    thinker = load_thinker(tiny_folder, mx.float32)
    quantized = attrs.evolve(
        thinker,
        config=attrs.evolve(thinker.config, raw={**thinker.config.raw, "quantization": {}}),
    )
    settings = config(tiny_folder, manifests, tmp_path)
    tokenizer = Tokenizer.from_folder(tiny_folder)
    with pytest.raises(CheckpointError, match="float checkpoint"):
        Trainer(settings, quantized, tokenizer, read_manifest(manifests[0]))
    with pytest.raises(InvalidInputError, match="float16"):
        Trainer.from_config(attrs.evolve(settings, dtype="float16"))


def test_the_ctc_loss_adds_to_the_answer_loss_and_trains(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    plain = Trainer.from_config(config(tiny_folder, manifests, tmp_path / "plain"))
    with_ctc = Trainer.from_config(config(tiny_folder, manifests, tmp_path / "ctc", ctc_weight=1.0))
    first_plain, first_ctc = plain.train_step(), with_ctc.train_step()
    assert first_ctc.loss > first_plain.loss + 0.5  # the CTC term is there at step 0
    before = with_ctc.validation_loss()
    for _ in range(5):
        with_ctc.train_step()
    assert with_ctc.validation_loss() < before - 0.5
