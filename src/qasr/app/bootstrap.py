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
from qasr.errors import InvalidInputError, ModelNotFoundError
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
    draft_model: str | None = None,
    num_draft_tokens: int | None = None,
) -> TranscriptionService:
    """A ready service; anything not passed is built with its default adapter.

    `model` (and `forced_aligner`, loaded only for `timestamps`) is a Hugging Face repo id or a
    local checkpoint folder. `timestamps` / `diarize` say the service must be able to time
    words / tell speakers apart, so a missing component fails here, before the recognizer
    loads, rather than after the first file. `batch_size` bounds how many chunks decode
    together (default: the recognizer's own). `draft_model` makes the recognizer decode
    speculatively (same transcripts; ADR 0021 says when it is faster).
    """
    _locate_checkpoints(
        (model, "--model") if recognizer is None else None,
        (draft_model, "--draft-model") if recognizer is None and draft_model else None,
        (forced_aligner, "--forced-aligner") if timestamps and aligner is None else None,
    )
    if timestamps and aligner is None:
        aligner = build_aligner(forced_aligner, dtype=dtype)
    if diarize and diarizer is None:
        diarizer = build_diarizer()
    if audio_source is None:
        audio_source = build_audio_source()
    if recognizer is None:
        recognizer = build_recognizer(
            model,
            dtype=dtype,
            batch_size=batch_size,
            draft_model=draft_model,
            num_draft_tokens=num_draft_tokens,
        )
    return TranscriptionService(
        audio_source,
        recognizer,
        aligner,
        diarizer,
        max_chunk_seconds=max_chunk_seconds,
        batch_size=batch_size,
    )


def model_at_hand(name: str) -> bool:
    """Whether the checkpoint `name` is here without the network: a folder, a bundled model, or
    in the local Hugging Face cache."""
    from qasr.adapters.mlx.checkpoint.files import locate_model_folder

    try:
        return locate_model_folder(name) is not None
    except ModelNotFoundError:
        return False


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
    model: str = DEFAULT_MODEL,
    *,
    dtype: str | None = None,
    batch_size: int | None = None,
    draft_model: str | None = None,
    num_draft_tokens: int | None = None,
) -> Recognizer:
    from qasr.adapters.mlx.prefix_recognizer import PrefixMlxRecognizer
    from qasr.adapters.mlx.recognizer import DEFAULT_DRAFT_TOKENS

    # Decodes as MlxRecognizer does; it can also continue a forced prefix (streaming, ADR 0020).
    # No batch size: the recognizer picks one for its device (adapters/mlx/batch_size.py).
    recognizer = PrefixMlxRecognizer.from_pretrained(model, dtype=dtype, batch_size=batch_size)
    if draft_model is None:
        if num_draft_tokens is not None:
            raise InvalidInputError("num_draft_tokens needs a draft model (--draft-model)")
        return recognizer
    draft = PrefixMlxRecognizer.from_pretrained(draft_model, dtype=dtype)
    return recognizer.with_draft(draft, num_draft_tokens or DEFAULT_DRAFT_TOKENS)


def build_stream_resampler(sample_rate: int) -> Any:
    """Turns live pieces at `sample_rate` into 16 kHz pieces (streaming, ADR 0020)."""
    from qasr.adapters.audio.stream_resampler import StreamResampler

    return StreamResampler(sample_rate)


def build_file_stream(path: str, *, realtime: bool = False, piece_seconds: float = 0.1) -> Any:
    """A recording played back as a live `qasr.ports.AudioStream`."""
    from qasr.adapters.audio.file_stream import FileStream

    clip = build_audio_source().load(path)
    return FileStream(clip, realtime=realtime, piece_seconds=piece_seconds)


def build_microphone_stream(**settings: Any) -> Any:
    """The microphone as a `qasr.ports.AudioStream` (the `mic` extra)."""
    from qasr.adapters.audio.microphone_stream import MicrophoneStream

    return MicrophoneStream(**settings)


def list_input_devices() -> list[tuple[int, str, int]]:
    from qasr.adapters.audio.microphone_stream import input_devices

    return input_devices()


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


DIARIZERS = ("builtin", "pyannote")


def build_diarizer(
    kind: str = "builtin",
    *,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    pipeline: str | None = None,
    device: str | None = None,
) -> Diarizer:
    """A diarizer: `builtin` (MLX, offline, no token; its networks load on first use) or
    `pyannote` (the pipeline `pipeline`, a hub id or folder; extra `diarize`). Speaker counts
    bound the clustering; impossible bounds raise `InvalidInputError` here."""
    if kind == "builtin":
        from qasr.adapters.diarization.builtin import BuiltinDiarizer

        return BuiltinDiarizer(
            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers
        )
    if kind == "pyannote":
        from qasr.adapters.diarization.pyannote import DEFAULT_PIPELINE, PyannoteDiarizer

        return PyannoteDiarizer(
            pipeline or DEFAULT_PIPELINE,
            num_speakers=num_speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            device=device,
        )
    raise InvalidInputError(f"unknown diarizer {kind!r}; choose one of: {', '.join(DIARIZERS)}")


def write_rttm(turns: Any, name: str, out: Any) -> None:
    """`qasr diarize`: speaker turns as RTTM lines for the recording `name`."""
    from qasr.adapters.writers.rttm import write_rttm as write

    write(turns, name, out)


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


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo, else the platform's word), for the machine
    that benchmark JSONs name."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gpu_names() -> list[str]:
    """The NVIDIA GPUs that `nvidia-smi -L` lists, one line each (none without it), for the
    machine that benchmark JSONs name."""
    import shutil
    import subprocess

    if not shutil.which("nvidia-smi"):
        return []
    listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    return [line.strip() for line in listed.stdout.splitlines() if line.startswith("GPU ")]


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
    # A training step is large matrix products, which OpenBLAS does ~12% faster than MKL on
    # the CPU where inference's matrix-vector products prefer MKL (ADR 0006): the BLAS is
    # chosen once, when MLX is first imported, so this counts only in a process that trains
    # first (`qasr train`); QASR_BLAS set by the user wins.
    os.environ.setdefault("QASR_BLAS", "openblas")
    from qasr.training.settings import TrainingConfig
    from qasr.training.trainer import train

    return train(TrainingConfig(**settings), on_progress=on_progress)


__all__ = [
    "DEFAULT_ALIGNER",
    "DEFAULT_MODEL",
    "build_aligner",
    "build_audio_source",
    "build_diarizer",
    "build_recognizer",
    "build_service",
    "check_output_format",
    "convert_layout",
    "convert_model",
    "mlx_backend_summary",
    "train_model",
    "write_outputs",
]
