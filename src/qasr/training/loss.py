"""The training loss: mean cross-entropy of the answer tokens given everything before them,
plus, optionally, an auxiliary CTC loss of the transcript on the encoder's audio tokens (ctc.py).

Logits are computed only at the positions that predict an answer token: the vocabulary has
151,936 entries, so the logits of a whole padded batch would cost more memory than the model.
"""

from __future__ import annotations

from qasr.adapters.mlx.backend import mx, nn
from qasr.adapters.mlx.model.activations import logsumexp_for
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.training.batches import Batch
from qasr.training.ctc import ctc_loss


def batch_hidden(
    model: Qwen3ASRThinker, batch: Batch, clips: list[mx.array] | None = None
) -> mx.array:
    """Decoder hidden states [B, L, D] of the batch, audio placeholders filled by the encoder
    (`clips`: the encoder's output per clip, when already computed)."""
    if clips is None:
        clips = model.audio_tower.encode_batch(list(batch.mels))
    audio = mx.concatenate(clips)
    embeds = model.model.embed_tokens(batch.input_ids)
    audio_embeds = audio.astype(embeds.dtype)[batch.audio_rows]
    embeds = mx.where(batch.is_audio[..., None], audio_embeds, embeds)
    return model.model(embeds, 0)  # right padding: every row starts at position 0


def answer_losses(
    model: Qwen3ASRThinker, batch: Batch, clips: list[mx.array] | None = None
) -> mx.array:
    """Cross-entropy [N] of each learnt token, in float32 whatever the weights' dtype."""
    hidden = batch_hidden(model, batch, clips)
    B, L, D = hidden.shape
    predicting = hidden.reshape(B * L, D)[batch.predict_from]
    logits = model.logits(predicting).astype(mx.float32)
    return token_losses(logits, batch.targets, batch.logit_offset)


def token_losses(logits: mx.array, targets: mx.array, logit_offset: mx.array | None) -> mx.array:
    """Cross-entropy [N] of `targets` [N] under float32 `logits` [N, V]; `logit_offset` is the
    compact vocabulary's (vocab.py), added inside the softmax only."""
    if logit_offset is None:
        return nn.losses.cross_entropy(logits, targets, reduction="none")
    # -log softmax(logits + offset)[target], the target's own logit taken without the offset.
    target_logits = mx.take_along_axis(logits, targets[:, None], axis=-1)[:, 0]
    return logsumexp_for(mx.default_device())(logits + logit_offset, axis=-1) - target_logits


def transcript_ctc_losses(model: Qwen3ASRThinker, batch: Batch, clips: list[mx.array]) -> mx.array:
    """CTC loss [B] of each transcript on its clip's audio tokens, scored through the tied
    embedding (audio token @ embedding.T) with the `<|audio_pad|>` row as the blank."""
    longest = max(clip.shape[0] for clip in clips)
    audio = mx.stack([mx.pad(clip, [(0, longest - clip.shape[0]), (0, 0)]) for clip in clips])
    logits = model.model.as_logits(audio.astype(model.model.embed_tokens.weight.dtype))
    if batch.logit_offset is not None:
        logits = logits + batch.logit_offset  # the rest row stands for V - A classes
    logits = logits.astype(mx.float32)
    log_probs = logits - logsumexp_for(mx.default_device())(logits, axis=-1, keepdims=True)
    return ctc_loss(
        log_probs, batch.audio_lengths, batch.text_ids, batch.text_lengths, batch.blank_id
    )


def batch_loss(
    model: Qwen3ASRThinker, batch: Batch, ctc_weight: float = 0.0
) -> tuple[mx.array, mx.array]:
    """(mean loss per learnt token, number of learnt tokens): what the optimizer minimises.
    With `ctc_weight`, plus that weight times the CTC loss per transcript token."""
    clips = model.audio_tower.encode_batch(list(batch.mels))
    losses = answer_losses(model, batch, clips)
    count = mx.array(losses.shape[0], mx.float32)
    loss = losses.sum() / count
    if ctc_weight:
        ctc = transcript_ctc_losses(model, batch, clips).sum()
        loss = loss + ctc_weight * ctc / mx.maximum(batch.text_lengths.sum(), 1)
    return loss, count


__all__ = [
    "answer_losses",
    "batch_hidden",
    "batch_loss",
    "token_losses",
    "transcript_ctc_losses",
]
