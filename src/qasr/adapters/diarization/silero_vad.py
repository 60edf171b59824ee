"""Silero VAD v6 (16 kHz) in MLX: the probability of speech in each 32 ms frame.

The network, with the names of the TorchScript model that `silero_vad.load_silero_vad()` runs
(`silero_vad/data/silero_vad.jit`, read torch-free by `packaged_weights`): each 512-sample frame
is joined to the 64 samples before it (zeros before the first), padded on the right by
reflection to 640, turned into a 129-bin magnitude spectrum by a learned STFT (a 258-channel
convolution of stride 128: real then imaginary halves), four ReLU convolutions (strides 1, 2, 2,
1) bring its 4 STFT frames to one 128-vector, an LSTM cell carries state from frame to frame,
and ReLU, a 1x1 convolution and a sigmoid give the probability. Everything before the cell sees
one frame only, so it runs for all frames at once; only the cell is sequential.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from qasr.adapters.diarization.packaged_weights import package_file, read_torchscript_tensors
from qasr.adapters.mlx.backend import mx, nn

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 512
CONTEXT_SAMPLES = 64
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
_REFLECT_PAD = 64
_CUTOFF = 129
# The cell's steps are built lazily and evaluated together; this bounds one graph's size.
_STEPS_PER_EVAL = 512
_FRAMES_PER_BLOCK = 8192


def silero_weights_path() -> Path:
    return package_file("silero_vad", "data/silero_vad.jit", "Speech detection")


class LSTMCell(nn.Module):
    """torch.nn.LSTMCell's maths and weight names (gates: input, forget, cell, output)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.weight_ih = mx.zeros((4 * hidden_size, input_size))
        self.weight_hh = mx.zeros((4 * hidden_size, hidden_size))
        self.bias_ih = mx.zeros((4 * hidden_size,))
        self.bias_hh = mx.zeros((4 * hidden_size,))

    def step(
        self, projected_input: mx.array, hidden: mx.array, cell: mx.array
    ) -> tuple[mx.array, mx.array]:
        """One step from `x @ weight_ih.T + bias_ih` (computed for all steps at once)."""
        gates = projected_input + hidden @ self.weight_hh.T + self.bias_hh
        i, f, g, o = mx.split(gates, 4, axis=-1)
        cell = mx.sigmoid(f) * cell + mx.sigmoid(i) * mx.tanh(g)
        return mx.sigmoid(o) * mx.tanh(cell), cell


class STFT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.forward_basis_buffer = mx.zeros((2 * _CUTOFF, 256, 1))  # MLX layout [out, k, in]

    def __call__(self, frames: mx.array) -> mx.array:
        """[N, 640] padded frames -> [N, 4, 129] magnitudes."""
        spectrum = mx.conv1d(frames[:, :, None], self.forward_basis_buffer, stride=128)
        real, imaginary = spectrum[..., :_CUTOFF], spectrum[..., _CUTOFF:]
        return mx.sqrt(real * real + imaginary * imaginary)


class SileroVadBlock(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.reparam_conv = nn.Conv1d(channels_in, channels_out, 3, stride=stride, padding=1)

    def __call__(self, x: mx.array) -> mx.array:
        return nn.relu(self.reparam_conv(x))


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = LSTMCell(128, 128)
        # torch's Sequential(Dropout, ReLU, Conv1d, Sigmoid): index 2 holds the weights.
        self.decoder = [nn.Dropout(0.1), nn.ReLU(), nn.Conv1d(128, 1, kernel_size=1), nn.Sigmoid()]

    def __call__(
        self, features: mx.array, state: tuple[mx.array, mx.array]
    ) -> tuple[mx.array, tuple[mx.array, mx.array]]:
        """[N, 128] consecutive frames' features -> [N] probabilities, and the cell's state
        after the last frame (the next call continues from it)."""
        projected = features @ self.rnn.weight_ih.T + self.rnn.bias_ih
        hidden, cell = state
        blocks: list[mx.array] = []
        for start in range(0, projected.shape[0], _STEPS_PER_EVAL):
            block: list[mx.array] = []
            for index in range(start, min(start + _STEPS_PER_EVAL, projected.shape[0])):
                hidden, cell = self.rnn.step(projected[index : index + 1], hidden, cell)
                block.append(hidden)
            blocks.append(mx.concatenate(block, axis=0))
            mx.eval(blocks[-1], cell)
        x = mx.concatenate(blocks, axis=0)[:, None, :]
        for layer in self.decoder:
            x = layer(x)
        return x[:, 0, 0], (hidden, cell)


class SileroVAD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stft = STFT()
        self.encoder = [
            SileroVadBlock(129, 128, 1),
            SileroVadBlock(128, 64, 2),
            SileroVadBlock(64, 64, 2),
            SileroVadBlock(64, 128, 1),
        ]
        self.decoder = Decoder()

    @staticmethod
    def sanitize(tensors: dict[str, npt.NDArray[np.float32]]) -> list[tuple[str, mx.array]]:
        # The archive holds the 16 kHz model under `_model.` (and an 8 kHz one we do not use);
        # torch's Conv1d weight is [out, in, kernel], MLX's is [out, kernel, in].
        prefix = "_model."
        return [
            (name[len(prefix) :], mx.array(value.transpose(0, 2, 1) if value.ndim == 3 else value))
            for name, value in tensors.items()
            if name.startswith(prefix)
        ]

    def __call__(self, frames: mx.array) -> mx.array:
        """[N, 576] consecutive frames after their context -> [N] speech probabilities."""
        state = (mx.zeros((1, 128)), mx.zeros((1, 128)))
        probabilities = []
        # Blocks bound the convolutions' working memory (~40 MB) whatever the clip's length.
        for start in range(0, frames.shape[0], _FRAMES_PER_BLOCK):
            block = frames[start : start + _FRAMES_PER_BLOCK]
            reflected = block[:, -_REFLECT_PAD - 1 : -1][:, ::-1]
            x = self.stft(mx.concatenate([block, reflected], axis=1))
            for layer in self.encoder:
                x = layer(x)
            block_probabilities, state = self.decoder(x[:, 0, :], state)  # one position a frame
            probabilities.append(block_probabilities)
        return mx.concatenate(probabilities) if probabilities else mx.zeros((0,))


def load_silero_vad(path: Path | None = None) -> SileroVAD:
    model = SileroVAD()
    model.load_weights(SileroVAD.sanitize(read_torchscript_tensors(path or silero_weights_path())))
    model.eval()
    mx.eval(model.parameters())
    return model


def context_frames(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """[N, 576]: each 512-sample frame after the 64 samples before it (the last one zero-padded)."""
    count = -(-len(samples) // FRAME_SAMPLES)
    padded = np.zeros(CONTEXT_SAMPLES + count * FRAME_SAMPLES, dtype=np.float32)
    padded[CONTEXT_SAMPLES : CONTEXT_SAMPLES + len(samples)] = samples
    starts = np.arange(count) * FRAME_SAMPLES
    return padded[starts[:, None] + np.arange(CONTEXT_SAMPLES + FRAME_SAMPLES)]


def speech_probabilities(
    model: SileroVAD, samples: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """The probability of speech in each 32 ms frame of 16 kHz `samples` (the last frame padded)."""
    if len(samples) == 0:
        return np.zeros(0, dtype=np.float32)
    probabilities = model(mx.array(context_frames(samples)))
    return np.array(probabilities, dtype=np.float32)


__all__ = [
    "FRAME_SECONDS",
    "SileroVAD",
    "context_frames",
    "load_silero_vad",
    "speech_probabilities",
]
