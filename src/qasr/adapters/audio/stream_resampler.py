"""Resampling pieces of a live stream to 16 kHz, the same however the stream is cut.

The whole-signal `resample` is run on blocks aligned to the rate ratio, each with enough input on
both sides for the windowed-sinc kernel, so the output equals resampling everything at once (up
to float rounding) and only the kernel's reach is held back until more audio comes or `flush`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from qasr.adapters.audio.resample import ZERO_CROSSINGS, resample
from qasr.domain import SAMPLE_RATE


class StreamResampler:
    def __init__(self, from_rate: int, to_rate: int = SAMPLE_RATE) -> None:
        if from_rate <= 0:
            raise ValueError(f"the sample rate must be positive, got {from_rate}")
        divisor = math.gcd(from_rate, to_rate)
        self.from_rate, self.to_rate = from_rate, to_rate
        self._up, self._down = to_rate // divisor, from_rate // divisor
        # Input samples the kernel reaches on each side, rounded up to whole ratio blocks.
        reach = ZERO_CROSSINGS * max(1, math.ceil(self._down / self._up)) + 2
        self._context = -(-reach // self._down) * self._down
        self._held = np.zeros(0, dtype=np.float32)  # input from absolute sample `_held_from`
        self._held_from = 0
        self._done = 0  # input samples already turned into output (a multiple of `_down`)

    def process(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if self.from_rate == self.to_rate:
            return np.asarray(samples, dtype=np.float32)
        self._held = np.concatenate([self._held, np.asarray(samples, dtype=np.float32)])
        available = self._held_from + len(self._held)
        ready = (available - self._context) // self._down * self._down
        if ready <= self._done:
            return np.zeros(0, dtype=np.float32)
        return self._convert(ready, ready + self._context)

    def flush(self) -> npt.NDArray[np.float32]:
        if self.from_rate == self.to_rate:
            return np.zeros(0, dtype=np.float32)
        end = self._held_from + len(self._held)
        if end <= self._done:
            return np.zeros(0, dtype=np.float32)
        return self._convert(end, end)

    def _convert(self, upto: int, through: int) -> npt.NDArray[np.float32]:
        start = max(0, self._done - self._context)
        block = self._held[start - self._held_from : through - self._held_from]
        out = resample(block, self.from_rate, self.to_rate)
        first = (self._done - start) * self._up // self._down
        last = -(-(upto - start) * self._up // self._down)
        self._done = upto
        keep = max(0, self._done - self._context)
        self._held = self._held[keep - self._held_from :]
        self._held_from = keep
        return out[first:last]
