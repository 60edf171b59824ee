"""The training step on fixed-shape batches, compiled once per bucket shape (`padded.py`).

`loss.batch_loss` encodes each clip as it would alone (a list of mels of any length) and lets
the batch decide every shape, which is right for validation but costs a trace, many small
kernels and host work per step. Here a batch is B clips padded to C whole chunks, and the
padding is made not to matter:

- conv stem: a clip of one short chunk is convolved unpadded by the encoder; here its chunk is
  zero-padded, so after each convolution the columns past its length are zeroed, which is what
  the unpadded convolution's own zero padding gives. A longer clip's tail chunk is zero-padded
  to a whole chunk in the encoder too (and that padding is seen), so it is left as it is;
- attention windows: each clip's tokens start a window at 0, as in the encoder, and tokens past
  a clip's end are masked out of every window's keys (a finite -1e9, so a window of padding
  alone stays finite, as must everything a gradient passes through);
- the decoder rows are right-padded as in `batches.make_batch`, the learnt tokens are [B, A]
  positions with a validity mask, and the CTC recursion ignores frames past a clip's tokens.

So the loss and its gradients equal `loss.batch_loss` on the same examples (tested), while one
compiled call does the gathers from the device tables, forward, backward, clipping and AdamW.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from qasr.adapters.mlx.backend import mx, nn, optim
from qasr.adapters.mlx.model.activations import gelu, logsumexp_for
from qasr.adapters.mlx.model.attention import attention as attend
from qasr.adapters.mlx.model.audio_encoder import AudioEncoder, AudioEncoderLayer, sinusoids
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.training.ctc import ctc_loss
from qasr.training.loss import token_losses
from qasr.training.masking import Masking, mask_features, step_key
from qasr.training.padded import BucketShape, DeviceTables, ExampleTables
from qasr.training.vocab import CompactVocabulary, clip_gradients

_MASKED = -1e9  # attention bias of a padding key
NO_MASKING = Masking()


@attrs.frozen(eq=False)
class PaddedBatch:
    """B examples gathered from the device tables at one bucket shape."""

    mels: mx.array  # [B * C, chunk frames, n_mels]
    chunk_frames: mx.array  # [B * C] frames the stem convolves of each chunk
    audio_tokens: mx.array  # [B]
    tokens: mx.array  # [B, L]
    predict_from: mx.array  # [B, A] position predicting each learnt token
    targets: mx.array  # [B, A]
    learnt: mx.array  # [B, A] float: 1 for a real learnt token, 0 for padding
    text: mx.array  # [B, S]
    text_length: mx.array  # [B]


def gather_batch(
    tables: DeviceTables,
    rows: mx.array,
    ids: mx.array,
    shape: BucketShape,
    *,
    chunk_frames: int,
    whole_chunks: bool,
    masking: Masking = NO_MASKING,
    key: mx.array | None = None,
) -> PaddedBatch:
    """The batch of examples `ids` [B]; `rows` are the feature rows with a zero row last.
    With `masking` (and the step's `key`), stripes of each clip's features are masked."""
    (B,) = ids.shape
    C, L, A, S = shape.chunks, shape.row_length, shape.answer_length, shape.text_length
    frames = tables.frames[ids]
    position = mx.arange(C * chunk_frames)[None]
    inside = position < frames[:, None]
    index = mx.where(inside, tables.offsets[ids][:, None] + position, rows.shape[0] - 1)
    mels = rows[index]
    if masking.enabled:
        if key is None:
            raise ValueError("masking the features needs the step's random key")
        mels = mask_features(mels, frames, key, masking)
    mels = mels.reshape(B * C, chunk_frames, rows.shape[1])
    # The encoder convolves a clip of one short chunk unpadded, any other chunk whole.
    seen = mx.full(frames.shape, chunk_frames) if whole_chunks else mx.minimum(frames, chunk_frames)
    tokens = tables.tokens[ids, :L]
    answer_start = tables.answer_start[ids]
    step = mx.arange(A)[None]
    predict_from = mx.minimum(answer_start[:, None] - 1 + step, L - 2)
    return PaddedBatch(
        mels=mels,
        chunk_frames=mx.repeat(seen, C),
        audio_tokens=tables.audio_tokens[ids],
        tokens=tokens,
        predict_from=predict_from,
        targets=mx.take_along_axis(tokens, predict_from + 1, axis=1),
        learnt=(step < (tables.row_length[ids] - answer_start)[:, None]).astype(mx.float32),
        text=tables.text[ids, :S],
        text_length=tables.text_length[ids],
    )


def _conv(conv: nn.Conv2d, x: mx.array) -> mx.array:
    """`conv(x)` for the stem's 3x3 stride-2 padding-1 convolutions, as one matmul over the nine
    shifted views (im2col): the same sums, with a backward pass about twice as fast on a CPU."""
    _, H, W, _ = x.shape
    padded = mx.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    rows, columns = (H - 1) // 2 + 1, (W - 1) // 2 + 1
    views = [
        padded[:, i : i + 2 * rows - 1 : 2, j : j + 2 * columns - 1 : 2, :]
        for i in range(3)
        for j in range(3)
    ]
    kernel = conv.weight  # [out, 3, 3, in]: the views' (i, j, channel) order
    return mx.concatenate(views, axis=-1) @ kernel.reshape(kernel.shape[0], -1).T + conv.bias


def _stem(encoder: AudioEncoder, mels: mx.array, seen: mx.array) -> mx.array:
    """[B * C, frames, n_mels] chunks -> [B * C, tokens per chunk, d_model], positions added."""
    x = mels.transpose(0, 2, 1)[..., None].astype(encoder.conv2d1.weight.dtype)  # NHWC
    for conv in (encoder.conv2d1, encoder.conv2d2, encoder.conv2d3):
        x = gelu(_conv(conv, x))
        seen = (seen - 1) // 2 + 1
        if conv is not encoder.conv2d3:  # the last one's extra tokens are dropped anyway
            x = x * (mx.arange(x.shape[2])[None] < seen[:, None]).astype(x.dtype)[:, None, :, None]
    N, F, T, channels = x.shape
    # The official flattens (channel, bin) with the channel major.
    embedded = encoder.conv_out(x.transpose(0, 2, 3, 1).reshape(N, T, channels * F))
    return embedded + sinusoids(T, encoder.config.d_model).astype(embedded.dtype)


def _layer(layer: AudioEncoderLayer, hidden: mx.array, bias: mx.array, window: int) -> mx.array:
    """One encoder layer over [B, windows * window, d]; attention stays inside each window."""
    B, T, D = hidden.shape
    attention = layer.self_attn
    x = layer.self_attn_layer_norm(hidden)

    def heads(projected: mx.array) -> mx.array:
        split = projected.reshape(B * (T // window), window, attention.n_heads, -1)
        return split.transpose(0, 2, 1, 3)

    q, k, v = heads(attention.q_proj(x)), heads(attention.k_proj(x)), heads(attention.v_proj(x))
    attended = attend(q, k, v, scale=attention.scale, mask=bias.astype(q.dtype))
    hidden = hidden + attention.out_proj(attended.transpose(0, 2, 1, 3).reshape(B, T, D))
    return hidden + layer.fc2(gelu(layer.fc1(layer.final_layer_norm(hidden))))


def encode_padded(encoder: AudioEncoder, batch: PaddedBatch) -> mx.array:
    """Audio tokens [B, C * tokens per chunk, output_dim]; those past a clip's end are junk."""
    (B,) = batch.audio_tokens.shape
    chunks = _stem(encoder, batch.mels, batch.chunk_frames)
    T = chunks.shape[0] // B * chunks.shape[1]
    hidden = chunks.reshape(B, T, -1)
    # A bucket shorter than one window is one window, as every clip in it is in the encoder.
    window = min(encoder.config.window_tokens, T) if encoder.windowed_attention else T
    windows = -(-T // window)
    hidden = mx.pad(hidden, [(0, 0), (0, windows * window - T), (0, 0)])
    real = mx.arange(windows * window)[None] < batch.audio_tokens[:, None]
    bias = mx.where(real, 0.0, _MASKED).reshape(B * windows, 1, 1, window)
    for layer in encoder.layers:
        hidden = _layer(layer, hidden, bias, window)
    hidden = encoder.proj2(gelu(encoder.proj1(encoder.ln_post(hidden))))
    return hidden[:, :T]


def padded_batch_loss(
    model: Qwen3ASRThinker,
    batch: PaddedBatch,
    *,
    audio_id: int,
    logit_offset: mx.array | None,
    ctc_weight: float = 0.0,
) -> tuple[mx.array, mx.array]:
    """`loss.batch_loss` of the same examples: (mean loss per learnt token, learnt tokens)."""
    audio = encode_padded(model.audio_tower, batch)
    B, T, _ = audio.shape
    L = batch.tokens.shape[1]
    embeds = model.model.embed_tokens(batch.tokens)
    is_audio = batch.tokens == audio_id
    # The k-th placeholder of a row takes its clip's k-th audio token.
    audio_index = mx.clip(mx.cumsum(is_audio.astype(mx.int32), axis=1) - 1, 0, T - 1)
    flat_index = mx.arange(B)[:, None] * T + audio_index
    placed = audio.astype(embeds.dtype).reshape(B * T, -1)[flat_index]
    hidden = model.model(mx.where(is_audio[..., None], placed, embeds), 0)
    rows = (mx.arange(B)[:, None] * L + batch.predict_from).reshape(-1)
    logits = model.logits(hidden.reshape(B * L, -1)[rows]).astype(mx.float32)
    losses = token_losses(logits, batch.targets.reshape(-1), logit_offset)
    learnt = batch.learnt.reshape(-1)
    count = learnt.sum()
    loss = (losses * learnt).sum() / count
    if ctc_weight:
        scores = model.model.as_logits(audio.astype(model.model.embed_tokens.weight.dtype))
        if logit_offset is not None:
            scores = scores + logit_offset
        scores = scores.astype(mx.float32)
        log_probs = scores - logsumexp_for(mx.default_device())(scores, axis=-1, keepdims=True)
        ctc = ctc_loss(log_probs, batch.audio_tokens, batch.text, batch.text_length, audio_id)
        loss = loss + ctc_weight * ctc.sum() / mx.maximum(batch.text_length.sum(), 1)
    return loss, count


StepFunction = Callable[[mx.array, mx.array], tuple[mx.array, mx.array]]
# What `mx.compile` covers: the whole step (forward, backward, clipping, AdamW), the update alone
# (clipping and AdamW: a few hundred small elementwise kernels, compiled once for every bucket
# shape), or nothing. On CUDA (MLX 0.32.4) compiling the whole step did not finish its first
# call in 140 s (docs/benchmarks/tiny-en-trainer.json), so there the update alone is the choice.
CompileMode = Literal["step", "update", "none"]
COMPILE_MODES: tuple[CompileMode, ...] = ("step", "update", "none")


def compile_mode(value: CompileMode | bool) -> CompileMode:
    """A mode from a mode or the older yes/no (True: the whole step)."""
    if value is True:
        return "step"
    if value is False:
        return "none"
    if value not in COMPILE_MODES:
        raise ValueError(f"compile mode {value!r} is not one of {', '.join(COMPILE_MODES)}")
    return value


class CompiledSteps:
    """One compiled optimizer step per bucket shape, over the model's and optimizer's state.

    Build it after the optimizer's state exists in its final form (a resumed run replaces it).
    """

    def __init__(
        self,
        model: Qwen3ASRThinker,
        optimizer: optim.Optimizer,
        tables: ExampleTables,
        rows: mx.array,
        *,
        vocabulary: CompactVocabulary | None,
        ctc_weight: float,
        max_grad_norm: float,
        compile: CompileMode | bool = "step",
        masking: Masking = NO_MASKING,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.tables = tables
        self.device_tables = tables.device()
        self.rows = rows
        self.vocabulary = vocabulary
        self.ctc_weight = ctc_weight
        self.max_grad_norm = max_grad_norm
        self.compile: CompileMode = compile_mode(compile)
        self.masking = masking
        self.seed = seed
        if not optimizer.state:
            optimizer.init(model.trainable_parameters())
        self.state: list[Any] = [model.state, optimizer.state]
        self._steps: dict[BucketShape, StepFunction] = {}
        self._update: Callable[[Any], mx.array] | None = None  # "update" mode: one for all shapes

    def batch(self, ids: mx.array, shape: BucketShape, key: mx.array | None = None) -> PaddedBatch:
        audio = self.model.audio_tower
        return gather_batch(
            self.device_tables,
            self.rows,
            ids,
            shape,
            chunk_frames=audio.config.chunk_frames,
            whole_chunks=audio.whole_chunks,
            masking=self.masking,
            key=key,
        )

    def loss(
        self, model: Qwen3ASRThinker, ids: mx.array, shape: BucketShape, key: mx.array | None = None
    ) -> Any:
        return padded_batch_loss(
            model,
            self.batch(ids, shape, key),
            audio_id=self.tables.audio_id,
            logit_offset=None if self.vocabulary is None else self.vocabulary.logit_offset,
            ctc_weight=self.ctc_weight,
        )

    def _make_step(self, shape: BucketShape) -> StepFunction:
        loss_and_grad = nn.value_and_grad(
            self.model, lambda model, ids, key: self.loss(model, ids, shape, key)
        )

        def step(ids: mx.array, key: mx.array) -> tuple[mx.array, mx.array]:
            (loss, _), grads = loss_and_grad(self.model, ids, key)
            return loss, self._apply(grads)

        if self.compile == "step":
            return mx.compile(step, inputs=self.state, outputs=self.state)  # type: ignore[no-any-return]
        if self.compile == "update" and self._update is None:
            # The parameter shapes never change, so one compiled update serves every bucket.
            self._update = mx.compile(self._apply, inputs=self.state, outputs=self.state)

        def step_then_update(ids: mx.array, key: mx.array) -> tuple[mx.array, mx.array]:
            (loss, _), grads = loss_and_grad(self.model, ids, key)
            assert self._update is not None
            return loss, self._update(grads)

        return step_then_update if self.compile == "update" else step

    def _apply(self, grads: Any) -> mx.array:
        """Share the rest row's gradient, clip, and take the AdamW step; the gradient norm."""
        extra = mx.array(0.0)
        if self.vocabulary is not None:
            extra = self.vocabulary.share_gradients(grads)
        if self.max_grad_norm > 0:
            grads, norm = clip_gradients(grads, self.max_grad_norm, extra)
        else:
            norm = mx.array(float("nan"))
        self.optimizer.update(self.model, grads)
        return norm

    def is_compiled(self, ids: npt.NDArray[np.int64]) -> bool:
        """Whether a step on examples `ids` runs without compiling a new shape first."""
        return self.tables.batch_shape(ids) in self._steps

    def __call__(self, ids: npt.NDArray[np.int64], step: int = 0) -> tuple[mx.array, mx.array]:
        """Queue one step on examples `ids`; (loss, gradient norm), not yet evaluated. `step`
        (0-based) picks the feature masks, when there are any."""
        shape = self.tables.batch_shape(ids)
        if shape not in self._steps:
            self._steps[shape] = self._make_step(shape)
        key = step_key(self.seed, step)
        loss, norm = self._steps[shape](mx.array(ids.astype(np.int32)), key)
        mx.async_eval(loss, norm, self.state)
        return loss, norm

    @property
    def shapes(self) -> int:
        """Distinct bucket shapes compiled so far."""
        return len(self._steps)


__all__ = [
    "COMPILE_MODES",
    "CompileMode",
    "CompiledSteps",
    "PaddedBatch",
    "compile_mode",
    "encode_padded",
    "gather_batch",
    "gelu",
    "padded_batch_loss",
]
