"""What users of mlx-qwen3-asr (the project qasr grew from) pass and read, mapped onto qasr.

`qasr.transcribe`, `qasr.Session` and friends take that project's keyword arguments so that
switching is one changed import (README, "Python API", has the table). Its arguments for work
qasr has not done yet raise `FeatureUnavailableError` naming the argument, rather than being
silently ignored; passing their default values asks for nothing and is accepted.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from qasr.domain import ProgressCallback, ProgressEvent
from qasr.errors import FeatureUnavailableError, InvalidInputError

# name: (mlx-qwen3-asr's default, the work that will bring it)
_LATER_WORK: dict[str, tuple[object, str]] = {
    "diarization_device": ("auto", "tuning the built-in speaker diarization"),
}

# Speculative decoding's arguments (`Session` hands them to the recognizer) and the default
# number of proposals, mlx-qwen3-asr's.
DRAFT_ARGUMENTS = ("draft_model", "num_draft_tokens")
SEED_DRAFT_TOKENS = 4

# qasr's model_info key -> the key mlx-qwen3-asr's `Session.model_info` has for the same fact.
_SEED_INFO_KEYS = {
    "model": "model_id",
    "path": "resolved_model_path",
    "languages": "support_languages",
}


# Speaker counts for the built-in diarizer, by qasr's name or mlx-qwen3-asr's.
_SPEAKER_BOUNDS = {
    "num_speakers": "num_speakers",
    "min_speakers": "min_speakers",
    "max_speakers": "max_speakers",
    "diarization_num_speakers": "num_speakers",
    "diarization_min_speakers": "min_speakers",
    "diarization_max_speakers": "max_speakers",
}


def pop_speaker_bounds(arguments: dict[str, Any]) -> dict[str, int]:
    """Take the speaker counts out of `arguments` (None values dropped), under qasr's names."""
    bounds: dict[str, int] = {}
    for name, ours in _SPEAKER_BOUNDS.items():
        value = arguments.pop(name, None)
        if value is None:
            continue
        if ours in bounds and bounds[ours] != value:
            raise InvalidInputError(f"{ours} is given twice, as {bounds[ours]} and {value}")
        bounds[ours] = value
    return bounds


def pop_draft_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Take `draft_model` / `num_draft_tokens` out of a call's extra keyword arguments."""
    return {name: arguments.pop(name) for name in DRAFT_ARGUMENTS if name in arguments}


def refuse_later_work(arguments: Mapping[str, Any], caller: str) -> None:
    """Raise for an mlx-qwen3-asr argument qasr cannot honour yet, TypeError for an unknown one."""
    for name, value in arguments.items():
        if name not in _LATER_WORK:
            raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
        default, feature = _LATER_WORK[name]
        if not (value is default or (type(value) is type(default) and value == default)):
            raise FeatureUnavailableError(
                f"{name}={value!r}: {feature} is not in qasr yet; leave {name} out"
            )


def not_yet(feature: str, hint: str = "") -> FeatureUnavailableError:
    return FeatureUnavailableError(f"{feature} is not in qasr yet" + (f"; {hint}" if hint else ""))


def dtype_name(dtype: object) -> str | None:
    """A dtype name for the loaders: qasr takes "bfloat16", mlx-qwen3-asr `mx.bfloat16`."""
    if dtype is None or isinstance(dtype, str):
        return dtype
    # str(mx.bfloat16) is "mlx.core.bfloat16"; reading the name keeps MLX out of this module.
    return str(dtype).rsplit(".", 1)[-1]


class ModelInfo(dict[str, Any]):
    """`Session.model_info`: qasr calls it (`session.model_info()`), mlx-qwen3-asr reads it as a
    property (`session.model_info["model_id"]`); this dict answers both, under both key names."""

    def __init__(self, info: Mapping[str, Any]) -> None:
        seed_names = {seed: info[ours] for ours, seed in _SEED_INFO_KEYS.items() if ours in info}
        super().__init__({**info, **seed_names})

    def __call__(self) -> ModelInfo:
        return self


def with_verbose(on_progress: ProgressCallback | None, verbose: bool) -> ProgressCallback | None:
    """`on_progress`, and with `verbose` also one line per progress event on stderr."""
    if not verbose:
        return on_progress
    return _PrintProgress(sys.stderr, on_progress)


class _PrintProgress:
    def __init__(self, out: TextIO, then: ProgressCallback | None) -> None:
        self.out = out
        self.then = then

    def __call__(self, event: ProgressEvent) -> None:
        print(describe(event), file=self.out, flush=True)
        if self.then is not None:
            self.then(event)


def describe(event: ProgressEvent) -> str:
    """One line for a progress event, e.g. "qasr: chunk_completed 2/4 talk.wav (50%)"."""
    words = ["qasr:", event.stage.value]
    if event.index is not None and event.total:
        words.append(f"{event.index + 1}/{event.total}")
    if event.name:
        words.append(event.name)
    if event.message:
        words.append(event.message)
    words.append(f"({event.fraction:.0%})")
    return " ".join(words)
