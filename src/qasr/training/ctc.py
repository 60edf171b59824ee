"""Connectionist temporal classification (CTC) loss, for the auxiliary loss on the audio encoder.

Training from scratch, a decoder-only model must discover on its own which audio tokens each word
comes from, and a tiny one plateaus for a long time before it does. The auxiliary loss
(`--ctc-weight`) scores the encoder's audio tokens against the transcript through the tied
embedding (audio token @ embedding.T, the `<|audio_pad|>` row as the blank): the audio tokens learn
to look like the input embeddings of the words they carry, and the decoder's job becomes copying.
It adds no weight to the model, so the exported checkpoint is plain Qwen3-ASR.

The loss is the usual forward algorithm in log space over the blank-interleaved targets, batched
with per-example audio and target lengths; it equals torch.nn.functional.ctc_loss (tested).

The recursion is a loop over frames, and on a GPU a loop of small ops costs its kernel launches,
not its arithmetic (~10 us each on MLX's CUDA backend): differentiated by autodiff, a frame took
~38 kernels forward and backward, and at tiny-en's shapes the CTC term had more kernels than the
model. (`mx.compile` cannot help inside `value_and_grad`: it only fuses as the outermost
transform.) So the gradient is the textbook one instead of autodiff's: a backward (beta)
recursion, and the gradient of each emission is minus its state's posterior,
exp(alpha + beta - log-likelihood), all frames at once. Neither recursion masks the frames past
a clip's end; the likelihood is read at each clip's last frame and the posterior is zeroed past
it. A frame then costs 5 kernels forward and 6 backward.
"""

from __future__ import annotations

from qasr.adapters.mlx.backend import mx

_NEG = -1e30  # log(0) that keeps every sum finite
_IMPOSSIBLE = -1e29  # below this a log-probability is a sum of log(0)s


def _advance(alpha: mx.array, emission: mx.array, may_skip: mx.array) -> mx.array:
    """One frame forward: alpha [B, 2 + L], two leading log-zero columns so that the shifts by
    one and two states are slices -> the next frame's alpha [B, L]."""
    stay, step, skip = alpha[:, 2:], alpha[:, 1:-1], alpha[:, :-2]
    return mx.logaddexp(mx.logaddexp(stay, step), mx.where(may_skip, skip, _NEG)) + emission


def _retreat(after: mx.array, skip_from: mx.array) -> mx.array:
    """One frame backward: the next frame's beta + emission [B, L + 2], two trailing log-zero
    columns -> this frame's beta [B, L] (before the clip's own last frame is set)."""
    stay, step, skip = after[:, :-2], after[:, 1:-1], after[:, 2:]
    return mx.logaddexp(mx.logaddexp(stay, step), mx.where(skip_from, skip, _NEG))


@mx.custom_function
def _alignment_likelihood(
    emissions: mx.array, may_skip: mx.array, last: mx.array, final: mx.array
) -> tuple[mx.array, mx.array]:
    """(log-likelihood [B], alphas [T, B, L]) of emissions [T, B, L] (each frame's log-prob of
    each blank-interleaved state). `may_skip` [B, L] marks the states reachable from two back,
    `last` [T, B, 1] each clip's last frame, `final` [B, L] the states a path may end in. The
    alphas are an output only for the gradient to reuse: their own cotangent is ignored."""
    T, B, L = emissions.shape
    frames = [frame.squeeze(0) for frame in mx.split(emissions, T)]  # views (x[t] gathers)
    log_zero = mx.full((B, 2), _NEG, dtype=emissions.dtype)
    alpha = mx.where(mx.arange(L) < 2, frames[0], _NEG)
    alphas = [alpha]
    for t in range(1, T):
        alpha = _advance(mx.concatenate([log_zero, alpha], axis=1), frames[t], may_skip)
        alphas.append(alpha)
    stacked = mx.stack(alphas)
    at_end = mx.where(last, stacked, 0.0).sum(axis=0)  # each clip's alpha at its last frame
    likelihood = mx.logsumexp(mx.where(final, at_end, _NEG), axis=1)
    return likelihood, stacked


@_alignment_likelihood.vjp
def _alignment_likelihood_vjp(
    primals: tuple[mx.array, ...], cotangents: tuple[mx.array, ...], outputs: tuple[mx.array, ...]
) -> tuple[mx.array, ...]:
    emissions, may_skip, last, final = primals
    likelihood, alphas = outputs
    T, B, _ = emissions.shape
    frames = [frame.squeeze(0) for frame in mx.split(emissions, T)]
    ends = [end.squeeze(0) for end in mx.split(last, T)]
    # A skip into state s + 2 is what the forward pass allowed at s + 2.
    skip_from = mx.concatenate([may_skip[:, 2:], mx.zeros((B, 2), dtype=mx.bool_)], axis=1)
    start = mx.where(final, 0.0, _NEG)  # beta at a clip's last frame
    log_zero = mx.full((B, 2), _NEG, dtype=emissions.dtype)
    beta = mx.where(ends[T - 1], start, _NEG)
    betas = [beta]
    for t in range(T - 2, -1, -1):
        after = mx.concatenate([beta + frames[t + 1], log_zero], axis=1)
        beta = mx.where(ends[t], start, _retreat(after, skip_from))
        betas.append(beta)
    inside = mx.cumsum(last, axis=0, reverse=True) > 0  # [T, B, 1]: frames up to the last
    alignable = likelihood > _IMPOSSIBLE  # torch's zero_infinity zeroes the rest
    log_posterior = alphas + mx.stack(betas[::-1]) - mx.where(alignable, likelihood, 0.0)[:, None]
    keep = inside & alignable[:, None] & (log_posterior > _IMPOSSIBLE)
    grad = mx.where(keep, mx.exp(log_posterior), 0.0) * cotangents[0][:, None]
    return grad, mx.zeros_like(may_skip), mx.zeros_like(last), mx.zeros_like(final)


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
    last = mx.arange(T)[:, None, None] == (input_lengths[None, :, None] - 1)  # [T, B, 1]
    ends = 2 * target_lengths.astype(mx.int32)[:, None]  # the final blank's state
    final = (positions == ends) | ((positions == ends - 1) & (target_lengths[:, None] > 0))
    likelihood, _ = _alignment_likelihood(emissions.transpose(1, 0, 2), may_skip, last, final)
    return mx.where(likelihood > _IMPOSSIBLE, -likelihood, 0.0)


__all__ = ["ctc_loss"]
