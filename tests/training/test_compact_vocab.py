"""The compact vocabulary: training on the used rows plus one shared row equals training on all."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file
from tests.training.test_trainer import config
from tests.training.tiny import VOCAB_SIZE, tiny_tokenizer

from qasr.adapters.audio import load_audio
from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.thinker import load_thinker
from qasr.adapters.mlx.recognizer import MlxRecognizer
from qasr.adapters.mlx.text.prompt import parse_asr_output
from qasr.domain import RecognitionOptions
from qasr.training import trainer as trainer_module
from qasr.training.manifest import read_manifest
from qasr.training.scratch import share_unused_rows
from qasr.training.trainer import Trainer, TrainingConfig
from qasr.training.vocab import CompactVocabulary, used_token_ids

EMBEDDING = "thinker.model.embed_tokens.weight"


@pytest.fixture(scope="module")
def shared_folder(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The tiny checkpoint with every row its data does not use set to one shared row."""
    folder = tmp_path_factory.mktemp("shared")
    for path in tiny_folder.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    examples = [*read_manifest(manifests[0]), *read_manifest(manifests[1])]
    used = used_token_ids(tiny_tokenizer(), examples)
    tensors = load_file(str(folder / "model.safetensors"))
    embedding = mx.array(tensors[EMBEDDING])

    class Holder:
        weight = embedding

    share_unused_rows(Holder, used)  # type: ignore[arg-type]
    tensors[EMBEDDING] = np.array(Holder.weight)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


def twin_trainers(
    settings: TrainingConfig, monkeypatch: pytest.MonkeyPatch
) -> tuple[Trainer, Trainer]:
    """(compact-vocabulary trainer, full-vocabulary trainer) of the same run."""
    compact = Trainer.from_config(settings)
    monkeypatch.setattr(trainer_module, "compact_model", lambda model, used: None)
    full = Trainer.from_config(attrs.evolve(settings, output=settings.output.parent / "full"))
    assert full.vocabulary is None
    return compact, full


def assert_same_steps(compact: Trainer, full: Trainer, steps: int) -> list[float]:
    """Step both trainers; their losses and gradient norms agree. Returns the norms."""
    norms = []
    for _ in range(steps):
        ours, theirs = compact.train_step(), full.train_step()
        assert ours.loss == pytest.approx(theirs.loss, rel=1e-5)
        assert ours.grad_norm == pytest.approx(theirs.grad_norm, rel=1e-5)
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
    assert compact.validation_loss() == pytest.approx(full.validation_loss(), rel=1e-5)
    exported = load_file(str(compact.export() / "model.safetensors"))
    expected = load_file(str(full.export() / "model.safetensors"))
    assert exported.keys() == expected.keys()
    for name, value in expected.items():
        # Four AdamW steps of lr 3e-3 move weights by ~1e-2; float32 rounding differs by ~1e-5.
        np.testing.assert_allclose(exported[name], value, rtol=1e-4, atol=5e-5, err_msg=name)
    rows = exported[EMBEDDING]
    unused = np.setdiff1d(np.arange(VOCAB_SIZE), compact.vocabulary.active)
    assert (rows[unused] == rows[unused[0]]).all()  # still one shared row, in every unused id


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
