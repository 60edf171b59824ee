"""The composition root: the one place that picks concrete adapters (docs/adr/0001).

Adapters are imported inside the functions that build them, so `import qasr.app` stays free of
MLX, ffmpeg and the hub, and a caller that passes its own component never loads the default one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from qasr.adapters.mlx.checkpoint.files import DEFAULT_ALIGNER, DEFAULT_MODEL
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import Transcript
from qasr.errors import FeatureUnavailableError, InvalidInputError, ModelNotFoundError
from qasr.ports import Aligner, AudioSource, Diarizer, Recognizer


def build_service(
    model: str = DEFAULT_MODEL,
    *,
    dtype: str | None = None,
    timestamps: bool = False,
    diarize: bool = False,
    recognizer: Recognizer | None = None,
    audio_source: AudioSource | None = None,
    aligner: Aligner | None = None,
    diarizer: Diarizer | None = None,
    max_chunk_seconds: float = 30.0,
    forced_aligner: str = DEFAULT_ALIGNER,
    batch_size: int | None = None,
) -> TranscriptionService:
    """A ready service; anything not passed is built with its default adapter.

    `model` (and `forced_aligner`, loaded only for `timestamps`) is a Hugging Face repo id or a
    local checkpoint folder. `timestamps` / `diarize` say the service must be able to time
    words / tell speakers apart, so a missing component fails here, before the recognizer
    loads, rather than after the first file. `batch_size` bounds how many chunks decode
    together (default: the recognizer's own).
    """
    _locate_checkpoints(
        (model, "--model") if recognizer is None else None,
        (forced_aligner, "--forced-aligner") if timestamps and aligner is None else None,
    )
    if timestamps and aligner is None:
        aligner = build_aligner(forced_aligner, dtype=dtype)
    if diarize and diarizer is None:
        raise FeatureUnavailableError(
            "speaker diarization is not available in this version of qasr; pass your own "
            "qasr.ports.Diarizer to build_service(diarizer=...)"
        )
    if audio_source is None:
        audio_source = build_audio_source()
    if recognizer is None:
        recognizer = build_recognizer(model, dtype=dtype, batch_size=batch_size)
    return TranscriptionService(
        audio_source,
        recognizer,
        aligner,
        diarizer,
        max_chunk_seconds=max_chunk_seconds,
        batch_size=batch_size,
    )


def _locate_checkpoints(*wanted: tuple[str, str] | None) -> None:
    """One error naming every (name, flag) checkpoint that cannot be found without the network,
    before either model loads: a wrong --model and a missing aligner are mended at once."""
    from qasr.adapters.mlx.checkpoint.files import locate_model_folder

    problems = []
    for name, flag in filter(None, wanted):
        try:
            locate_model_folder(name, flag=flag)
        except ModelNotFoundError as problem:
            whose = "the forced aligner for word timestamps: " if flag == "--forced-aligner" else ""
            problems.append(f"{whose}{problem}")
    if len(problems) > 1:
        raise ModelNotFoundError("; and ".join(problem.rstrip(".") for problem in problems))
    if problems:
        raise ModelNotFoundError(problems[0])


def build_audio_source() -> AudioSource:
    from qasr.adapters.audio import DefaultAudioSource

    return DefaultAudioSource()


def build_recognizer(
    model: str = DEFAULT_MODEL, *, dtype: str | None = None, batch_size: int | None = None
) -> Recognizer:
    from qasr.adapters.mlx.recognizer import DEFAULT_BATCH_SIZE, MlxRecognizer

    return MlxRecognizer.from_pretrained(
        model, dtype=dtype, batch_size=batch_size or DEFAULT_BATCH_SIZE
    )


def convert_model(
    model: str,
    output: str | os.PathLike[str],
    *,
    bits: int | None = None,
    group_size: int = 64,
    encoder_bits: int | None = None,
    dtype: str | None = None,
    force: bool = False,
) -> Any:
    """`qasr convert`: write a quantized and/or re-typed MLX copy of `model` to `output`
    (see qasr.adapters.mlx.checkpoint.convert); returns its `Conversion` summary."""
    from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint
    from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan

    if bits is None and encoder_bits is not None:
        raise InvalidInputError("--encoder-bits needs --quantize (the decoder's bit width)")
    plan = None
    if bits is not None:
        plan = QuantizationPlan(
            bits=bits,
            group_size=group_size,
            encoder_bits=bits if encoder_bits is None else encoder_bits,
        )
    return convert_checkpoint(model, output, quantization=plan, dtype=dtype, force=force)


def build_aligner(model: str = DEFAULT_ALIGNER, *, dtype: str | None = None) -> Aligner:
    """The Qwen3-ForcedAligner checkpoint `model` (hub id or folder) as an MLX aligner."""
    from qasr.adapters.mlx.aligner import MlxAligner

    return MlxAligner.from_pretrained(model, dtype=dtype)


def check_output_format(name: str) -> None:
    """Raise `OutputFormatError` for a format no writer provides ("all" is every writer)."""
    from qasr.adapters.writers import writers_for

    writers_for(name)


def output_extensions(name: str) -> tuple[str, ...]:
    """The file extensions the format (or formats, or "all") writes: `(".txt", ".json")`."""
    from qasr.adapters.writers import writers_for

    return tuple(writer.extension for writer in writers_for(name))


def build_ray_pool(address: str | None = None, **sizes: Any) -> Any:
    """`qasr batch --ray`: a Ray actor pool on the cluster at `address` (None: this machine);
    `sizes` are RayActorPool's `actors`, `cpus_per_actor`, `gpus_per_actor`."""
    from qasr.adapters.ray_runner import RayActorPool

    return RayActorPool(address, **sizes)


def write_outputs(
    transcript: Transcript, output_dir: str | os.PathLike[str], stem: str, output_format: str
) -> list[Path]:
    """Write `transcript` as `<output_dir>/<stem><extension>` for the format (or all formats)."""
    from qasr.adapters.writers import write_files

    return write_files(transcript, Path(output_dir), stem, output_format)


def render_transcript(transcript: Transcript, output_format: str) -> str:
    """`transcript` in one writer format ("srt"), as `qasr transcribe -f` would write it."""
    from qasr.adapters.writers import get_writer, render

    return render(get_writer(output_format), transcript)


def transcript_to_json(transcript: Transcript) -> str:
    """The `qasr.transcript/1` JSON of `transcript`; `transcript_from_json` reads it back."""
    from qasr.adapters.serialization import dumps

    return dumps(transcript)


def transcript_from_json(text: str) -> Transcript:
    from qasr.adapters.serialization import loads

    return loads(text)


def build_job_store(path: str | os.PathLike[str] | None = None) -> Any:
    """`qasr serve`'s job store: SQLite in the file `path`, or in memory for None."""
    from qasr.adapters.jobs import MemoryJobStore, SqliteJobStore

    return MemoryJobStore() if path is None else SqliteJobStore(path)


def mlx_backend_summary() -> str:
    """MLX's default device and the BLAS it preloaded, for `qasr --doctor`; raises if MLX fails."""
    from qasr.adapters.mlx.backend import BLAS_PATH, mx

    if sys.platform == "darwin":
        blas = "Accelerate"
    else:
        blas = BLAS_PATH or "none preloaded (reference BLAS: slow float32 matmul on CPU)"
    return f"mlx {version('mlx')}, default device {mx.default_device()}, BLAS {blas}"


def cpu_blas() -> tuple[str | None, bool]:
    """(the BLAS preloaded for MLX's CPU matmuls, None for MLX's reference one; whether models
    run on the CPU), for `qasr --doctor`; raises if MLX fails to load."""
    from qasr.adapters.mlx.backend import BLAS_PATH, mx

    return BLAS_PATH, mx.default_device() == mx.cpu


def hub_command() -> str:
    """The installed Hugging Face command line tool (`hf`, or the older `huggingface-cli`)."""
    from qasr.adapters.mlx.checkpoint.files import hub_command as installed

    return installed()


def convert_layout(model: str, output: str | os.PathLike[str], layout: str) -> Path:
    """The checkpoint `model` (hub id or folder) rewritten in `layout` ("original" or "hf")."""
    from qasr.adapters.mlx.checkpoint.files import resolve_model_folder
    from qasr.adapters.mlx.checkpoint.layout_convert import convert_layout as rewrite

    return rewrite(resolve_model_folder(model), output, layout)


def train_model(*, on_progress: Callable[[str], None] | None = None, **settings: Any) -> Path:
    """`qasr train`: the trainer built from `settings` (the fields of
    `qasr.training.settings.TrainingConfig`), run to the end; returns the exported folder."""
    from qasr.training.settings import TrainingConfig
    from qasr.training.trainer import train

    return train(TrainingConfig(**settings), on_progress=on_progress)


__all__ = [
    "DEFAULT_ALIGNER",
    "DEFAULT_MODEL",
    "build_aligner",
    "build_audio_source",
    "build_recognizer",
    "build_service",
    "check_output_format",
    "convert_layout",
    "convert_model",
    "mlx_backend_summary",
    "train_model",
    "write_outputs",
]
