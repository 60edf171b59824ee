"""The border of a stream: what a fed piece of audio may be."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qasr.errors import InvalidInputError

# Integer PCM is scaled as 16-bit and 32-bit WAV files are: to [-1, 1).
_INTEGER_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0}


def as_piece(samples: object) -> npt.NDArray[np.float32]:
    """`samples` as 1-D float32; InvalidInputError for anything a stream cannot take."""
    array = np.asarray(samples)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise InvalidInputError(
            f"a stream takes mono pieces (1-D samples), got shape {array.shape}; average the "
            "channels first (samples.mean(axis=1) for frames x channels)"
        )
    if array.dtype in _INTEGER_SCALE:
        return (array.astype(np.float32) / _INTEGER_SCALE[array.dtype]).astype(np.float32)
    if array.size == 0:
        return np.zeros(0, dtype=np.float32)
    if array.dtype.kind != "f":
        raise InvalidInputError(
            f"a stream takes float samples in [-1, 1] or int16/int32 PCM, got dtype {array.dtype}"
        )
    piece = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(piece)):
        raise InvalidInputError(
            "the piece has NaN or infinite samples; nothing of it was taken (the stream goes on)"
        )
    return piece
