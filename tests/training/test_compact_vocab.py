"""The compact vocabulary: training on the used rows plus one shared row equals training on all."""

from __future__ import annotations

import math
from pathlib import Path

import attrs
import numpy as np
import pytest
from safetensors.numpy import load_file
from tests.training.float32_bounds import (
    UNIT_ROUNDOFF,
    adamw_step_drift,
    drift,
    gradients_from_moments,
)
from tests.training.test_trainer import config
from tests.training.tiny import AUDIO, TEXT, VOCAB_SIZE, tiny_tokenizer

from qasr.adapters.audio import load_audio
from qasr.adapters.mlx.backend import mx, tree_flatten, tree_unflatten
from qasr.adapters.mlx.checkpoint.reading import load_thinker
from qasr.adapters.mlx.recognizer import MlxRecognizer
from qasr.adapters.mlx.text.prompt import parse_asr_output
from qasr.domain import RecognitionOptions
from qasr.training import trainer as trainer_module
from qasr.training.settings import TrainingConfig
from qasr.training.trainer import Trainer
from qasr.training.vocab import CompactVocabulary, full_vocabulary

EMBEDDING = "thinker.model.embed_tokens.weight"
EMBEDDING_PARAMETER = "model.embed_tokens.weight"
BETA1 = 0.9  # AdamW's, as qasr.training.optimizer makes it
# Attention key biases add q·b to every key's score of a query alike, which softmax ignores: their
# gradient is pure rounding noise, so which BLAS (and which thread split) sums it decides its sign.
NOISE_ONLY = ".self_attn.k_proj.bias"
ADAM_NOISE_STEP = 10.0


def twin_trainers(
    settings: TrainingConfig, monkeypatch: pytest.MonkeyPatch
) -> tuple[Trainer, Trainer]:
    """(compact-vocabulary trainer, full-vocabulary trainer) of the same run."""
    compact = Trainer.from_config(settings)
    monkeypatch.setattr(trainer_module, "compact_model", lambda model, used: None)
    full = Trainer.from_config(attrs.evolve(settings, output=settings.output.parent / "full"))
    assert full.vocabulary is None
    return compact, full


class StepSums:
    """What the two trainers sum in different orders, as float32 drifts (float32_bounds.py).

    Their forward passes differ only in the output layer: the logits' dot products (hidden size)
    and the softmax normaliser (vocabulary), then the loss's mean over the tokens (and CTC's
    frames). A gradient also passes back through every layer down to its weight, each adding
    at most its widest sum (at most 3 per encoder or decoder layer, 6 for the convolution stem,
    projector and head), and then sums over the batch's positions: tokens for the decoder,
    mel bins times frames for the audio encoder.
    """

    def __init__(self, trainer: Trainer) -> None:
        batch = trainer.batch(trainer.train_examples)  # every clip: the longest row, the most mels
        size = trainer.config.batch_size
        length = int(batch.input_ids.shape[1])
        tensors = [value for _, value in tree_flatten(trainer.model.parameters())]
        widest = max(length, *(math.prod(t.shape[1:]) for t in tensors if t.ndim >= 2))
        depth = 3 * (TEXT["num_hidden_layers"] + AUDIO["encoder_layers"]) + 6
        path = VOCAB_SIZE + depth * widest
        self.decoder = drift(path + size * length)
        self.encoder = drift(path + size * max(mel.size for mel in batch.mels))
        self.loss = drift(VOCAB_SIZE + TEXT["hidden_size"] + size * length + 3 * length)
        # The gradient norm's longest sum of squares is the embedding's.
        self.squares = drift(VOCAB_SIZE * TEXT["hidden_size"])

    def gradient(self, name: str) -> float:
        """A gradient's drift, relative to the largest |gradient| of its module."""
        return self.encoder if name.startswith("audio_tower") else self.decoder


def weights(trainer: Trainer) -> dict[str, np.ndarray]:
    """The trainable weights, the compact embedding expanded to every id."""
    with full_vocabulary(trainer.model, trainer.vocabulary) as model:
        return {
            k: np.array(v, dtype=np.float64) for k, v in tree_flatten(model.trainable_parameters())
        }


def first_moments(trainer: Trainer) -> dict[str, np.ndarray]:
    state = tree_flatten(trainer.optimizer.state)
    return {k[: -len(".m")]: np.array(v, dtype=np.float64) for k, v in state if k.endswith(".m")}


def give_weights(source: Trainer, target: Trainer) -> None:
    """`target`, the compact trainer, takes the weights of `source`, its embedding compressed;
    each keeps its own AdamW moments."""
    assert target.vocabulary is not None
    tensors = dict(tree_flatten(source.model.parameters()))
    tensors[EMBEDDING_PARAMETER] = target.vocabulary.compress(tensors[EMBEDDING_PARAMETER])
    target.model.update(tree_unflatten(list(tensors.items())))
    mx.eval(target.model.parameters())


