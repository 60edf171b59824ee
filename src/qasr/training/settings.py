"""What a `qasr train` run is asked to do, checked where it enters, and the checks that a run
may write into its `--output` or resume the run whose checkpoints are there.

A resumed run must share `RESUME_SETTINGS` with the run that wrote the checkpoint: the schedule
(warm-up, cosine) depends on the number of steps, the data order on (seed, step, batch size),
and the trainable weights on the model and the LoRA settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from qasr.adapters.mlx.backend import mx, parse_dtype
from qasr.errors import InvalidInputError
from qasr.training.masking import Masking
from qasr.training.state import latest_checkpoint

RESUME_SETTINGS = (
    "model",
    "steps",
    "batch_size",
    "learning_rate",
    "warmup_steps",
    "final_lr_ratio",
    "weight_decay",
    "max_grad_norm",
    "lora_rank",
    "lora_alpha",
    "lora_encoder",
    "ctc_weight",
    "dtype",
    "seed",
    "pad_chunks",
    "time_masks",
    "time_mask_width",
    "freq_masks",
    "freq_mask_width",
)


def _positive(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise InvalidInputError(
            f"{attribute.name.replace('_', '-')} must be at least 1, got {value}"
        )


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise InvalidInputError(f"{attribute.name.replace('_', '-')} must be >= 0, got {value}")


@attrs.frozen(kw_only=True)
class TrainingConfig:
    data: Path = attrs.field(converter=Path)
    model: str
    output: Path = attrs.field(converter=Path)
    valid: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    steps: int = attrs.field(default=1000, validator=_positive)
    batch_size: int = attrs.field(default=8, validator=_positive)
    learning_rate: float | None = None  # None: 1e-5 for full fine-tuning, 1e-4 for LoRA
    warmup_steps: int | None = None  # None: 5% of the steps
    final_lr_ratio: float = attrs.field(default=0.1, validator=_not_negative)
    weight_decay: float = attrs.field(default=0.01, validator=_not_negative)
    max_grad_norm: float = attrs.field(default=1.0, validator=_not_negative)  # 0: no clipping
    lora_rank: int = attrs.field(default=0, validator=_not_negative)  # 0: full fine-tuning
    lora_alpha: float = 16.0
    lora_encoder: bool = False
    ctc_weight: float = attrs.field(default=0.0, validator=_not_negative)  # ctc.py; 0: none
    dtype: str = "float32"
    seed: int = 0
    eval_every: int = attrs.field(default=100, validator=_not_negative)  # 0: only at the end
    save_every: int = attrs.field(default=100, validator=_not_negative)  # 0: only at the end
    eval_clips: int = attrs.field(default=16, validator=_not_negative)  # decoded for WER/CER
    max_new_tokens: int | None = None
    resume: bool = False
    feature_cache: Path | None = attrs.field(
        default=None, converter=attrs.converters.optional(Path)
    )  # None: next to the training manifest (features.default_cache_root)
    log_every: int = attrs.field(default=10, validator=_positive)  # steps between progress lines
    # Clips are padded to a multiple of this many encoder chunks (1 s each): fewer shapes to
    # compile, more padding. 1 suits a CPU; a GPU, bound by kernel launches, takes 4 for free.
    pad_chunks: int = attrs.field(default=1, validator=_positive)
    time_limit: float | None = None  # seconds of training, then a checkpoint and a clean stop
    # What mx.compile covers (compiled.CompileMode: "step", "update", "none"; True/False: the
    # whole step or nothing); None: the whole step. On CUDA (MLX 0.32.4) the whole step used to
    # stall in its first compile; since the CTC gradient and the GPU's GELU are a few kernels
    # (ctc.py, activations.py), it compiles (~1-2 min a bucket shape on a fresh H200, reused
    # after) and runs 30 steps/s of 64 clips there (docs/benchmarks/tiny-en-trainer.json).
    compile: str | bool | None = None
    # SpecAugment-style stripes masked in each training clip's features (masking.py); 0: none.
    time_masks: int = attrs.field(default=0, validator=_not_negative)
    time_mask_width: int = attrs.field(default=30, validator=_not_negative)
    freq_masks: int = attrs.field(default=0, validator=_not_negative)
    freq_mask_width: int = attrs.field(default=20, validator=_not_negative)

    @property
    def masking(self) -> Masking:
        return Masking(self.time_masks, self.time_mask_width, self.freq_masks, self.freq_mask_width)

    @property
    def peak_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 1e-4 if self.lora_rank else 1e-5

    @property
    def warmup(self) -> int:
        if self.warmup_steps is not None:
            return min(self.warmup_steps, self.steps)
        return max(1, self.steps // 20)

    def settings(self) -> dict[str, object]:
        values = attrs.asdict(self)
        return {key: values[key] for key in RESUME_SETTINGS}


def check_output(config: TrainingConfig, base_folder: Path) -> None:
    """Refuse an `--output` that would overwrite a file or the base model itself."""
    if config.output.exists() and not config.output.is_dir():
        raise InvalidInputError(f"--output {str(config.output)!r} is a file; pass a folder")
    if config.output.resolve() == base_folder.resolve():
        raise InvalidInputError("--output is the base model's folder; choose another folder")


def training_dtype(config: TrainingConfig) -> mx.Dtype:
    dtype = parse_dtype(config.dtype) or mx.float32
    if dtype == mx.float16:
        # float16 gradients overflow without loss scaling, which this loop does not do.
        raise InvalidInputError("train in float32 or bfloat16, not float16")
    return dtype


def checkpoint_to_resume(config: TrainingConfig) -> Path | None:
    """The checkpoint `--resume` continues from; None for a new run. A new run into a folder
    that holds an earlier run's checkpoints is refused, so they are never mixed."""
    latest = latest_checkpoint(config.output)
    if config.resume:
        if latest is None:
            raise InvalidInputError(
                f"nothing to resume: {config.output}/checkpoints holds no checkpoint; "
                "drop --resume to start a new run"
            )
        return latest
    if latest is not None:
        raise InvalidInputError(
            f"{config.output} holds checkpoints of an earlier run; pass --resume to "
            "continue it, or choose another --output"
        )
    return None


def check_same_settings(config: TrainingConfig, folder: Path, saved: dict[str, object]) -> None:
    """Refuse to resume the checkpoint `folder`, written with `saved`, under other settings.
    A setting the checkpoint does not record (an older one) is not compared."""
    changed = sorted(
        key for key, value in config.settings().items() if key in saved and saved[key] != value
    )
    if changed:
        raise InvalidInputError(
            f"{folder} was written with other settings ({', '.join(changed)}); resume "
            "with the same options, or start a new run in another --output"
        )


__all__ = [
    "RESUME_SETTINGS",
    "TrainingConfig",
    "check_output",
    "check_same_settings",
    "checkpoint_to_resume",
    "training_dtype",
]
