"""Connectionist temporal classification (CTC) loss, for the auxiliary loss on the audio encoder.

Training from scratch, a decoder-only model must discover on its own which audio tokens each word
comes from, and a tiny one plateaus for a long time before it does. The auxiliary loss
(`--ctc-weight`) scores the encoder's audio tokens against the transcript through the tied
embedding (audio token @ embedding.T, the `<|audio_pad|>` row as the blank): the audio tokens learn
to look like the input embeddings of the words they carry, and the decoder's job becomes copying.
It adds no weight to the model, so the exported checkpoint is plain Qwen3-ASR.

The loss is the usual forward algorithm in log space over the blank-interleaved targets, batched
with per-example audio and target lengths; it equals torch.nn.functional.ctc_loss (tested).
"""

from __future__ import annotations

from qasr.adapters.mlx.backend import mx

_NEG = -1e30  # log(0) that keeps logaddexp's gradients finite


def _shift(alpha: mx.array, by: int) -> mx.array:
    pad = mx.full((alpha.shape[0], by), _NEG, dtype=alpha.dtype)
    return mx.concatenate([pad, alpha[:, :-by]], axis=1)


def ctc_loss(
    log_probs: mx.array,
    input_lengths: mx.array,
    targets: mx.array,
    target_lengths: mx.array,
    blank: int,
) -> mx.array:
    """Negative log-likelihood [B] of `targets` given per-frame `log_probs`.

    log_probs [B, T, C] (log-softmax over C classes), input_lengths [B] (frames used, >= 1),
    targets [B, S] (padded with anything), target_lengths [B]. An example whose targets cannot
    fit its frames gets a loss of 0 (it teaches nothing), as torch's `zero_infinity=True`.
    """
    B, T, _ = log_probs.shape
    S = targets.shape[1]
    L = 2 * S + 1
    positions = mx.arange(L)
    # Blank-interleaved targets: blank, t1, blank, t2, ..., blank.
    token_at = mx.take(targets, mx.clip((positions - 1) // 2, 0, max(S - 1, 0)), axis=1)
    extended = mx.where(positions % 2 == 1, token_at, blank).astype(mx.int32)  # [B, L]
    emissions = mx.take_along_axis(
        log_probs, mx.broadcast_to(extended[:, None, :], (B, T, L)), axis=2
    )  # [B, T, L]
    previous_two = mx.concatenate([mx.full((B, 2), -1, dtype=mx.int32), extended[:, :-2]], axis=1)
    may_skip = (extended != blank) & (extended != previous_two) & (positions >= 2)
    start = mx.where(positions < 2, emissions[:, 0], _NEG)
    alpha = start
    for t in range(1, T):
        stay_or_step = mx.logaddexp(alpha, _shift(alpha, 1))
        skip = mx.where(may_skip, _shift(alpha, 2), _NEG)
        moved = mx.logaddexp(stay_or_step, skip) + emissions[:, t]
        alpha = mx.where((t < input_lengths)[:, None], moved, alpha)
    ends = 2 * target_lengths.astype(mx.int32)  # index of the final blank
    last_blank = mx.take_along_axis(alpha, ends[:, None], axis=1)[:, 0]
    last_token = mx.take_along_axis(alpha, mx.maximum(ends - 1, 0)[:, None], axis=1)[:, 0]
    likelihood = mx.where(target_lengths > 0, mx.logaddexp(last_blank, last_token), last_blank)
    loss = -likelihood
    return mx.where(loss > 1e29, 0.0, loss)


__all__ = ["ctc_loss"]
