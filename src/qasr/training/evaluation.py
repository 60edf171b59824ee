"""Scoring the model on the validation manifest: the mean loss over its answer tokens, and the
WER/CER of greedy transcripts of its first clips.

Transcripts are decoded as `MlxRecognizer` decodes (no language forced) with the live model, LoRA
adapters unmerged; a compact vocabulary is widened back to the full one for the decode, because
the recognizer's logits index the tokenizer's ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs
import numpy as np
import numpy.typing as npt

from qasr.adapters.mlx.checkpoint.reading import LoadedThinker
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.adapters.mlx.recognizer import MlxRecognizer
from qasr.adapters.mlx.text.prompt import parse_asr_output
from qasr.adapters.mlx.text.tokenizer import Tokenizer
from qasr.domain import RecognitionOptions
from qasr.training.batches import Batch
from qasr.training.loss import answer_losses
from qasr.training.metrics import character_errors, word_errors
from qasr.training.vocab import CompactVocabulary, full_vocabulary


@attrs.frozen
class Evaluation:
    step: int
    loss: float
    wer: float | None
    cer: float | None


def validation_loss(model: Qwen3ASRThinker, batches: Iterable[Batch]) -> float:
    """The mean cross-entropy over every answer token of `batches` (not a mean of batch means:
    batches differ in their number of tokens)."""
    total, count = 0.0, 0
    for batch in batches:
        losses = answer_losses(model, batch)
        total += losses.sum().item()
        count += losses.shape[0]
    return total / max(count, 1)


def greedy_transcripts(
    thinker: LoadedThinker,
    vocabulary: CompactVocabulary | None,
    tokenizer: Tokenizer,
    samples: Sequence[npt.NDArray[np.float32]],
    options: Sequence[RecognitionOptions],
    *,
    source: str,
    batch_size: int,
) -> list[str]:
    """The transcript text (language tag dropped) the model writes for each clip."""
    with full_vocabulary(thinker.model, vocabulary) as model:
        recognizer = MlxRecognizer(
            attrs.evolve(thinker, model=model), tokenizer, source=source, batch_size=batch_size
        )
        decoded = recognizer.decode_batch(samples, options)
    return [parse_asr_output(result.raw_text)[1] for result in decoded]


def error_rates(
    references: Sequence[str], hypotheses: Sequence[str]
) -> tuple[float | None, float | None]:
    """(WER, CER); (None, None) when no clip was decoded."""
    if not references:
        return None, None
    wer = word_errors(references, hypotheses).rate
    cer = character_errors(references, hypotheses).rate
    return wer, cer


__all__ = ["Evaluation", "error_rates", "greedy_transcripts", "validation_loss"]
