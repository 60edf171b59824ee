"""The lines `qasr train` prints: one per `log_every` steps (loss, learning rate, gradient norm,
speed, time left) and one per validation (loss, WER, CER)."""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

from qasr.training.evaluation import Evaluation

ProgressSink = Callable[[str], None]


@attrs.frozen
class StepReport:
    step: int  # steps done after this one
    loss: float
    tokens: int  # answer tokens learnt from
    grad_norm: float
    learning_rate: float


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def progress_line(report: StepReport, total_steps: int, elapsed: float, steps_timed: int) -> str:
    per_step = elapsed / max(steps_timed, 1)
    eta = per_step * (total_steps - report.step)
    width = len(str(total_steps))
    return (
        f"step {report.step:>{width}}/{total_steps}  loss {report.loss:.4f}  "
        f"lr {report.learning_rate:.2e}  grad {report.grad_norm:.3g}  "
        f"{per_step:.2f} s/step  {report.tokens / per_step if per_step else 0:.0f} tok/s  "
        f"ETA {_duration(eta)}"
    )


def evaluation_line(evaluation: Evaluation) -> str:
    rates = ""
    if evaluation.wer is not None and evaluation.cer is not None:
        rates = f"  WER {evaluation.wer:.2%}  CER {evaluation.cer:.2%}"
    return f"step {evaluation.step}  validation loss {evaluation.loss:.4f}{rates}"


__all__ = ["ProgressSink", "StepReport", "evaluation_line", "progress_line"]
