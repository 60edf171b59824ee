"""Resemblyzer's GE2E voice encoder in MLX: a 256-value voice print of a stretch of speech.

The network (Wan et al. 2018, "Generalized end-to-end loss for speaker verification"), as the
`Resemblyzer` wheel's `pretrained.pt` names it: 40-band mel power frames (25 ms Hann window,
10 ms hop, librosa's Slaney filters, not logged) go through a 3-layer LSTM of 256 units; the last
layer's final hidden state goes through a linear layer and a ReLU, and is L2-normalised. The
encoder was trained on 1.6 s partial utterances (160 frames); a longer stretch is cut into such
windows whose prints are averaged and renormalised, as Resemblyzer's `embed_utterance` does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from qasr.adapters.diarization.packaged_weights import package_file, read_legacy_torch_file
from qasr.adapters.mlx.backend import mx, nn
from qasr.adapters.mlx.model.mel import mel_filterbank

SAMPLE_RATE = 16_000
N_FFT = 400
HOP = 160
N_MELS = 40
HIDDEN = 256
LAYERS = 3
WINDOW_FRAMES = 160  # 1.6 s: the partial utterances GE2E was trained on
_WINDOWS_PER_BATCH = 512
_FRAMES_PER_BLOCK = 8192  # bounds the float64 framing to ~26 MB whatever the clip's length


def encoder_weights_path() -> Path:
    return package_file("resemblyzer", "pretrained.pt", "Speaker embedding")


def mel_frames(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """[1 + len // 160, 40] mel power frames, as `librosa.feature.melspectrogram` computes them
    (centred frames with zero padding since librosa 0.10, a periodic Hann window, power 2)."""
    padded = np.pad(samples.astype(np.float64), N_FFT // 2)
    count = 1 + len(samples) // HOP
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)
    filters = mel_filterbank(N_MELS, N_FFT, SAMPLE_RATE)
    mels = np.empty((count, N_MELS), dtype=np.float32)
    for first in range(0, count, _FRAMES_PER_BLOCK):
        starts = np.arange(first, min(first + _FRAMES_PER_BLOCK, count)) * HOP
        frames = padded[starts[:, None] + np.arange(N_FFT)]
        power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
        mels[first : first + len(starts)] = power @ filters
    return mels


class StackedLSTM(nn.Module):
    """torch.nn.LSTM(batch_first=True)'s maths and weight names (`weight_ih_l0`, ...)."""

    def __init__(self, input_size: int, hidden_size: int, layers: int) -> None:
        super().__init__()
        self.layers = layers
        for layer in range(layers):
            width = input_size if layer == 0 else hidden_size
            setattr(self, f"weight_ih_l{layer}", mx.zeros((4 * hidden_size, width)))
            setattr(self, f"weight_hh_l{layer}", mx.zeros((4 * hidden_size, hidden_size)))
            setattr(self, f"bias_ih_l{layer}", mx.zeros((4 * hidden_size,)))
            setattr(self, f"bias_hh_l{layer}", mx.zeros((4 * hidden_size,)))

    def __call__(self, x: mx.array) -> mx.array:
        """[B, T, input] -> [B, T, hidden]: the last layer's hidden state at every step."""
        for layer in range(self.layers):
            weight_hh = getattr(self, f"weight_hh_l{layer}")
            bias = getattr(self, f"bias_hh_l{layer}")
            projected = x @ getattr(self, f"weight_ih_l{layer}").T + getattr(
                self, f"bias_ih_l{layer}"
            )
            batch, steps, _ = projected.shape
            hidden = mx.zeros((batch, weight_hh.shape[1]))
            cell = mx.zeros((batch, weight_hh.shape[1]))
            outputs = []
            for step in range(steps):
                gates = projected[:, step] + hidden @ weight_hh.T + bias
                i, f, g, o = mx.split(gates, 4, axis=-1)
                cell = mx.sigmoid(f) * cell + mx.sigmoid(i) * mx.tanh(g)
                hidden = mx.sigmoid(o) * mx.tanh(cell)
                outputs.append(hidden)
            x = mx.stack(outputs, axis=1)
            mx.eval(x)  # one layer's graph at a time keeps the lazy graph small
        return x


class VoiceEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = StackedLSTM(N_MELS, HIDDEN, LAYERS)
        self.linear = nn.Linear(HIDDEN, HIDDEN)

    @staticmethod
    def sanitize(state: dict[str, npt.NDArray[np.float32]]) -> list[tuple[str, mx.array]]:
        # GE2E's similarity scale and bias only served the training loss.
        return [
            (name, mx.array(value))
            for name, value in state.items()
            if name not in ("similarity_weight", "similarity_bias")
        ]

    def __call__(self, mels: mx.array) -> mx.array:
        """[B, T, 40] mel frames -> [B, 256] unit-length voice prints."""
        final = self.lstm(mels)[:, -1]
        prints = nn.relu(self.linear(final))
        return prints / mx.linalg.norm(prints, axis=-1, keepdims=True)


def load_voice_encoder(path: Path | None = None) -> VoiceEncoder:
    checkpoint = read_legacy_torch_file(path or encoder_weights_path())
    model = VoiceEncoder()
    model.load_weights(VoiceEncoder.sanitize(checkpoint["model_state"]))
    mx.eval(model.parameters())
    return model


def embed_windows(
    model: VoiceEncoder, mels: npt.NDArray[np.float32], starts: npt.NDArray[np.int64], frames: int
) -> npt.NDArray[np.float32]:
    """[len(starts), 256]: the voice print of mel frames [start, start + frames) for each start
    (all windows of one length run as one batch; the caller keeps them inside `mels`)."""
    prints = np.zeros((len(starts), HIDDEN), dtype=np.float32)
    # Batches bound the LSTM's stored states (~80 MB a layer) for an hour of speech.
    for first in range(0, len(starts), _WINDOWS_PER_BATCH):
        chosen = np.asarray(starts[first : first + _WINDOWS_PER_BATCH])
        windows = mels[chosen[:, None] + np.arange(frames)]
        prints[first : first + len(chosen)] = np.array(model(mx.array(windows)))
    return prints


__all__ = [
    "HOP",
    "SAMPLE_RATE",
    "WINDOW_FRAMES",
    "VoiceEncoder",
    "embed_windows",
    "load_voice_encoder",
    "mel_frames",
]
