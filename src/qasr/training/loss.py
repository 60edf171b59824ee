"""The training loss: mean cross-entropy of the answer tokens given everything before them.

Logits are computed only at the positions that predict an answer token: the vocabulary has
151,936 entries, so the logits of a whole padded batch would cost more memory than the model.
"""

from __future__ import annotations

from qasr.adapters.mlx.asr_model import Qwen3ASRThinker
from qasr.adapters.mlx.backend import mx, nn
from qasr.training.batches import Batch


def batch_hidden(model: Qwen3ASRThinker, batch: Batch) -> mx.array:
    """Decoder hidden states [B, L, D] of the batch, audio placeholders filled by the encoder."""
    audio = mx.concatenate(model.audio_tower.encode_batch(list(batch.mels)))
    embeds = model.model.embed_tokens(batch.input_ids)
    audio_embeds = audio.astype(embeds.dtype)[batch.audio_rows]
    embeds = mx.where(batch.is_audio[..., None], audio_embeds, embeds)
    return model.model(embeds, 0)  # right padding: every row starts at position 0


def answer_losses(model: Qwen3ASRThinker, batch: Batch) -> mx.array:
    """Cross-entropy [N] of each learnt token, in float32 whatever the weights' dtype."""
    hidden = batch_hidden(model, batch)
    B, L, D = hidden.shape
    predicting = hidden.reshape(B * L, D)[batch.predict_from]
    logits = model.logits(predicting).astype(mx.float32)
    if batch.logit_offset is None:
        return nn.losses.cross_entropy(logits, batch.targets, reduction="none")
    # -log softmax(logits + offset)[target], the target's own logit taken without the offset.
    target_logits = mx.take_along_axis(logits, batch.targets[:, None], axis=-1)[:, 0]
    return mx.logsumexp(logits + batch.logit_offset, axis=-1) - target_logits


def batch_loss(model: Qwen3ASRThinker, batch: Batch) -> tuple[mx.array, mx.array]:
    """(mean loss per learnt token, number of learnt tokens): what the optimizer minimises."""
    losses = answer_losses(model, batch)
    count = mx.array(losses.shape[0], mx.float32)
    return losses.sum() / count, count


__all__ = ["answer_losses", "batch_hidden", "batch_loss"]
