"""The training loop of `qasr train`: full or LoRA fine-tuning of a Qwen3-ASR thinker in MLX.

Each step takes the next `batch_size` examples of a seeded, length-bucketed shuffle (padded.py),
computes the mean cross-entropy of their answer tokens, clips the gradients' global norm and
applies AdamW with warm-up and cosine decay. The step is one compiled call per bucket shape over
features cached once per clip (compiled.py, features.py), and the loop reads nothing back from
the device between log lines, so the host stays ahead of the device. Every `eval_every` steps
the validation manifest is scored (loss, and WER/CER of greedy transcripts of its first clips);
every `save_every` steps a resumable checkpoint is written; at the end the model is exported
into `output` as an original-layout checkpoint that qasr and `qwen-asr` load. The run's settings
and their checks are in settings.py, the scoring in evaluation.py, the printed lines in progress.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qasr.adapters.audio import load_audio
from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.checkpoint.files import resolve_model_folder
from qasr.adapters.mlx.checkpoint.reading import LoadedThinker, load_thinker
from qasr.adapters.mlx.text.tokenizer import Tokenizer
from qasr.domain import RecognitionOptions
from qasr.errors import CheckpointError, InvalidInputError
from qasr.training.batches import Batch, make_batch
from qasr.training.compiled import CompiledSteps
from qasr.training.evaluation import (
    Evaluation,
    error_rates,
    greedy_transcripts,
    validation_loss,
)
from qasr.training.export import export_checkpoint
from qasr.training.features import FeatureCache, default_cache_root
from qasr.training.lora import LoraSettings, apply_lora
from qasr.training.manifest import Example, read_manifest
from qasr.training.optimizer import make_optimizer, warmup_cosine
from qasr.training.padded import ExampleTables, bucketed_step_indices, feature_rows
from qasr.training.progress import ProgressSink, StepReport, evaluation_line, progress_line
from qasr.training.settings import (
    TrainingConfig,
    check_output,
    check_same_settings,
    checkpoint_to_resume,
    training_dtype,
)
from qasr.training.state import TrainerState, load_checkpoint, save_checkpoint
from qasr.training.vocab import compact_model, full_vocabulary, used_token_ids

_PAD_ID = 0  # right padding's token id: never attended to nor learnt
SampleLoader = Callable[[Example], npt.NDArray[np.float32]]


def _load_samples(example: Example) -> npt.NDArray[np.float32]:
    return load_audio(example.audio)


class Trainer:
    def __init__(
        self,
        config: TrainingConfig,
        thinker: LoadedThinker,
        tokenizer: Tokenizer,
        train: Sequence[Example],
        valid: Sequence[Example] = (),
        *,
        load_samples: SampleLoader = _load_samples,
        on_progress: ProgressSink | None = None,
    ) -> None:
        if thinker.config.is_aligner:
            raise CheckpointError(
                f"{thinker.folder} is a forced aligner; qasr train fine-tunes Qwen3-ASR models"
            )
        if "quantization" in thinker.config.raw:
            raise CheckpointError(
                f"{thinker.folder} is quantized; train from the float checkpoint it was made from"
            )
        if not train:
            raise InvalidInputError("no training examples")
        self.config = config
        self.thinker = thinker
        self.model = thinker.model
        self.tokenizer = tokenizer
        self.train_examples = tuple(train)
        self.valid_examples = tuple(valid)
        self.load_samples = load_samples
        self.on_progress = on_progress or (lambda line: None)
        self.step = 0
        mx.random.seed(config.seed)
        if config.lora_rank:
            settings = LoraSettings(config.lora_rank, config.lora_alpha, config.lora_encoder)
            apply_lora(self.model, settings, config.seed)
        else:
            self.model.unfreeze()
        self.model.train()
        used = used_token_ids(tokenizer, (*self.train_examples, *self.valid_examples))
        self.vocabulary = compact_model(self.model, used | {_PAD_ID})
        self.schedule = warmup_cosine(
            config.peak_learning_rate, config.warmup, config.steps, config.final_lr_ratio
        )
        self.optimizer = make_optimizer(self.schedule, config.weight_decay)
        self._steps: CompiledSteps | None = None  # built at the first step (after a resume)

    @classmethod
    def from_config(
        cls, config: TrainingConfig, *, on_progress: ProgressSink | None = None
    ) -> Trainer:
        folder = resolve_model_folder(config.model)
        check_output(config, folder)
        dtype = training_dtype(config)
        train = read_manifest(config.data)
        valid = read_manifest(config.valid) if config.valid is not None else ()
        trainer = cls(
            config,
            load_thinker(folder, dtype),
            Tokenizer.from_folder(folder),
            train,
            valid,
            on_progress=on_progress,
        )
        checkpoint = checkpoint_to_resume(config)
        if checkpoint is not None:
            trainer.resume(checkpoint)
        return trainer

    # -- steps -----------------------------------------------------------------------------

    def batch(self, examples: Sequence[Example]) -> Batch:
        audio = self.model.audio_tower.config
        batch = make_batch(
            examples,
            [self.load_samples(example) for example in examples],
            self.tokenizer,
            audio_token_id=self.thinker.config.audio_token_id,
            n_window=audio.n_window,
            n_mels=audio.num_mel_bins,
            pad_id=_PAD_ID,
        )
        return batch if self.vocabulary is None else self.vocabulary.compact_batch(batch)

    def features(self) -> FeatureCache:
        """The training clips' log-mels: the on-disk cache, or computed here from a custom
        `load_samples` (tests)."""
        n_mels = self.model.audio_tower.config.num_mel_bins
        if self.load_samples is not _load_samples:
            from qasr.adapters.mlx.model.mel import log_mel_spectrogram
            from qasr.training.batches import clip_samples

            mels = [
                np.array(log_mel_spectrogram(clip_samples(self.load_samples(example)), n_mels))
                for example in self.train_examples
            ]
            return FeatureCache.in_memory(mels)
        root = self.config.feature_cache or default_cache_root(self.config.data)
        return FeatureCache.build(root, self.train_examples, n_mels, on_progress=self.on_progress)

    @property
    def compiled_steps(self) -> CompiledSteps:
        if self._steps is None:
            features = self.features()
            tables = ExampleTables.encode(
                self.train_examples,
                features,
                self.tokenizer,
                audio_token_id=self.thinker.config.audio_token_id,
                n_window=self.model.audio_tower.config.n_window,
                pad_id=_PAD_ID,
                id_map=None if self.vocabulary is None else self.vocabulary.lookup,
                pad_chunks=self.config.pad_chunks,
            )
            self._steps = CompiledSteps(
                self.model,
                self.optimizer,
                tables,
                feature_rows(features),
                vocabulary=self.vocabulary,
                ctc_weight=self.config.ctc_weight,
                max_grad_norm=self.config.max_grad_norm,
                masking=self.config.masking,
                seed=self.config.seed,
                compile=(
                    "step" if self.config.compile is None else self.config.compile  # type: ignore[arg-type]
                ),
            )
        return self._steps

    def step_examples(self, step: int | None = None) -> npt.NDArray[np.int64]:
        """Indices into the training examples of step `step` (default: the next one)."""
        return bucketed_step_indices(
            self.compiled_steps.tables,
            self.config.batch_size,
            self.config.seed,
            self.step if step is None else step,
        )

    def next_batch(self) -> Batch:
        """The next step's examples as an eager batch (loss.batch_loss's input)."""
        return self.batch([self.train_examples[index] for index in self.step_examples()])

    def _queue_step(
        self, indices: npt.NDArray[np.int64] | None = None
    ) -> tuple[mx.array, mx.array, int]:
        """Queue the next step (on `indices`, its examples, when already known) on the device:
        (loss, gradient norm) unevaluated, tokens learnt. The only randomness in a step, the
        feature masks (masking.py), is a function of (seed, step) like the data order, so a
        resumed run repeats the same steps."""
        if indices is None:
            indices = self.step_examples()
        loss, grad_norm = self.compiled_steps(indices, self.step)
        self.step += 1
        return loss, grad_norm, int(self.compiled_steps.tables.answer_length[indices].sum())

    def learning_rate(self, step: int) -> float:
        """The learning rate step `step` (1-based) was taken with."""
        return float(self.schedule(mx.array(step - 1)).item())

    def train_step(self) -> StepReport:
        loss, grad_norm, tokens = self._queue_step()
        return StepReport(
            step=self.step,
            loss=loss.item(),
            tokens=tokens,
            grad_norm=float(grad_norm.item()),
            learning_rate=self.learning_rate(self.step),
        )

    # -- validation ------------------------------------------------------------------------

    def validation_loss(self) -> float:
        size = self.config.batch_size
        batches = (
            self.batch(self.valid_examples[first : first + size])
            for first in range(0, len(self.valid_examples), size)
        )
        return validation_loss(self.model, batches)

    def transcribe(self, examples: Sequence[Example]) -> list[str]:
        """Greedy transcripts, decoded as the recognizer decodes (no language forced)."""
        return greedy_transcripts(
            self.thinker,
            self.vocabulary,
            self.tokenizer,
            [self.load_samples(example) for example in examples],
            [
                RecognitionOptions(
                    context=example.context, max_new_tokens=self.config.max_new_tokens
                )
                for example in examples
            ],
            source=self.config.model,
            batch_size=self.config.batch_size,
        )

    def evaluate(self) -> Evaluation:
        if not self.valid_examples:
            raise InvalidInputError("no validation examples: pass --valid")
        loss = self.validation_loss()
        decoded = self.valid_examples[: self.config.eval_clips]
        hypotheses = self.transcribe(decoded) if decoded else []
        wer, cer = error_rates([example.text for example in decoded], hypotheses)
        return Evaluation(step=self.step, loss=loss, wer=wer, cer=cer)

    # -- checkpoints -----------------------------------------------------------------------

    def save(self) -> Path:
        vocabulary = None if self.vocabulary is None else self.vocabulary.record()
        state = TrainerState(self.step, self.config.settings(), vocabulary)
        return save_checkpoint(self.config.output, self.model, self.optimizer, state)

    def resume(self, folder: Path) -> None:
        state = load_checkpoint(folder, self.model, self.optimizer)
        check_same_settings(self.config, folder, state.settings)
        self.step = state.step

    def export(self, output: Path | None = None) -> Path:
        with full_vocabulary(self.model, self.vocabulary) as model:
            return export_checkpoint(
                model,
                self.thinker.config,
                self.thinker.folder,
                output or self.config.output,
                dtype=self.thinker.dtype,
            )

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> Path:
        """Train to `config.steps`, validating and saving on the way; export; return the folder.
        Past `config.time_limit` seconds, save a checkpoint and return its folder instead."""
        config = self.config
        self.compiled_steps  # noqa: B018 (features and tables first, so the timing is the steps')
        started, first, tokens = time.monotonic(), self.step, 0
        while self.step < config.steps:
            indices = self.step_examples()
            self._announce_compiling(indices)
            loss, grad_norm, step_tokens = self._queue_step(indices)
            tokens += step_tokens
            last = self.step == config.steps
            if last or _due(self.step, config.log_every):
                # The one read-back between log lines: the device may run ahead until here.
                report = StepReport(
                    step=self.step,
                    loss=loss.item(),
                    tokens=tokens // (self.step - first),
                    grad_norm=float(grad_norm.item()),
                    learning_rate=self.learning_rate(self.step),
                )
                elapsed = time.monotonic() - started
                self.on_progress(progress_line(report, config.steps, elapsed, report.step - first))
            if self.valid_examples and (last or _due(self.step, config.eval_every)):
                self.on_progress(evaluation_line(self.evaluate()))
            if last or _due(self.step, config.save_every):
                self.save()
            limit = config.time_limit
            if limit is not None and not last and time.monotonic() - started > limit:
                folder = self.save()
                self.on_progress(f"stopped at step {self.step} (--time-limit); go on with --resume")
                return folder
        folder = self.export()
        self.on_progress(f"exported the trained model to {folder}")
        return folder

    def _announce_compiling(self, indices: npt.NDArray[np.int64]) -> None:
        # A new bucket shape is a new compiled step, and its first run waits for the compiler:
        # seconds on a CPU, a minute or two on a fresh CUDA machine (its kernels are then reused).
        steps = self.compiled_steps
        if steps.compile != "none" and not steps.is_compiled(indices):
            chunks = steps.tables.batch_shape(indices).chunks
            self.on_progress(
                f"compiling the step for batch shape {steps.shapes + 1} (clips padded to "
                f"{chunks} s): the first time on a GPU takes a minute or two"
            )


def _due(step: int, every: int) -> bool:
    return every > 0 and step % every == 0


def train(config: TrainingConfig, *, on_progress: ProgressSink | None = None) -> Path:
    """`qasr train`: load, train, export; the folder of the exported model."""
    return Trainer.from_config(config, on_progress=on_progress).run()


__all__ = ["SampleLoader", "Trainer", "train"]
