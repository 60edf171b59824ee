"""Live audio arriving in pieces (a file played back, a microphone, a network peer), and the
recognizer ability streaming needs: continuing a forced text prefix.

Both are `typing.Protocol`s; the streaming engine (`qasr.app.use_cases.streaming`) uses them and
the fakes in the tests stand in for them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import attrs
import numpy as np
import numpy.typing as npt

from qasr.domain import RecognitionOptions


@runtime_checkable
class AudioStream(Protocol):
    """Pieces of mono float32 16 kHz samples, in order, of any size; the iteration ends with the
    audio (a file's end, a duration, a closed connection). `close` stops a live source early."""

    sample_rate: int

    def pieces(self) -> Iterator[npt.NDArray[np.float32]]: ...

    def close(self) -> None: ...


@attrs.frozen
class ContinuationOptions(RecognitionOptions):
    """Options whose `prefix` the recognizer must force after the prompt: the model continues
    that text. A `PrefixRecognizer` then returns the whole text (prefix and continuation) as the
    transcript's `text`. A recognizer without the ability treats these as plain options.

    `reuse_work` marks a stream's step: the same growing audio is decoded again and again, so
    a recognizer may keep work of one call (encoder windows, the prompt's KV cache) for the
    next. True reuses it, False computes it all again the same way (the result is the same to
    the bit either way: reuse must never change the text); None is a one-off decode."""

    prefix: str = ""
    reuse_work: bool | None = None


@runtime_checkable
class PrefixRecognizer(Protocol):
    """A recognizer that honours `ContinuationOptions.prefix`, with its tokenizer exposed so a
    caller can take back the last tokens of a text (`decode_tokens` of a cut inside a multi-byte
    character gives U+FFFD)."""

    continues_prefix: bool

    def encode_text(self, text: str) -> list[int]: ...

    def decode_tokens(self, ids: Sequence[int]) -> str: ...