def assert_same_steps(compact: Trainer, full: Trainer, steps: int) -> list[float]:
    """Step both trainers, each step from the full one's weights: their losses, gradient norms
    and new weights agree within what float32 summation order allows, whichever BLAS adds the
    sums (StepSums, float32_bounds.py). Returns the gradient norms."""
    sums = StepSums(full)
    moments: list[dict[str, np.ndarray]] = []
    norms = []
    for _ in range(steps):
        give_weights(full, compact)
        before = weights(full)
        ours, theirs = compact.train_step(), full.train_step()
        assert ours.loss == pytest.approx(theirs.loss, rel=sums.loss)
        moments.append(first_moments(full))
        gradients = gradients_from_moments(moments, BETA1)
        clip_drift = 0.0
        if full.config.max_grad_norm > 0:
            norm = theirs.grad_norm
            clipped_by = min(1.0, full.config.max_grad_norm / (norm + 1e-6))
            allowed_norm = sums.squares * norm + math.sqrt(sum(
                (sums.gradient(name) * np.linalg.norm(g) / clipped_by) ** 2
                for name, g in gradients[-1].items()
            ))  # fmt: skip
            assert abs(ours.grad_norm - norm) <= allowed_norm
            clip_drift = allowed_norm / norm if clipped_by < 1 else 0.0
        drifts = {name: sums.gradient(name) + clip_drift for name in gradients[-1]}
        allowed = adamw_step_drift(gradients, theirs.learning_rate, drifts.__getitem__)
        after, ours_after = weights(full), weights(compact)
        for name, value in after.items():
            slack = allowed[name] + 4 * UNIT_ROUNDOFF * np.abs(value)  # the update's own rounding
            if name.endswith(NOISE_ONLY):
                # Its true gradient is zero, so AdamW turns rounding noise into a step of up to
                # lr * |m| / sqrt(v) per side; with both sides' moments apart, |m| / sqrt(v)
                # reaches (1 - beta1) / sqrt(1 - beta2) ~ 3.2 (plus bias correction).
                # (Its drift bound is no number then: the gradient it divides by is zero.)
                slack = (
                    4 * UNIT_ROUNDOFF * np.abs(value) + 2 * ADAM_NOISE_STEP * theirs.learning_rate
                )
            assert (np.abs(ours_after[name] - value) <= slack).all(), name
        # The bound must stay tight enough to catch a wrong step: most weights move by far more.
        checked = [n for n in after if not n.endswith(NOISE_ONLY)]
        moved = np.concatenate([np.abs(after[n] - before[n]).ravel() for n in checked])
        bound = np.concatenate([allowed[n].ravel() for n in checked])
        assert np.mean(bound < 0.1 * moved) > 0.5
        norms.append(theirs.grad_norm)
    return norms


def test_detect_finds_the_shared_rows() -> None:
    rows = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    rows[[1, 4, 5, 7, 8, 9]] = rows[9]
    vocabulary = CompactVocabulary.detect(mx.array(rows), used={0, 4})
    assert vocabulary is not None
    # Row 4 equals the shared row but the data uses it, so it keeps a row of its own.
    assert vocabulary.active.tolist() == [0, 2, 3, 4, 6]
    assert vocabulary.shared == 5
    expanded = np.array(vocabulary.expand(vocabulary.compress(mx.array(rows))))
    np.testing.assert_array_equal(expanded, rows)


def test_detect_declines_distinct_rows() -> None:
    rows = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    assert CompactVocabulary.detect(mx.array(rows), used={0}) is None


def test_compact_steps_equal_full_vocabulary_steps(
    shared_folder: Path,
    manifests: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = config(shared_folder, manifests, tmp_path / "compact", max_grad_norm=0.05)
    compact, full = twin_trainers(settings, monkeypatch)
    assert compact.vocabulary is not None and compact.vocabulary.rest < VOCAB_SIZE // 2
    norms = assert_same_steps(compact, full, 4)
    assert min(norms) > 0.05  # the clip is active, so the norm's shared-row term matters
    give_weights(full, compact)
    rel = StepSums(full).loss
    assert compact.validation_loss() == pytest.approx(full.validation_loss(), rel=rel)
    exported = load_file(str(compact.export() / "model.safetensors"))
    expected = load_file(str(full.export() / "model.safetensors"))
    assert exported.keys() == expected.keys()
    # Equal weights: the compact export is the full one with the rest row in every unused id.
    unused = np.setdiff1d(np.arange(VOCAB_SIZE), compact.vocabulary.active)
    expected[EMBEDDING][unused] = expected[EMBEDDING][compact.vocabulary.shared_id]
    for name, value in expected.items():
        np.testing.assert_array_equal(exported[name], value, err_msg=name)


def test_validation_decodes_as_the_exported_model_does(
    shared_folder: Path, manifests: tuple[Path, Path], tmp_path: Path
) -> None:
    trainer = Trainer.from_config(config(shared_folder, manifests, tmp_path))
    trainer.train_step()
    hypotheses = trainer.transcribe(trainer.valid_examples)
    assert trainer.vocabulary is not None
    assert trainer.model.model.embed_tokens.weight.shape[0] == trainer.vocabulary.rest + 1
    recognizer = MlxRecognizer(
        load_thinker(trainer.export(tmp_path / "model"), mx.float32), tiny_tokenizer(), source="x"
    )
    samples = [load_audio(example.audio) for example in trainer.valid_examples]
    decoded = recognizer.decode_batch(samples, [RecognitionOptions(max_new_tokens=4)] * 2)
    assert hypotheses == [parse_asr_output(result.raw_text)[1] for result in decoded]


def test_compact_steps_with_ctc_equal_full_vocabulary_steps(
    shared_folder: Path,
    manifests: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = config(shared_folder, manifests, tmp_path / "compact", ctc_weight=0.5)
    compact, full = twin_trainers(settings, monkeypatch)
    assert_same_steps(compact, full, 3)
