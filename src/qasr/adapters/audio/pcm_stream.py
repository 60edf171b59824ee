"""Raw little-endian PCM16 mono from a byte stream (stdin, a socket's file, a pipe)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import numpy.typing as npt


class PcmStream:
    """Pieces of about `piece_seconds`; an odd trailing byte is dropped (half a sample). The
    pieces are at `sample_rate`: a caller resamples them if it is not 16 kHz."""

    def __init__(self, source: BinaryIO, sample_rate: int, *, piece_seconds: float = 0.1) -> None:
        if sample_rate <= 0:
            raise ValueError(f"the sample rate must be positive, got {sample_rate}")
        self.sample_rate = sample_rate
        self._source = source
        self._bytes = max(2, round(piece_seconds * sample_rate) * 2)
        self._carry = b""

    def pieces(self) -> Iterator[npt.NDArray[np.float32]]:
        while True:
            data = self._source.read(self._bytes)
            if not data:
                return
            data = self._carry + data
            whole = len(data) // 2 * 2
            self._carry = data[whole:]
            if whole:
                yield np.frombuffer(data[:whole], dtype="<i2").astype(np.float32) / 32768.0

    def close(self) -> None:
        self._source.close()
