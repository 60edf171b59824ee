"""The microphone as a live stream, through `sounddevice` (the `mic` extra; PortAudio)."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from qasr.errors import AudioError, MissingExtraError


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError as error:
        raise MissingExtraError("sounddevice", "mic", "listening to a microphone") from error
    except OSError as error:  # the module is there but the PortAudio library is not
        raise AudioError(
            f"the PortAudio library is missing ({error}); install it (apt install libportaudio2, "
            "brew install portaudio) to listen to a microphone"
        ) from error
    return sounddevice


def input_devices() -> list[tuple[int, str, int]]:
    """(index, name, default sample rate) of every device with an input channel."""
    devices = _sounddevice().query_devices()
    return [
        (index, str(device["name"]), int(device["default_samplerate"]))
        for index, device in enumerate(devices)
        if device["max_input_channels"] > 0
    ]


class MicrophoneStream:
    """Mono float32 pieces from `device` (index or name; None: the system's default input) at
    `sample_rate`, for `duration` seconds (None: until `close`)."""

    def __init__(
        self,
        *,
        device: int | str | None = None,
        sample_rate: int = 16000,
        duration: float | None = None,
        piece_seconds: float = 0.1,
    ) -> None:
        sd = _sounddevice()
        try:
            info = sd.query_devices(device, kind="input")
        except (ValueError, sd.PortAudioError) as error:
            wanted = "the default input device" if device is None else f"input device {device!r}"
            raise AudioError(
                f"no microphone: {wanted} was not found ({error}); list them with "
                "`qasr listen --list-devices`"
            ) from error
        if int(info["max_input_channels"]) < 1:
            raise AudioError(f"{info['name']} has no input channel; pick another --device")
        self.sample_rate = sample_rate
        self.device_name = str(info["name"])
        self._duration = duration
        self._queue: queue.SimpleQueue[npt.NDArray[np.float32] | None] = queue.SimpleQueue()
        self._stream = sd.InputStream(
            samplerate=sample_rate,
            channels=1,
            dtype="float32",
            device=device,
            blocksize=max(1, round(piece_seconds * sample_rate)),
            callback=self._arrived,
        )
        self._closed = False

    def _arrived(self, block: Any, frames: int, timing: Any, status: Any) -> None:
        # PortAudio's thread: copy out and return at once (the buffer is reused).
        self._queue.put(np.array(block[:, 0], dtype=np.float32))

    def pieces(self) -> Iterator[npt.NDArray[np.float32]]:
        taken, limit = 0, None
        if self._duration is not None:
            limit = round(self._duration * self.sample_rate)
        self._stream.start()
        try:
            while not self._closed and (limit is None or taken < limit):
                try:
                    piece = self._queue.get(timeout=1.0)
                except queue.Empty:
                    continue
                if piece is None:
                    break
                if limit is not None:
                    piece = piece[: limit - taken]
                taken += len(piece)
                yield piece
        finally:
            self._stream.stop()
            self._stream.close()

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)
